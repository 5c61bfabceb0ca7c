"""The ``forecast`` section: the probability of meeting the plan, and a backtest of the forecast.

The forecast is a Monte Carlo (:mod:`voronka.audit.simulate`) from the state of the funnel at
``as_of``: every open deal moves on from its current stage with rates that depend on how long it
has already waited there (recent episodes weighted more, :mod:`voronka.audit.hazards`); new leads
arrive until the period ends as a negative-binomial model with trend and yearly season expects
(:mod:`voronka.audit.arrivals`), spread over the days with the weekday pattern of the last eight
weeks; deals already won in the period count. The rolling backtest of the last twelve months
(:mod:`voronka.audit.backtest`, where :func:`build_forecast` lives) scores the forecast
(:mod:`voronka.audit.calibration`) and, when it under-covered, widens the current range. Parker (2017) on Monte Carlo sales forecasting; STATISTICS.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from voronka.audit.arrivals import LeadOutlook
from voronka.audit.calibration import Calibration, stretch
from voronka.audit.forecast_inputs import (
    DAY,
    _days,
    _midnight,
    big_deals,
    future_arrivals,
)
from voronka.audit.hazards import (
    FloatArray,
    HazardCounts,
    OpenCells,
    hazards_from_episodes,
    open_state,
)
from voronka.audit.simulate import Arrivals, BigDeals, simulate_plan
from voronka.engine import MomentState

LEAD_HISTORY_DAYS = 728
"""Days of lead history the lead model is fitted on (two years, whole weeks)."""



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
        p50: median of won deals.
        plan: the plan the month is scored against (the user's, else last month's wins + 10 %).
        p_plan: the forecast's probability of meeting it.
        naive_p_plan: the naive forecaster's (last month's wins again, Poisson).
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
    p50: float | None = None
    plan: float | None = None
    p_plan: float | None = None
    naive_p_plan: float | None = None


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
        calibration: coverage with its interval, Brier scores and the conformal widening from
            the backtest (None without backtest months).
        backtest_status: ``ok``; ``no_closing_dates`` (the data does not say when deals were
            closed, so a past month cannot be seen as it was: no backtest rather than one that
            looks ahead); ``no_history`` (no complete month before ``as_of``).
        widened_by: the factor the range (and ``p_plan``) was stretched by around the median
            because the backtest under-covered (1: not widened).
        model_p10: the model's 10th percentile before widening.
        model_p90: the model's 90th percentile before widening.
        leads: the lead model behind ``expected_new_leads`` (None: the recent rate as it is).
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
    calibration: Calibration | None = None
    backtest_status: str = "ok"
    widened_by: float = 1.0
    model_p10: float | None = None
    model_p90: float | None = None
    leads: LeadOutlook | None = None
    inputs: ModelInputs | None = field(
        default=None, repr=False, compare=False, metadata={"internal": True}
    )


@dataclass(frozen=True)
class ModelInputs:
    """The aggregates the forecast was simulated from, kept for the what-if
    (:mod:`voronka.audit.what_if`); not part of the JSON contract.

    Attributes:
        counts: the hazard model's sufficient statistics.
        cells: the open deals.
        arrivals: the expected new leads.
        window_start: start of the counted window, days from ``as_of``.
        horizon: its end.
        amount_quantiles: the won-amount distribution (None without amounts).
        won_so_far: deals won in the period up to ``as_of``.
        won_amount_so_far: their revenue.
        n_sims: simulations.
        seed: the seed.
        big: the largest open deals, followed one by one with their amounts (None: none).
    """

    counts: HazardCounts
    cells: OpenCells
    arrivals: Arrivals
    window_start: float
    horizon: float
    amount_quantiles: FloatArray | None
    won_so_far: int
    won_amount_so_far: float | None
    n_sims: int
    seed: int
    big: BigDeals | None = None


def _count_quantiles(total: FloatArray) -> tuple[float, float, float]:
    q = np.quantile(total, [0.1, 0.5, 0.9], method="inverted_cdf")
    return float(q[0]), float(q[1]), float(q[2])


@dataclass(frozen=True)
class Draws:
    """The simulated outcomes behind a forecast (not part of the contract; for the backtest, the
    widening and the what-if).

    Attributes:
        wins: won deals in the period per simulation (the period's wins so far included).
        revenue: their revenue (None without amounts).
    """

    wins: FloatArray
    revenue: FloatArray | None
    inputs: ModelInputs | None = None


def simulate_moment(
    snapshot: MomentState,
    n_stages: int,
    *,
    period_start: dt.date,
    period_end: dt.date,
    n_sims: int = 2000,
    seed: int = 0,
    lead_model: bool = True,
    largest: pd.DataFrame | None = None,
) -> tuple[Draws, int, Arrivals, LeadOutlook | None]:
    """The simulated wins of ``period_start`` … ``period_end`` from one snapshot: the draws, the
    open deals, the arrivals used and the lead model (see :func:`forecast_from_moment`).
    ``largest``: the largest open deals with their amounts (``MomentStates.largest``), followed one by
    one in the revenue."""
    as_of = snapshot.as_of
    until = _midnight(period_end) + DAY
    horizon = max(_days(until - as_of), 0.0)
    window_start = max(_days(_midnight(period_start) - as_of), 0.0)
    model = hazards_from_episodes(snapshot.episodes, n_stages, snapshot.edges)
    cells = open_state(snapshot.episodes, n_stages)
    open_deals = cells.deals
    if snapshot.amount_quantiles is None:
        largest = None  # no revenue is simulated: the big deals stay in their cells
    big, cells = big_deals(largest, cells, np.asarray(snapshot.edges, dtype=np.float64))
    arrivals, leads = future_arrivals(
        snapshot.arrivals,
        arrival_days=snapshot.arrival_days,
        as_of=as_of,
        until=until,
        n_stages=n_stages,
        outlook=lead_model,
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
        big=big,
    )
    total = sim.wins.astype(np.float64) + snapshot.won_in_period
    revenue = None
    if sim.revenue is not None:
        revenue = sim.revenue + (snapshot.won_amount_in_period or 0.0)
    inputs = ModelInputs(
        counts=model, cells=cells, arrivals=arrivals, window_start=window_start, horizon=horizon,
        amount_quantiles=quantiles, won_so_far=snapshot.won_in_period,
        won_amount_so_far=snapshot.won_amount_in_period, n_sims=n_sims, seed=seed,
        big=big,
    )
    return Draws(total, revenue, inputs), open_deals, arrivals, leads


def forecast_from_draws(
    draws: Draws,
    *,
    plan: float | None,
    plan_revenue: float | None,
    period_start: dt.date,
    period_end: dt.date,
    won_so_far: int,
    won_amount_so_far: float | None,
    widen: float = 1.0,
) -> Forecast:
    """The :class:`Forecast` numbers of simulated outcomes, the range stretched by ``widen``
    around its median (:func:`voronka.audit.calibration.stretch`; money alike), never below what
    the period has already won."""
    m10, _, m90 = _count_quantiles(draws.wins)
    total = stretch(draws.wins, widen, floor=won_so_far)
    p10, p50, p90 = _count_quantiles(total)
    revenue = None
    if draws.revenue is not None:
        money = stretch(draws.revenue, widen, floor=float(won_amount_so_far or 0.0))
        r10, r90 = np.quantile(money, [0.1, 0.9])
        revenue = RevenueForecast(
            plan=plan_revenue,
            won_so_far=float(won_amount_so_far or 0.0),
            expected=float(money.mean()),
            p10=float(r10),
            p90=float(r90),
            p_plan=float(np.mean(money >= plan_revenue)) if plan_revenue is not None else None,
        )
    return Forecast(
        plan=plan,
        period_start=period_start,
        period_end=period_end,
        won_so_far=won_so_far,
        expected=float(total.mean()),
        p10=p10,
        p90=p90,
        p_plan=float(np.mean(total >= plan)) if plan is not None else None,
        p50=p50,
        revenue=revenue,
        simulations=int(total.shape[0]),
        widened_by=widen,
        model_p10=m10,
        model_p90=m90,
    )


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
    lead_model: bool = True,
    widen: float = 1.0,
    largest: pd.DataFrame | None = None,
) -> Forecast:
    """The forecast for ``period_start`` … ``period_end`` (inclusive) from one snapshot.

    ``n_stages`` counts the stages of the line up to and including the won stage (the last).
    Won deals are the snapshot's ``won_in_period`` plus, per simulation, the deals won between
    ``max(as_of, period_start)`` and the end of ``period_end``. ``p10``/``p90`` of the count are
    the inverted-CDF quantiles, so the range holds at least 80% of the simulated outcomes.
    """
    simulated = simulate_moment(
        snapshot, n_stages, period_start=period_start, period_end=period_end, n_sims=n_sims,
        seed=seed, lead_model=lead_model, largest=largest,
    )
    return forecast_from_simulation(
        snapshot, simulated, period_start=period_start, period_end=period_end, plan=plan,
        plan_revenue=plan_revenue, seed=seed, widen=widen,
    )


Simulated = tuple[Draws, int, Arrivals, LeadOutlook | None]
"""What :func:`simulate_moment` returns: the draws, the open deals, the arrivals, the lead model."""


def forecast_from_simulation(
    snapshot: MomentState,
    simulated: Simulated,
    *,
    period_start: dt.date,
    period_end: dt.date,
    plan: float | None = None,
    plan_revenue: float | None = None,
    seed: int = 0,
    widen: float = 1.0,
) -> Forecast:
    """:func:`forecast_from_moment` from the :func:`simulate_moment` of ``snapshot`` (with that
    ``seed``), already run."""
    draws, open_deals, arrivals, leads = simulated
    out = forecast_from_draws(
        draws, plan=plan, plan_revenue=plan_revenue, period_start=period_start,
        period_end=period_end, won_so_far=snapshot.won_in_period,
        won_amount_so_far=snapshot.won_amount_in_period, widen=widen,
    )
    return dataclasses.replace(
        out, open_deals=open_deals, expected_new_leads=float(arrivals.means.sum()), seed=seed,
        leads=leads, inputs=draws.inputs,
    )
