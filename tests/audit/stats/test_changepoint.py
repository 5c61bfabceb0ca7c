"""Binomial and Poisson change-point scans: calibration under the null and power."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from voronka.audit.stats import binomial_changepoint, poisson_changepoint


def test_binomial_scan_statistic_hand_computation() -> None:
    """Hand computation: 2 periods each side, rates 0.5 → 0.25 with 20 trials per period;
    Λ = 2·[20 ln .5 + 20 ln .5 + 10 ln .25 + 30 ln .75 − 30 ln(30/80) − 50 ln(50/80)]."""
    x, n = np.array([10, 10, 5, 5]), np.full(4, 20)
    cp = binomial_changepoint(x, n, simulations=99)
    assert cp is not None
    kernel = 2 * (
        20 * np.log(0.5)
        + 20 * np.log(0.5)
        + 10 * np.log(0.25)
        + 30 * np.log(0.75)
        - 30 * np.log(30 / 80)
        - 50 * np.log(50 / 80)
    )
    assert cp.statistic == pytest.approx(kernel)
    assert (cp.index, cp.before, cp.after, cp.direction) == (2, 0.5, 0.25, "down")


def _assert_calibrated(p: np.ndarray) -> None:
    """P(p ≤ α) ≈ α in the range that matters (the sequential p-values are discrete and a little
    conservative at the top, so a Kolmogorov–Smirnov test of uniformity is too strict)."""
    for alpha in (0.05, 0.1, 0.2, 0.5):
        share = float(np.mean(p <= alpha))
        assert alpha / 2.5 < share < alpha * 1.5, (alpha, share)


def test_binomial_scan_null_p_values_are_roughly_uniform() -> None:
    """Simulation: 300 series with a constant rate and uneven trials → P(p ≤ α) ≈ α."""
    rng = np.random.default_rng(42)
    ps = []
    for i in range(300):
        n = rng.integers(5, 60, size=30)
        x = rng.binomial(n, 0.35)
        cp = binomial_changepoint(x, n, simulations=199, seed=i)
        assert cp is not None
        ps.append(cp.p_value)
    _assert_calibrated(np.array(ps))


def test_binomial_scan_finds_planted_shift() -> None:
    """Simulation: rate 0.40 → 0.30 (a quarter down) from period 26 of 52, 60 trials a period:
    found in most seeds, direction down, the estimated start within 4 periods."""
    rng = np.random.default_rng(1)
    hits = 0
    for seed in range(20):
        n = rng.integers(40, 80, size=52)
        x = rng.binomial(n, np.where(np.arange(52) >= 26, 0.30, 0.40))
        cp = binomial_changepoint(x, n, simulations=499, seed=seed)
        assert cp is not None
        if cp.p_value < 0.01 and cp.direction == "down" and abs(cp.index - 26) <= 4:
            hits += 1
    assert hits >= 17


def test_strong_shift_gets_p_below_simulation_resolution() -> None:
    """A huge shift: the Monte Carlo floor 1/(B+1) is replaced by the Bonferroni χ² bound."""
    n = np.full(20, 500)
    x = np.where(np.arange(20) >= 10, 100, 250)
    cp = binomial_changepoint(x, n, simulations=99)
    assert cp is not None
    assert cp.p_value < 1e-10
    assert cp.p_value == pytest.approx(cp.splits * stats.chi2.sf(cp.statistic, 1))


def test_binomial_scan_skips_empty_periods_and_short_series() -> None:
    """Periods without trials are skipped but indices refer to the input series."""
    n = np.array([50, 0, 50, 50, 0, 50, 50, 50])
    x = np.array([40, 0, 40, 10, 0, 10, 10, 10])
    cp = binomial_changepoint(x, n, simulations=99)
    assert cp is not None and cp.index == 3 and cp.direction == "down"
    assert binomial_changepoint([1, 2, 3], [5, 5, 5]) is None
    assert binomial_changepoint([0, 0, 0, 0], [5, 5, 5, 5]) is None


def test_poisson_scan_null_calibration_and_power() -> None:
    """Simulation: constant volume gives P(p ≤ α) ≈ α; volume 30 → 40 a week is found."""
    rng = np.random.default_rng(9)
    ps = []
    for i in range(200):
        cp = poisson_changepoint(rng.poisson(30, size=26), simulations=199, seed=i)
        assert cp is not None
        ps.append(cp.p_value)
    _assert_calibrated(np.array(ps))
    counts = rng.poisson(np.where(np.arange(40) >= 25, 40, 30))
    cp = poisson_changepoint(counts, simulations=999)
    assert cp is not None
    assert cp.p_value < 0.01 and cp.direction == "up" and abs(cp.index - 25) <= 3
    assert cp.before == pytest.approx(counts[: cp.index].mean())


def test_poisson_scan_uses_exposure() -> None:
    """A half-length last period with half the count is no shift at all."""
    counts = np.array([30, 30, 30, 30, 30, 15])
    cp = poisson_changepoint(counts, [1, 1, 1, 1, 1, 0.5], simulations=99)
    assert cp is not None and cp.statistic == pytest.approx(0.0)
