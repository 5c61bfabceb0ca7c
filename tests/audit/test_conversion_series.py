"""Conversion over time per stage (the chart's data): p-chart limits and the funnel-wide series."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from leakgen import demo, stable
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from voronka.audit.anomalies import build_anomalies, build_conversion_series, p_chart_limits
from voronka.demo import SOURCE_NAMES, ConversionShift


def test_p_chart_limits_by_hand() -> None:
    """Hand computation: 5/10 and 5/10 pool to 0.5. Bin(10, 0.5): P(X ≤ 0) = 1/1024 < 0.00135
    ≤ P(X ≤ 1) = 11/1024, so the 3σ lower limit is 1/10 and, by symmetry, the upper 9/10."""
    centre, low, high = p_chart_limits(np.array([5, 5]), np.array([10, 10]))
    assert centre == 0.5
    assert list(low) == [0.1, 0.1]
    assert list(high) == [0.9, 0.9]


def test_p_chart_limits_approach_the_normal_ones_for_large_n() -> None:
    """Reference: for n = 10 000 and p̄ = 0.3 the exact limits lie within 1/n of the textbook
    p̄ ± 3·sqrt(p̄(1−p̄)/n); they widen as n shrinks, and a period without trials has none."""
    centre, low, high = p_chart_limits(np.array([3000, 30, 0]), np.array([10_000, 100, 0]))
    assert centre == pytest.approx(3030 / 10_100)
    sd = np.sqrt(centre * (1 - centre) / 10_000)
    assert low[0] == pytest.approx(centre - 3 * sd, abs=1.5e-4)
    assert high[0] == pytest.approx(centre + 3 * sd, abs=1.5e-4)
    assert high[1] - low[1] > high[0] - low[0]
    assert np.isnan(low[2]) and np.isnan(high[2])


def test_p_chart_false_alarm_rate_on_a_stable_process() -> None:
    """Simulation: 20 000 periods of Bin(n, 0.2) with n from 20 to 400, limits computed from the
    true centre's estimate. A rate outside the 3σ limits has probability ≤ 0.27% by
    construction (discreteness only lowers it), so the share outside stays below 0.4%."""
    rng = np.random.default_rng(7)
    n = rng.integers(20, 400, size=20_000)
    x = rng.binomial(n, 0.2)
    _, low, high = p_chart_limits(x, n)
    rate = x / n
    outside = np.mean((rate < low) | (rate > high))
    assert 0 < outside < 0.004


@pytest.fixture(scope="module")
def shifted():  # type: ignore[no-untyped-def]
    """Demo (stable funnel) where every source's first call converts ×0.7 from 2026-02-02."""
    shifts = tuple(
        ConversionShift(source, "new_request", date(2026, 2, 2), 0.7) for source in SOURCE_NAMES
    )
    return demo(12000, 3, stable(conversion_shifts=shifts))[1]


def test_series_per_step_with_intervals_and_limits(shifted) -> None:  # type: ignore[no-untyped-def]
    """One series per step in funnel order; the rate is successes/trials, the interval agrees
    with statsmodels' Wilson interval, the limits with scipy's binomial quantiles at the pooled
    rate, and the flags say which rates fall outside."""
    series = build_conversion_series(shifted)
    ids = shifted.funnel.stage_ids
    assert [s.stage for s in series] == [i for i in ids[:-1] if i in {s.stage for s in series}]
    assert series[0].stage == ids[0] and series[0].next_stage == ids[1]
    for s in series:
        x, n = np.array(s.successes), np.array(s.trials)
        assert len(s.periods) == len(n) == len(s.rate) == len(s.limit_low) > 0
        assert list(s.periods) == sorted(s.periods)
        assert s.rate == pytest.approx(tuple(x / n))
        lo, hi = proportion_confint(x, n, method="wilson")
        assert s.ci_low == pytest.approx(tuple(lo)) and s.ci_high == pytest.approx(tuple(hi))
        assert s.centre == pytest.approx(x.sum() / n.sum())
        alpha = stats.norm.cdf(-3)
        assert s.limit_high == pytest.approx(tuple(stats.binom.ppf(1 - alpha, n, s.centre) / n))
        flags = tuple(
            bool(r < a or r > b) for r, a, b in zip(s.rate, s.limit_low, s.limit_high, strict=True)
        )
        assert s.out_of_limits == flags


def test_series_shows_the_shift_the_anomaly_scan_found(shifted) -> None:  # type: ignore[no-untyped-def]
    """The planted drop (×0.7 from 2026-02-02) is a funnel-wide anomaly of the first step, and
    the series is the one the scan read: its pooled rates before and after ``since`` equal the
    anomaly's ``before`` and ``after`` exactly, and the drop is visible in the series."""
    anomalies = build_anomalies(shifted)
    first = shifted.funnel.stage_ids[0]
    wide = [
        a for a in anomalies if a.segment is None and a.kind == "conversion" and a.stage == first
    ]
    assert len(wide) == 1 and wide[0].direction == "down"
    a = wide[0]
    s = next(s for s in build_conversion_series(shifted) if s.stage == first)
    assert s.period == a.period
    i = s.periods.index(a.since)
    x, n = np.array(s.successes), np.array(s.trials)
    assert x[:i].sum() / n[:i].sum() == pytest.approx(a.before)
    assert x[i:].sum() / n[i:].sum() == pytest.approx(a.after)
    assert a.after / a.before == pytest.approx(0.7, rel=0.1)


def test_stable_series_rarely_leave_the_limits() -> None:
    """No planted effect: at most a few periods of all steps fall outside the 3σ limits (the
    expected share is ≤ 0.27%; allow 2% for periods of a handful of deals and the demo's own
    mix of sources)."""
    series = build_conversion_series(demo(6000, 21, stable())[1])
    flags = [f for s in series for f in s.out_of_limits]
    assert len(flags) > 50
    assert sum(flags) / len(flags) <= 0.02
