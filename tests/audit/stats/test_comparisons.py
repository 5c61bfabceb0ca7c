"""Segment-against-rest test and Benjamini–Hochberg."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests

from voronka.audit.stats import benjamini_hochberg, segment_vs_rest_pvalue


@pytest.mark.parametrize("alternative", ["less", "greater"])
def test_segment_vs_rest_matches_fisher_exact(alternative: str) -> None:
    """Reference: scipy.stats.fisher_exact on the 2×2 table segment/rest × moved/stopped."""
    cases = [(3, 20, 40, 100), (0, 5, 50, 100), (30, 100, 300, 1000), (9, 10, 1, 10)]
    x, n, y, m = (np.array(c) for c in zip(*cases, strict=True))
    got = segment_vs_rest_pvalue(x, n, y, m, alternative=alternative)  # type: ignore[arg-type]
    for i, (a, b, c, d) in enumerate(cases):
        ref = fisher_exact([[a, b - a], [c, d - c]], alternative=alternative).pvalue
        assert got[i] == pytest.approx(ref, rel=1e-9)


def test_segment_vs_rest_empty_side_is_nan() -> None:
    """A segment that is the whole funnel has nothing to compare against."""
    p = segment_vs_rest_pvalue([3, 3], [10, 10], [0, 5], [0, 10])
    assert np.isnan(p[0]) and 0 < p[1] <= 1


def test_segment_vs_rest_null_is_not_anticonservative() -> None:
    """Simulation: with equal rates, P(p ≤ 0.05) is at most about 5% (Fisher is conservative)."""
    rng = np.random.default_rng(3)
    x = rng.binomial(80, 0.3, size=4000)
    y = rng.binomial(900, 0.3, size=4000)
    p = segment_vs_rest_pvalue(x, 80, y, 900)
    assert 0.02 < np.mean(p <= 0.05) <= 0.055


def test_benjamini_hochberg_matches_statsmodels() -> None:
    """Reference: statsmodels multipletests(method="fdr_bh"), including ties and NaNs skipped."""
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(size=50), rng.uniform(0, 0.001, size=5), [0.02, 0.02]])
    ref = multipletests(p, method="fdr_bh")[1]
    np.testing.assert_allclose(benjamini_hochberg(p), ref, rtol=1e-12)
    with_nan = np.insert(p, [3, 10], np.nan)
    got = benjamini_hochberg(with_nan)
    assert np.isnan(got[3]) and np.isnan(got[11])
    np.testing.assert_allclose(got[np.isfinite(got)], ref, rtol=1e-12)


def test_benjamini_hochberg_hand_example() -> None:
    """Hand computation: p = (0.01, 0.04, 0.03, 0.5), m = 4 → q = (0.04, 0.0533, 0.0533, 0.5)."""
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.5])
    np.testing.assert_allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.5])
    assert benjamini_hochberg([]).size == 0
