"""The model-based change-point scan: calibrated under growth, season and overdispersion, and
finding a planted step."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from voronka.audit.stats.glm_scan import model_scan

WEEKS = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(78)]


def _volume(rng: np.random.Generator, step: float = 1.0) -> np.ndarray:
    t = np.arange(78)
    mean = 100 * 1.5 ** (t / 78) * (1 + 0.15 * np.sin(2 * np.pi * t / 52))
    mean = mean * np.where(t >= 52, step, 1.0)
    # Overdispersed: gamma-Poisson with 8% extra week-to-week variation.
    return rng.poisson(mean * rng.gamma(1 / 0.08**2, 0.08**2, 78))


def test_volume_null_false_alarms_are_near_the_level() -> None:
    """Growth ×1.5, a season and 8% overdispersion: p ≤ 5% in about 5% of 100 series (≤ 12%)."""
    rng = np.random.default_rng(1)
    hits = 0
    for i in range(100):
        y = _volume(rng)
        scan = model_scan(y, np.full(78, 7.0), WEEKS, kind="volume", simulations=199, seed=i)
        assert scan is not None
        hits += scan.p_value <= 0.05
    assert hits <= 12


def test_conversion_null_with_wobble_is_calibrated() -> None:
    """A rate that wobbles 2 points week to week around 40%: p ≤ 5% in at most 12 of 100."""
    rng = np.random.default_rng(2)
    hits = 0
    for i in range(100):
        n = rng.integers(60, 120, 78)
        p = np.clip(0.4 + rng.normal(0, 0.02, 78), 0, 1)
        x = rng.binomial(n, p)
        scan = model_scan(x, n, WEEKS, kind="conversion", simulations=199, seed=i)
        assert scan is not None
        hits += scan.p_value <= 0.05
    assert hits <= 12


def test_a_planted_step_is_found_at_its_date() -> None:
    """A 25% drop of a 40% rate from week 52 (80 deals a week): found, dated within 4 weeks, and
    the levels read ≈ 40% → 30%."""
    rng = np.random.default_rng(3)
    n = np.full(78, 80)
    p = np.where(np.arange(78) >= 52, 0.3, 0.4)
    x = rng.binomial(n, p)
    scan = model_scan(x, n, WEEKS, kind="conversion", simulations=199)
    assert scan is not None and scan.p_value < 0.01
    assert abs(scan.index - 52) <= 4
    assert abs(scan.before - 0.4) < 0.04 and abs(scan.after - 0.3) < 0.03
