"""Period comparison (``voronka.audit.compare``): Newcombe's published example, the periods, and a
simulation of false alarms and power."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from voronka.audit.compare import compare_steps, previous_period


def test_newcombe_interval_matches_the_published_example() -> None:
    """Newcombe (1998), Stat Med 17:873, example (56/70 vs 48/80), method 10: 0.0524 to 0.3339."""
    change = compare_steps("s", (56, 70), (48, 80))
    assert change.change == pytest.approx(0.2)
    assert change.change_low == pytest.approx(0.0524, abs=5e-4)
    assert change.change_high == pytest.approx(0.3339, abs=5e-4)
    assert change.beyond_noise


def test_periods_before_and_a_year_earlier() -> None:
    start, end = dt.date(2025, 3, 1), dt.date(2025, 3, 31)
    assert previous_period(start, end) == (dt.date(2025, 1, 29), dt.date(2025, 2, 28))
    assert previous_period(start, end, "year") == (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    assert previous_period(dt.date(2024, 2, 29), dt.date(2024, 2, 29), "year") == (
        dt.date(2023, 2, 28),
        dt.date(2023, 2, 28),
    )


def test_no_deals_is_not_beyond_noise() -> None:
    change = compare_steps("s", (0, 0), (5, 10))
    assert change.change is None and not change.beyond_noise


def test_false_alarms_near_five_percent_and_power_on_a_planted_effect() -> None:
    """500 worlds of 300 vs 300 deals: no change (p = 0.4) → about 5% flagged; a planted
    +12-point change → flagged in most worlds."""
    rng = np.random.default_rng(7)
    n, worlds = 300, 500
    null = [
        compare_steps("s", (rng.binomial(n, 0.4), n), (rng.binomial(n, 0.4), n)).beyond_noise
        for _ in range(worlds)
    ]
    planted = [
        compare_steps("s", (rng.binomial(n, 0.52), n), (rng.binomial(n, 0.4), n)).beyond_noise
        for _ in range(worlds)
    ]
    assert 0.025 <= np.mean(null) <= 0.075
    assert np.mean(planted) >= 0.85


def test_rates_of_zero_and_one_give_an_interval() -> None:
    change = compare_steps("s", (10, 10), (0, 12))
    assert change.change == 1.0
    assert change.change_low is not None and 0 < change.change_low < change.change_high <= 1
    assert change.beyond_noise
