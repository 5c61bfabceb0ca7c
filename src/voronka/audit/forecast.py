"""The ``forecast`` section: the probability of meeting the plan, and a backtest of the forecast.

The forecast is a Monte Carlo (:mod:`voronka.audit.simulate`) from the state of the funnel at
``as_of``: every open deal moves on from its current stage with rates that depend on how long it
has already waited there; new leads arrive until the period ends at the rate of the last eight
weeks with its weekday pattern; deals already won in the period count. Parker (2017) on Monte Carlo
sales forecasting; STATISTICS.md ("Probability of the plan").
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from voronka.audit.hazards import FloatArray, hazards_from_episodes, open_state
from voronka.audit.simulate import Arrivals, simulate_plan
from voronka.engine.moments import MomentState

if TYPE_CHECKING:
    from voronka.engine.log import EventLog
    from voronka.funnel import Funnel

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class RevenueForecast:
    """The forecast in money (sum of won amounts).

    Attributes:
        plan: revenue wanted in the period (None: none given).
        won_so_far: revenue of the deals won in the period up to ``as_of``.
        expected: expected revenue by the period's end.
        p10: 10th percentile.
        p90: 90th percentile.
        p_plan: probability of at least ``plan`` (None without a plan).
    """

    plan: float | None
    won_so_far: float
    expected: float
    p10: float
    p90: float
    p_plan: float | None


@dataclass(frozen=True)
class BacktestMonth:
    """The forecast a past month would have had from its middle, against what happened.

    Attributes:
        month: first day of the month.
        as_of: the moment the forecast was made (the middle of the month; data after it ignored).
        won_so_far: deals won in the month up to ``as_of``.
        expected: expected won deals in the month.
        p10: 10th percentile.
        p90: 90th percentile.
        actual: deals actually won in the month.
        inside: ``p10 ≤ actual ≤ p90``.
        revenue_expected: expected revenue (None without amounts).
        revenue_p10: 10th percentile of revenue.
        revenue_p90: 90th percentile of revenue.
        revenue_actual: actual revenue of the month.
    """

    month: dt.date
    as_of: dt.datetime
    won_so_far: int
    expected: float
    p10: float
    p90: float
    actual: int
    inside: bool
    revenue_expected: float | None = None
    revenue_p10: float | None = None
    revenue_p90: float | None = None
    revenue_actual: float | None = None


@dataclass(frozen=True)
class Forecast:
    """Plan probability from a Monte Carlo of open deals and future leads.

    Attributes:
        plan: won deals wanted in the period.
        period_start: first day of the plan period.
        period_end: last day of the plan period.
        won_so_far: deals won in the period up to ``as_of``.
        expected: expected won deals by the period's end.
        p10: 10th percentile of won deals.
        p90: 90th percentile of won deals.
        p_plan: probability of at least ``plan`` won deals.
        p50: median of won deals.
        revenue: the same in money (None when the data has no amounts).
        backtest: the last complete months forecast from their middle, oldest first.
        backtest_coverage: share of backtest months whose actual fell inside ``p10`` … ``p90``
            (the 80% range; well calibrated ≈ 0.8). None without backtest months.
        open_deals: open deals the simulation started from.
        expected_new_leads: new leads expected from ``as_of`` to the period's end.
        simulations: number of Monte Carlo runs.
        seed: the random seed (the same seed gives the same numbers).
    """

    plan: float | None
    period_start: dt.date
    period_end: dt.date
    won_so_far: int
    expected: float
    p10: float
    p90: float
    p_plan: float | None
    p50: float = 0.0
    revenue: RevenueForecast | None = None
    backtest: tuple[BacktestMonth, ...] = ()
    backtest_coverage: float | None = None
    open_deals: int = 0
    expected_new_leads: float = 0.0
    simulations: int = 0
    seed: int = 0


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the calendar month containing ``day``."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _days(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 86_400.0


def future_arrivals(
    arrivals: pd.DataFrame,
    *,
    arrival_days: int,
    as_of: dt.datetime,
    until: dt.datetime,
    n_stages: int,
) -> Arrivals:
    """Expected new leads per calendar day from ``as_of`` to ``until`` (weekday pattern kept).

    The rate for weekday *w* is the leads that arrived on weekday *w* in the window divided by the
    number of weekday-*w* days in it (the window is the ``arrival_days`` whole days before
    ``as_of``'s date). A part-day at ``as_of`` gets its fraction of the day's rate.
    """
    first_day = as_of.date() - dt.timedelta(days=arrival_days)
    window = [first_day + dt.timedelta(days=i) for i in range(arrival_days)]
    days_per_weekday = np.bincount([d.weekday() for d in window], minlength=7)
    leads_per_weekday = np.zeros(7)
    entry = np.zeros(n_stages)
    total = 0.0
    if len(arrivals):
        weekday = np.array([d.weekday() for d in arrivals["day"]], dtype=np.int64)
        deals = arrivals["deals"].to_numpy(dtype=np.float64)
        np.add.at(leads_per_weekday, weekday, deals)
        stage = np.clip(arrivals["stage_index"].to_numpy(dtype=np.int64), 0, n_stages - 1)
        np.add.at(entry, stage, deals)
        total = float(deals.sum())
    rate = leads_per_weekday / np.maximum(days_per_weekday, 1)
    starts: list[float] = []
    lengths: list[float] = []
    means: list[float] = []
    moment = as_of
    while moment < until:
        next_midnight = min(_midnight(moment.date()) + DAY, until)
        length = _days(next_midnight - moment)
        starts.append(_days(moment - as_of))
        lengths.append(length)
        means.append(rate[moment.weekday()] * length)
        moment = next_midnight
    if entry.sum() == 0:
        entry[0] = 1.0
    return Arrivals(
        starts=np.array(starts),
        lengths=np.array(lengths),
        means=np.array(means),
        entry_probs=entry / entry.sum(),
        rate_shape=total,
    )


def _count_quantiles(total: FloatArray) -> tuple[float, float, float]:
    q = np.quantile(total, [0.1, 0.5, 0.9], method="inverted_cdf")
    return float(q[0]), float(q[1]), float(q[2])


def forecast_from_moment(
    snapshot: MomentState,
    n_stages: int,
    *,
    period_start: dt.date,
    period_end: dt.date,
    plan: float | None = None,
    plan_revenue: float | None = None,
    n_sims: int = 2000,
    seed: int = 0,
) -> Forecast:
    """The forecast for ``period_start`` … ``period_end`` (inclusive) from one snapshot.

    ``n_stages`` counts the stages of the line up to and including the won stage (the last).
    Won deals are the snapshot's ``won_in_period`` plus, per simulation, the deals won between
    ``max(as_of, period_start)`` and the end of ``period_end``. ``p10``/``p90`` of the count are
    the inverted-CDF quantiles, so the range holds at least 80% of the simulated outcomes.
    """
    as_of = snapshot.as_of
    until = _midnight(period_end) + DAY
    horizon = max(_days(until - as_of), 0.0)
    window_start = max(_days(_midnight(period_start) - as_of), 0.0)
    model = hazards_from_episodes(snapshot.episodes, n_stages, snapshot.edges)
    cells = open_state(snapshot.episodes, n_stages)
    arrivals = future_arrivals(
        snapshot.arrivals,
        arrival_days=snapshot.arrival_days,
        as_of=as_of,
        until=until,
        n_stages=n_stages,
    )
    quantiles = (
        np.asarray(snapshot.amount_quantiles, dtype=np.float64)
        if snapshot.amount_quantiles is not None
        else None
    )
    sim = simulate_plan(
        model,
        cells,
        arrivals,
        window_start=window_start,
        horizon=horizon,
        n_sims=n_sims,
        amount_quantiles=quantiles,
        seed=seed,
    )
    total = sim.wins.astype(np.float64) + snapshot.won_in_period
    p10, p50, p90 = _count_quantiles(total)
    revenue = None
    if sim.revenue is not None:
        so_far = snapshot.won_amount_in_period or 0.0
        money = sim.revenue + so_far
        r10, r90 = np.quantile(money, [0.1, 0.9])
        revenue = RevenueForecast(
            plan=plan_revenue,
            won_so_far=float(so_far),
            expected=float(money.mean()),
            p10=float(r10),
            p90=float(r90),
            p_plan=float(np.mean(money >= plan_revenue)) if plan_revenue is not None else None,
        )
    return Forecast(
        plan=plan,
        period_start=period_start,
        period_end=period_end,
        won_so_far=snapshot.won_in_period,
        expected=float(total.mean()),
        p10=p10,
        p90=p90,
        p_plan=float(np.mean(total >= plan)) if plan is not None else None,
        p50=p50,
        revenue=revenue,
        open_deals=cells.deals,
        expected_new_leads=float(arrivals.means.sum()),
        simulations=n_sims,
        seed=seed,
    )


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
    n_stages: int,
    *,
    month: tuple[dt.date, dt.date],
    actual: int,
    actual_revenue: float | None,
    n_sims: int,
    seed: int,
) -> BacktestMonth:
    """One backtest month: the forecast from ``snapshot`` (taken mid-month) against ``actual``."""
    f = forecast_from_moment(
        snapshot, n_stages, period_start=month[0], period_end=month[1], n_sims=n_sims, seed=seed
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
    )


def coverage(rows: tuple[BacktestMonth, ...]) -> float | None:
    """Share of backtest months whose actual fell inside the 80% range (None without months)."""
    return sum(r.inside for r in rows) / len(rows) if rows else None


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
    backtest: int = 6,
) -> Forecast:
    """The ``forecast`` section for ``log``: plan probability and a backtest of ``backtest`` months.

    The period defaults to the calendar month containing ``log.as_of``. Each backtest month is
    forecast from the log as it stood in the middle of that month (the engine derives every
    moment's state in one pass), with half the simulations, and compared with the deals actually
    won in it.
    """
    from voronka.engine.flow import won_between_many
    from voronka.engine.moments import MomentSpec, moment_states

    as_of = log.as_of
    default_start, default_end = month_bounds(as_of.date())
    start = period_start or default_start
    end = period_end or (month_bounds(start)[1] if period_start else default_end)
    n_stages = funnel.won_index + 1
    months = backtest_months(as_of, backtest)
    specs = [MomentSpec(as_of, start, end)]
    specs += [MomentSpec(month_middle(*m), m[0], m[1]) for m in months]
    snapshots = moment_states(log, specs)
    actuals = won_between_many(
        log, [(_midnight(m[0]), _midnight(m[1]) + DAY, as_of) for m in months]
    )
    result = forecast_from_moment(
        snapshots[0],
        n_stages,
        period_start=start,
        period_end=end,
        plan=plan,
        plan_revenue=plan_revenue,
        n_sims=n_sims,
        seed=seed,
    )
    rows: list[BacktestMonth] = []
    for i, (month, past, (actual, actual_revenue)) in enumerate(
        zip(months, snapshots[1:], actuals, strict=True)
    ):
        if past.episodes.empty:
            continue  # no data yet at that time
        rows.append(
            backtest_row(
                past,
                n_stages,
                month=month,
                actual=actual,
                actual_revenue=actual_revenue,
                n_sims=max(n_sims // 2, 500),
                seed=seed + 1 + i,
            )
        )
    return dataclasses.replace(result, backtest=tuple(rows), backtest_coverage=coverage(tuple(rows)))
