"""Calibration of the forecast (issue 13): coverage with its Wilson interval, Brier scores, the
conformal factor by hand; the backtest refuses without closing dates instead of looking ahead; the
lead model recovers a planted trend and overdispersion."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "studies"))

from worlds import World, generate  # noqa: E402

from voronka.audit.arrivals import lead_outlook  # noqa: E402
from voronka.audit.backtest import build_forecast  # noqa: E402
from voronka.audit.calibration import (  # noqa: E402
    calibrate,
    conformal_factor,
    miss_scores,
    naive_p_plan,
    stretch,
)
from voronka.engine import EventLog  # noqa: E402


def test_coverage_interval_brier_and_verdict_by_hand() -> None:
    p10 = [10, 10, 10, 10, 10, 10, 10, 10]
    p50 = [15] * 8
    p90 = [20] * 8
    actual = [12, 25, 18, 30, 9, 15, 20, 16]  # inside: 12, 18, 15, 20, 16 → 5 of 8
    cal = calibrate(p10, p50, p90, actual, p_plan=[0.5] * 8, plan_met=[True] * 4 + [False] * 4,
                    naive=[1.0] * 8)
    assert cal is not None and (cal.months, cal.inside) == (8, 5)
    low, high = proportion_confint(5, 8, method="wilson")
    assert (cal.coverage_low, cal.coverage_high) == pytest.approx((low, high))
    assert cal.brier == pytest.approx(0.25) and cal.brier_naive == pytest.approx(0.5)
    assert cal.verdict == "calibrated"  # 5 of 8: the interval (31–86 %) still reaches 80 %
    four = calibrate(p10, p50, p90, [12, 25, 18, 30, 9, 15, 21, 16])
    assert four is not None and four.verdict == "under"  # 4 of 8: Wilson upper end 78.5 %
    bad = calibrate([10] * 20, [15] * 20, [20] * 20, [30] * 10 + [15] * 10)
    assert bad is not None and bad.verdict == "under"


def test_conformal_factor_by_hand() -> None:
    """Scores (actual − p50)/(p90 − p50 + ½) above the median: 10 / 5.5 = 1.818 for 25 vs 15…20.
    With n = 9 scores the rank is ⌈0.8 · 10⌉ = 8: the 8th smallest."""
    scores = miss_scores(np.full(3, 10.0), np.full(3, 15.0), np.full(3, 20.0),
                         np.array([25.0, 15.0, 5.0]))
    assert scores == pytest.approx([10 / 5.5, 0.0, 10 / 5.5])
    assert conformal_factor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.6, 2.0]) == pytest.approx(1.6)
    assert conformal_factor([0.1] * 9) == 1.0  # never narrowed
    assert conformal_factor([5.0] * 5) == 1.0  # too few months to say
    draws = np.array([8.0, 10.0, 10.0, 12.0])
    assert stretch(draws, 2.0) == pytest.approx([6.0, 10.0, 10.0, 14.0])
    assert stretch(draws, 2.0, floor=9.0) == pytest.approx([9.0, 10.0, 10.0, 14.0])


def test_a_widened_forecast_never_falls_below_what_is_already_won() -> None:
    """511 won so far and a tight model range (511–516) widened 5×: the low end stays at 511 (a
    real export read "511 won so far; most likely 508 to 528"), and so does money; a plan already
    met is met in every simulation."""
    import datetime as dt

    from voronka.audit.forecast import Draws, forecast_from_draws

    rng = np.random.default_rng(1)
    wins = 511 + rng.poisson(2.0, 2000).astype(np.float64)
    revenue = wins * 2000.0 + rng.normal(0, 500, 2000)
    args = dict(plan_revenue=None, period_start=dt.date(2017, 12, 1),
                period_end=dt.date(2017, 12, 31), won_so_far=511, won_amount_so_far=1_022_000.0)
    plain = forecast_from_draws(Draws(wins, revenue), plan=None, **args)
    wide = forecast_from_draws(Draws(wins, revenue), plan=511, widen=5.0, **args)
    assert wide.p90 > plain.p90 and wide.p10 == 511 <= plain.p10
    assert wide.revenue is not None and wide.revenue.p10 >= 1_022_000.0
    assert wide.p_plan == 1.0
    assert stretch(wins, 5.0).min() < 511  # without the floor the widening would go below


def test_naive_forecaster_is_poisson_around_last_month() -> None:
    from scipy import stats

    assert naive_p_plan(20, 22) == pytest.approx(stats.poisson.sf(21, 20))


def test_lead_model_recovers_a_planted_trend_and_overdispersion() -> None:
    """Two years of weekly NB counts (mean 300 × 1.5^t, α = 0.02): the fitted yearly growth is near
    1.5 and the next four weeks' expected leads near the truth."""
    rng = np.random.default_rng(1)
    as_of = dt.datetime(2025, 6, 2)
    days = [as_of.date() - dt.timedelta(days=d) for d in range(728, 0, -1)]
    t = (np.arange(728) - 728) / 365.25
    mu_week = 300 * 1.5**t / 7
    week_factor = rng.gamma(50, 1 / 50, size=104)  # α = 0.02
    counts = rng.poisson(mu_week * np.repeat(week_factor, 7))
    daily = pd.DataFrame({"day": days, "stage_index": 0, "deals": counts})
    starts = np.arange(28.0)
    out = lead_outlook(daily, as_of, starts, np.ones(28))
    assert out is not None and out.trend == pytest.approx(1.5, rel=0.15)
    truth = float(np.sum(300 * 1.5 ** ((starts + 0.5) / 365.25) / 7))
    assert out.expected == pytest.approx(truth, rel=0.1)
    assert 0.005 < out.alpha < 0.06 and out.seasonal


def test_without_closing_dates_the_backtest_refuses_instead_of_looking_ahead() -> None:
    """A world whose deals carry no closing date and whose lost deals have no lost event: a past
    month could only be rebuilt from the deals' final states, so there is no backtest."""
    world = World(months=16, seed=7)
    events, deals = generate(world)
    funnel = world.funnel()
    dated = EventLog.build(events, deals, funnel, as_of=world.as_of)
    ok = build_forecast(dated, funnel, plan=60, n_sims=300, backtest=3)
    assert ok.backtest_status == "ok" and len(ok.backtest) == 3
    undated = EventLog.build(events, deals.drop(columns=["closed_at"]), funnel, as_of=world.as_of)
    refused = build_forecast(undated, funnel, plan=60, n_sims=300, backtest=3)
    assert refused.backtest_status == "no_closing_dates"
    assert refused.backtest == () and refused.calibration is None
    assert refused.p_plan is not None  # the forecast itself is still made


def test_nb2_fit_equals_statsmodels() -> None:
    """The scipy NB2 fit of the lead model against statsmodels' NegativeBinomial (reference)."""
    from statsmodels.discrete.discrete_model import NegativeBinomial

    from voronka.audit.arrivals import _design, _fit

    rng = np.random.default_rng(4)
    t = (np.arange(80) - 80) * 7 / 365.25
    mu = np.exp(5 + 0.3 * t + 0.2 * np.sin(2 * np.pi * t))
    y = rng.negative_binomial(1 / 0.05, 1 / (1 + 0.05 * mu)).astype(float)
    x = _design(t, seasonal=True)
    beta, cov, alpha = _fit(y, x)
    ref = NegativeBinomial(y, x).fit(disp=0, maxiter=500)
    assert beta == pytest.approx(ref.params[:-1], abs=1e-3)
    assert alpha == pytest.approx(ref.params[-1], rel=1e-2)
    assert np.sqrt(np.diag(cov)) == pytest.approx(ref.bse[:-1], rel=0.05)
