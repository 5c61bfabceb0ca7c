"""Wilson intervals and the simulated money-ratio intervals."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from voronka.audit.stats import economics_intervals, wilson_interval


@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_wilson_interval_matches_statsmodels(confidence: float) -> None:
    """Reference: statsmodels proportion_confint(method="wilson") on a grid of counts."""
    trials = np.array([1, 2, 5, 10, 10, 10, 37, 100, 1000, 12345])
    successes = np.array([0, 1, 5, 0, 3, 10, 11, 50, 1, 12000])
    lo, hi = wilson_interval(successes, trials, confidence=confidence)
    ref_lo, ref_hi = proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")
    np.testing.assert_allclose(lo, ref_lo, atol=1e-12)
    np.testing.assert_allclose(hi, ref_hi, atol=1e-12)


def test_wilson_interval_hand_computation() -> None:
    """Hand computation for 3 of 10 at z = 1.959964: centre 0.35557, half-width 0.24772."""
    lo, hi = wilson_interval(3, 10)
    assert isinstance(lo, float)
    assert lo == pytest.approx(0.1077913, abs=1e-6)
    assert hi == pytest.approx(0.6032219, abs=1e-6)


def test_wilson_interval_empty_is_nan_and_broadcasts() -> None:
    """No trials: no interval; a scalar count broadcasts against an array of trials."""
    lo, hi = wilson_interval([0, 2], [0, 4])
    assert np.isnan(lo[0]) and np.isnan(hi[0])
    assert 0 < lo[1] < 0.5 < hi[1] < 1
    lo2, _ = wilson_interval(1, np.array([2, 4, 8]))
    assert lo2.shape == (3,)
    assert np.all(np.diff(lo2) < 0)


def test_wilson_interval_coverage_by_simulation() -> None:
    """Simulation: for p = 0.3, n = 40 the 95% interval covers p in about 95% of samples."""
    rng = np.random.default_rng(7)
    x = rng.binomial(40, 0.3, size=20000)
    lo, hi = wilson_interval(x, 40)
    coverage = np.mean((lo <= 0.3) & (hi >= 0.3))
    assert 0.93 < coverage < 0.97


def test_economics_intervals_match_delta_method_for_large_counts() -> None:
    """Reference: the delta method. With 10 000 leads, 1 000 won, mean amount 100 (sd 50),
    revenue ≈ 1e5 with relative sd sqrt(0.09/10000/0.01 + 2500/1000/1e4) = 0.0339."""
    res = economics_intervals(10000, 1000, 100.0, 50.0, 50000.0, confidence=0.9, draws=20000)
    rel_sd = np.sqrt(0.1 * 0.9 / 10000 / 0.01 + 2500 / 1000 / 100**2)
    lo, hi = float(res.revenue[0]), float(res.revenue[1])
    assert lo == pytest.approx(1e5 * (1 - 1.645 * rel_sd), rel=0.01)
    assert hi == pytest.approx(1e5 * (1 + 1.645 * rel_sd), rel=0.01)
    # ROMI = revenue / spend − 1 is a linear function of revenue here.
    assert float(res.romi[0]) == pytest.approx(lo / 50000 - 1, rel=0.01)
    assert float(res.p_profitable) == 1.0


def test_economics_intervals_without_spend_are_nan() -> None:
    """Sources without spend get no CAC/ROMI interval; the revenue interval still exists."""
    res = economics_intervals([100, 100], [10, 10], [50.0, 50.0], [10.0, 10.0], [np.nan, 200.0])
    assert np.isnan(res.cac[0][0]) and np.isnan(res.romi[1][0]) and np.isnan(res.p_profitable[0])
    assert np.isfinite(res.cac[0][1]) and res.romi[0][1] < res.romi[1][1]
    assert res.revenue[0][0] < 500 < res.revenue[1][0]
