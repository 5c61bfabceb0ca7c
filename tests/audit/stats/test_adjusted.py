"""Stratified segment gaps and their shrinkage against statsmodels and hand computation."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import StratifiedTable

from voronka.audit.stats.adjusted import shrink_gaps, stratified_gap


def test_mantel_haenszel_statistic_equals_statsmodels() -> None:
    """z² equals statsmodels' CMH statistic with continuity correction; the sign follows the
    difference (here the segment converts worse, so p < ½)."""
    x, n = np.array([10, 30, 5]), np.array([40, 60, 20])
    y, m = np.array([50, 80, 20]), np.array([100, 120, 50])
    gap = stratified_gap(x, n, y, m)
    assert gap is not None
    tables = [np.array([[xi, ni - xi], [yi, mi - yi]]) for xi, ni, yi, mi in zip(x, n, y, m, strict=True)]
    st = StratifiedTable(tables).test_null_odds(correction=True)
    from scipy import stats

    z = stats.norm.ppf(gap.p_value)
    assert z**2 == pytest.approx(st.statistic, rel=1e-9)
    assert gap.p_value < 0.5


def test_gap_is_zero_when_the_mix_explains_everything() -> None:
    """The segment converts like its peers inside each stratum but has more bad leads: the raw
    gap is large, the adjusted one zero (lead quality, not execution)."""
    x, n = np.array([10, 160]), np.array([100, 200])  # 10% and 80%
    y, m = np.array([30, 640]), np.array([300, 800])
    gap = stratified_gap(x, n, y, m)
    assert gap is not None
    assert gap.gap == pytest.approx(0.0)
    assert gap.raw_gap == pytest.approx(170 / 300 - 670 / 1100)
    assert gap.p_value > 0.4


def test_noise_is_pulled_in_and_a_real_gap_keeps_its_size() -> None:
    """Nine segments with no real gap and one 5 standard errors out: the nine are pulled to the
    common mean, the real one keeps most of its size and its interval covers it."""
    d = np.array([0.01, -0.02, 0.0, 0.015, -0.01, 0.005, -0.005, 0.02, -0.015, -0.18])
    se = np.full(10, 0.035)
    out = shrink_gaps(d, se)
    assert np.all(np.abs(out.gap[:9] - out.mean) < np.abs(d[:9] - out.mean) + 1e-12)
    assert out.gap[9] < -0.15 and out.low[9] < -0.18 < out.high[9]
    assert out.p_real[9] > 0.95 and np.all(out.p_real[:9] < 0.5)


def test_no_real_differences_shrink_to_the_mean() -> None:
    """Pure noise: (almost) everything is the spike, every gap is pulled close to the mean."""
    rng = np.random.default_rng(0)
    se = np.full(10, 0.05)
    d = rng.normal(0, 0.01, 10)
    out = shrink_gaps(d, se)
    assert np.all(np.abs(out.gap - out.mean) <= 0.01)


def test_vectorised_shrinkage_equals_the_scalar_bisection() -> None:
    """Speed (issue 11): the intervals, once one bisection per segment with scipy.stats' normal,
    are bisected for all segments at once; on 40 generated breakdowns the bounds are the same
    numbers (the same halvings of the same interval), and the densities equal scipy.stats'."""
    from oracles import mixture_quantile
    from scipy import stats

    from voronka.audit.stats.adjusted import _norm_pdf

    rng = np.random.default_rng(11)
    for _ in range(40):
        k = int(rng.integers(2, 15))
        se = rng.uniform(0.005, 0.08, k)
        d = rng.normal(0, 0.02, k) + np.where(rng.random(k) < 0.2, rng.normal(0, 0.15, k), 0.0)
        out = shrink_gaps(d, se)
        s2 = np.maximum(se**2, 1e-12)
        mu_sd = np.sqrt(np.pi / 2) * np.sqrt(1 / np.sum(1 / s2))
        b = out.tau2 / (out.tau2 + s2)
        slab_mean = out.mean + b * (d - out.mean)
        slab_sd = np.sqrt(np.maximum(b * s2 + (1 - b) ** 2 * mu_sd**2, 1e-16))
        for i in range(k):
            args = (out.p_real[i], out.mean, mu_sd, slab_mean[i], slab_sd[i])
            assert out.low[i] == pytest.approx(mixture_quantile(0.025, *args), rel=1e-12, abs=1e-15)
            assert out.high[i] == pytest.approx(mixture_quantile(0.975, *args), rel=1e-12, abs=1e-15)
        x = rng.normal(0, 1, 50)
        scale = rng.uniform(0.01, 3, 50)
        np.testing.assert_allclose(_norm_pdf(x, 0.3, scale), stats.norm.pdf(x, 0.3, scale),
                                   rtol=1e-14)
