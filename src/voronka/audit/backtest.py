"""The ``forecast`` section as the audit builds it: the forecast of the plan period and its rolling
backtest (twelve mid-month forecasts, each from the data known then), scored and used to widen the
current range when it under-covered (:mod:`voronka.audit.calibration`). The forecast itself is
:mod:`voronka.audit.forecast`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from voronka.audit.calibration import Calibration, backtest_plan, calibrate, naive_p_plan
from voronka.audit.forecast import (
    LEAD_HISTORY_DAYS,
    BacktestMonth,
    Forecast,
    Simulated,
    forecast_from_simulation,
    simulate_moment,
)
from voronka.audit.forecast_inputs import DAY, _midnight, month_bounds
from voronka.audit.stats.parallel import run_all
from voronka.engine import MomentState

if TYPE_CHECKING:
    from voronka.engine import EventLog
    from voronka.funnel import Funnel

BACKTEST_MONTHS = 12
"""Months of the rolling backtest (fewer when the history is shorter)."""

UNDATED_SHARE = 0.02
"""Largest share of closed deals without a closing date that still allows a backtest."""

LARGEST_DEALS = 50
"""Open deals with the largest amounts the revenue follows one by one."""

def backtest_months(as_of: dt.datetime, months: int = 6) -> list[tuple[dt.date, dt.date]]:
    """The last ``months`` complete calendar months before ``as_of`` (first, last day), oldest
    first. A month is complete when its last moment is not after ``as_of``."""
    out: list[tuple[dt.date, dt.date]] = []
    # The month containing as_of is never complete: it ends after as_of.
    first, _ = month_bounds(as_of.date())
    while len(out) < months:
        first = (first - DAY).replace(day=1)
        out.append(month_bounds(first))
    return out[::-1]


def month_middle(start: dt.date, end: dt.date) -> dt.datetime:
    """The middle moment of the days ``start`` … ``end``."""
    return _midnight(start) + (_midnight(end) + DAY - _midnight(start)) / 2


def backtest_row(
    snapshot: MomentState,
    simulated: Simulated,
    *,
    month: tuple[dt.date, dt.date],
    actual: int,
    actual_revenue: float | None,
    seed: int,
    plan: float | None = None,
    last_month: int | None = None,
) -> BacktestMonth:
    """One backtest month: the forecast from ``snapshot`` (taken mid-month; ``simulated`` its
    :func:`simulate_moment` for the month, with ``seed``) against ``actual``; scored against
    ``plan`` (else last month's wins + 10 %) when ``last_month`` is known."""
    target = backtest_plan(plan, last_month) if last_month is not None else plan
    f = forecast_from_simulation(
        snapshot, simulated, period_start=month[0], period_end=month[1], seed=seed, plan=target,
    )
    return BacktestMonth(
        month=month[0],
        as_of=snapshot.as_of,
        won_so_far=f.won_so_far,
        expected=f.expected,
        p10=f.p10,
        p90=f.p90,
        actual=actual,
        inside=f.p10 <= actual <= f.p90,
        revenue_expected=f.revenue.expected if f.revenue else None,
        revenue_p10=f.revenue.p10 if f.revenue else None,
        revenue_p90=f.revenue.p90 if f.revenue else None,
        revenue_actual=actual_revenue,
        p50=f.p50,
        plan=target,
        p_plan=f.p_plan,
        naive_p_plan=(
            naive_p_plan(last_month, target)
            if last_month is not None and target is not None
            else None
        ),
    )


def coverage(rows: tuple[BacktestMonth, ...]) -> float | None:
    """Share of backtest months whose actual fell inside the 80% range (None without months)."""
    return sum(r.inside for r in rows) / len(rows) if rows else None


def calibration_of(rows: Sequence[BacktestMonth]) -> Calibration | None:
    """The :class:`Calibration` of backtest rows (see :mod:`voronka.audit.calibration`)."""
    scored = [r for r in rows if r.p_plan is not None and r.plan is not None]
    return calibrate(
        [r.p10 for r in rows],
        [r.p50 if r.p50 is not None else r.expected for r in rows],
        [r.p90 for r in rows],
        [r.actual for r in rows],
        p_plan=[r.p_plan for r in scored] if len(scored) == len(rows) else (),
        plan_met=[r.actual >= (r.plan or 0.0) for r in rows] if len(scored) == len(rows) else (),
        naive=[r.naive_p_plan or 0.0 for r in rows] if len(scored) == len(rows) else (),
    )


def build_forecast(
    log: EventLog,
    funnel: Funnel,
    *,
    plan: float | None = None,
    plan_revenue: float | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    n_sims: int = 2000,
    seed: int = 0,
    backtest: int = BACKTEST_MONTHS,
) -> Forecast:
    """The ``forecast`` section for ``log``: plan probability and a backtest of ``backtest`` months.

    The period defaults to the calendar month containing ``log.as_of``. Each backtest month is
    forecast from the log as it stood in the middle of that month (the engine derives every
    moment's state in one pass), with half the simulations, and compared with the deals actually
    won in it. When the data does not say when its closed deals closed, there is no backtest
    (``backtest_status = "no_closing_dates"``): a past month could only be seen with its future.
    When the backtest under-covered, the range is widened (:mod:`voronka.audit.calibration`).
    """
    from voronka.engine import MomentSpec, forecast_moments

    as_of = log.as_of
    default_start, default_end = month_bounds(as_of.date())
    start = period_start or default_start
    end = period_end or (month_bounds(start)[1] if period_start else default_end)
    n_stages = funnel.won_index + 1
    months = backtest_months(as_of, backtest + 1) if backtest else []
    specs = [MomentSpec(as_of, start, end)]
    specs += [MomentSpec(month_middle(*m), m[0], m[1]) for m in months[1:]]
    moments = forecast_moments(
        log, specs, arrival_days=LEAD_HISTORY_DAYS, largest_limit=LARGEST_DEALS,
        won_ranges=[(_midnight(m[0]), _midnight(m[1]) + DAY, as_of) for m in months],
    )
    snapshots, actuals = moments.states, moments.won
    status = "ok"
    if backtest and moments.closed and moments.undated > UNDATED_SHARE * moments.closed:
        status, backtest = "no_closing_dates", 0
    past_months = months[1:] if backtest else []
    past = [
        (i, month, snapshot)
        for i, (month, snapshot) in enumerate(zip(past_months, snapshots[1:], strict=False))
        if not snapshot.episodes.empty  # else no data yet at that time
    ]
    # Every simulation at once (the current one's and the backtest's): each has its own seed, so
    # the order they run in does not change a number. The current one first: it has twice the
    # simulations and up to a whole month ahead, the longest job, which run last would leave the
    # other core idle while it finishes.
    jobs: list[Callable[[], Simulated]] = [
        functools.partial(
            simulate_moment, snapshots[0], n_stages, period_start=start, period_end=end,
            n_sims=n_sims, seed=seed, largest=moments.largest,
        )
    ]
    jobs += [
        functools.partial(
            simulate_moment, snapshot, n_stages, period_start=month[0], period_end=month[1],
            n_sims=max(n_sims // 2, 500), seed=seed + 1 + i,
        )
        for i, month, snapshot in past
    ]
    current, *simulated = run_all(jobs, "voronka-forecast")
    rows = [
        backtest_row(
            snapshot, sim, month=month, actual=actuals[i + 1][0],
            actual_revenue=actuals[i + 1][1], seed=seed + 1 + i, plan=None,
            last_month=actuals[i][0],
        )
        for (i, month, snapshot), sim in zip(past, simulated, strict=False)
    ]
    if backtest and not rows and status == "ok":
        status = "no_history"
    calibration = calibration_of(rows)
    widen = calibration.widened_by if calibration is not None else 1.0
    result = forecast_from_simulation(
        snapshots[0], current, period_start=start, period_end=end, plan=plan,
        plan_revenue=plan_revenue, seed=seed, widen=widen,
    )
    return dataclasses.replace(
        result,
        backtest=tuple(rows),
        backtest_coverage=coverage(tuple(rows)),
        calibration=calibration,
        backtest_status=status,
    )
