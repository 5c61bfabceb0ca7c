"""The ``key_stage`` section: the stage that decides the sales.

The method (``shared/seed``): the key stage is the turning point between a new request and the
purchase that most fully determines the number of deals. **The rule** is
:mod:`voronka.audit.turning_point`: the intermediate stage that adds the most to the out-of-sample
share of the entry cohorts' wins explained by the count at the stage × the downstream rate, with a
bootstrap interval; "no clear key stage", two stages within noise, or no intermediate stage are
said as such. With too few mature cohorts the older rule below picks the stage
(``method = "win_jump"``), and its numbers are shown as supporting evidence in every case.

The supporting evidence: every intermediate stage *k* is scored by the **jump in the probability of
winning** on reaching it,

    score_k = P(won | reached k) − P(won | reached k−1),

with ``P(won | reached k)`` censoring-aware: the product of the Aalen–Johansen conversions from
*k* to the won stage (:mod:`voronka.audit.censored`, the funnel table's estimator: open deals are
censored at their age, not counted as lost nor left out); without them (``rank_key_stages`` called
on counts alone) ``(won_k + ½) / (won_k + lost_k + 1)`` over the closed deals (Jeffreys-smoothed),
which is biased toward the deals that close fast. Since ``P(won | reached k−1) = c · P(won | reached k)`` with ``c``
the conversion into *k*, the score is ``P(won | reached k) × (1 − c)``: high for a stage after
which deals are mostly won, reached through a step most deals fail — the turning point. A stage
after which winning is already near-certain scores little (its ``1 − c`` is small), and so does an
early stage whose deals are still mostly lost. **Rule: the key stage is the stage with the highest
score** (the earlier one on a tie). A ``key_stage`` in the funnel file overrides the choice
(``method = "funnel_file"``); the evidence is computed all the same. (The jump in log-odds was
tried too: it exaggerates tiny changes near certainty, e.g. 0.977 → 0.997 on a late stage.)

Evidence shown beside the score, for a person to follow: the two probabilities and their difference,
whether a deal that reaches the stage is more likely won than lost, and how well the count of
deals reaching the stage explains the wins that follow — R² of the weekly wins ``lag`` weeks later
on the weekly count reaching the stage (``lag`` = the median time from the stage to the win, in
weeks), and R² across managers of won deals on deals reaching the stage.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from voronka.audit.key_stage_result import KeyStage, KeyStageScore
from voronka.audit.turning_point import TurningPoint, find_turning_point

if TYPE_CHECKING:
    from collections.abc import Mapping

    from voronka.audit.maturity import MaturityReport
    from voronka.engine import EventLog
    from voronka.funnel import Funnel

MIN_WEEKS = 8
"""Fewest weekly pairs for the weekly R²."""

MIN_MANAGERS = 3
"""Fewest managers for the R² across managers."""

MIN_WEEKLY_LEADS = 20
"""Fewest leads a week (median) for weekly cohorts; fewer: monthly."""


def smoothed_win_probability(won: int, lost: int) -> float:
    """``(won + ½) / (won + lost + 1)``: the Jeffreys posterior mean of a win rate."""
    return (won + 0.5) / (won + lost + 1.0)


def logit(p: float) -> float:
    """``log(p / (1 − p))`` (``p`` kept within [1e-6, 1 − 1e-6])."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1.0 - p))


def _p_won(p_won: Mapping[int, float] | None, k: int, won: int, lost: int) -> float:
    """The censoring-aware ``P(won | reached k)`` where given, else the closed deals' smoothed."""
    if p_won is not None and k in p_won:
        return float(p_won[k])
    return smoothed_win_probability(won, lost)


def r_squared(x: np.ndarray, y: np.ndarray) -> float | None:
    """R² of the least-squares line of ``y`` on ``x`` (the squared Pearson correlation); None
    when either is constant."""
    if x.size < 2 or np.std(x) == 0 or np.std(y) == 0:
        return None
    r = float(np.corrcoef(x, y)[0, 1])
    return r * r


def weekly_r2(weekly: pd.DataFrame, stage_index: int, won_index: int, lag: int) -> float | None:
    """R² of wins in week ``w + lag`` on deals reaching ``stage_index`` in week ``w``.

    Weeks without a row count as zero; the first and last weeks of the data are left out (they
    are partial), and so are the weeks whose ``w + lag`` falls after the data.
    """
    if weekly.empty:
        return None
    weeks = pd.to_datetime(pd.Series(weekly["week"]))
    first, last = weeks.min(), weeks.max()
    grid = pd.date_range(first, last, freq="7D")
    table = (
        weekly.assign(week=weeks)
        .pivot_table(index="week", columns="stage_index", values="deals", aggfunc="sum")
        .reindex(grid, fill_value=0)
        .fillna(0)
    )
    if stage_index not in table or won_index not in table:
        return None
    x = table[stage_index].to_numpy(dtype=float)[1:-1]
    y = table[won_index].to_numpy(dtype=float)[1:-1]
    if lag > 0:
        x, y = x[:-lag], y[lag:]
    if x.size < MIN_WEEKS:
        return None
    return r_squared(x, y)


def managers_r2(by_manager: pd.DataFrame | None, stage_index: int) -> float | None:
    """R² across managers of won deals on deals that reached ``stage_index`` (closed deals)."""
    if by_manager is None or by_manager.empty:
        return None
    rows = by_manager[by_manager["stage_index"] == stage_index]
    if len(rows) < MIN_MANAGERS:
        return None
    closed = (rows["won"] + rows["lost"]).to_numpy(dtype=float)
    totals = by_manager.groupby("segment", dropna=False)[["won"]].max()  # won deals reach all
    won = totals.reindex(rows["segment"]).to_numpy(dtype=float).ravel()
    return r_squared(closed, won)


def rank_key_stages(
    funnel: Funnel,
    outcomes: pd.DataFrame,
    *,
    weekly: pd.DataFrame | None = None,
    days: pd.DataFrame | None = None,
    by_manager: pd.DataFrame | None = None,
    turning: TurningPoint | None = None,
    win_days: pd.DataFrame | None = None,
    p_won: Mapping[int, float] | None = None,
) -> KeyStage:
    """The key stage from the engine's aggregates (see the module docstring for the rule).

    Args:
        funnel: the funnel (its ``key_stage`` overrides the choice).
        outcomes: per ``stage_index``: ``reached``, ``won``, ``lost`` (``flow.stage_outcomes``).
        weekly: per ``week`` × ``stage_index``: ``deals`` (``flow.weekly_reach``).
        days: per ``stage_index``: ``median_days`` to the win (``flow.days_to_win``).
        by_manager: per ``segment`` × ``stage_index``: ``reached``, ``won``, ``lost``.
        turning: the turning point (:func:`voronka.audit.turning_point.find_turning_point`);
            None: the older rule (the largest jump in P(won | reached)).
        win_days: per ``stage_index``: ``q90`` days to the win.
        p_won: per ``stage_index``: the censoring-aware ``P(won | reached)`` (the product of the
            Aalen–Johansen conversions from the stage on, :mod:`voronka.audit.censored`); where
            missing, the closed deals' smoothed rate.
    """
    won_index = funnel.won_index
    line = funnel.line
    counts = outcomes.set_index("stage_index")
    lag_days = days.set_index("stage_index")["median_days"] if days is not None else None
    q90 = win_days.set_index("stage_index")["q90"] if win_days is not None else None
    share_of = {sh.stage_index: sh for sh in turning.shares} if turning is not None else {}
    decided = turning is not None and turning.status not in ("too_few_cohorts",)

    def count(k: int, column: str) -> int:
        return int(counts[column].get(k, 0)) if column in counts else 0

    scores: list[KeyStageScore] = []
    for k in range(1, won_index):
        won, lost = count(k, "won"), count(k, "lost")
        p = _p_won(p_won, k, won, lost)
        p_before = _p_won(p_won, k - 1, count(k - 1, "won"), count(k - 1, "lost"))
        lag = 0
        if lag_days is not None and k in lag_days.index and pd.notna(lag_days[k]):
            lag = max(0, round(float(lag_days[k]) / 7.0))
        sh = share_of.get(k)
        gain = sh.gain if sh is not None else None
        scores.append(
            KeyStageScore(
                stage=line[k].id,
                score=(gain if gain is not None else 0.0) if decided else p - p_before,
                p_won=p,
                p_won_before=p_before,
                log_odds_ratio=logit(p) - logit(p_before),
                more_won_than_lost=p > 0.5 if p_won is not None and k in p_won else won > lost,
                reached=count(k, "reached"),
                won=won,
                lost=lost,
                r2_weekly=weekly_r2(weekly, k, won_index, lag) if weekly is not None else None,
                lag_weeks=lag,
                r2_managers=managers_r2(by_manager, k),
                win_jump=p - p_before,
                explained=sh.explained if sh is not None else None,
                gain=gain,
                gain_low=sh.gain_low if sh is not None else None,
                gain_high=sh.gain_high if sh is not None else None,
                best_share=sh.best_share if sh is not None else None,
                candidate=sh.candidate if sh is not None else True,
                downstream_rate=sh.rate if sh is not None else None,
                downstream_low=sh.rate_low if sh is not None else None,
                downstream_high=sh.rate_high if sh is not None else None,
                step_low=sh.step_low if sh is not None else None,
                step_high=sh.step_high if sh is not None else None,
                days_to_win=(
                    float(q90[k]) if q90 is not None and k in q90.index and pd.notna(q90[k])
                    else None
                ),
            )
        )
    ranking = tuple(
        sorted(scores, key=lambda s: (not s.candidate, -s.score))
    )  # stable: earlier stage on a tie
    status = turning.status if turning is not None else "too_few_cohorts"
    runner_up = reason = None
    method = "data" if decided else "win_jump"
    if funnel.key_stage is not None:
        stage, method = funnel.key_stage, "funnel_file"
    elif status == "no_intermediate" or not ranking:
        stage, method, status = line[0].id, "none", "no_intermediate"
    elif decided and turning is not None and turning.best is not None:
        stage = line[turning.best].id
        runner_up = line[turning.runner_up].id if turning.runner_up is not None else None
    elif decided and turning is not None:  # no clear key stage: the best candidate, as such
        stage, method, reason = ranking[0].stage, "none", turning.reason
    else:
        stage = ranking[0].stage
    position = funnel.index(stage)
    earlier = [s.r2_weekly for s in scores if funnel.index(s.stage) < position and s.r2_weekly]
    rule = {
        "funnel_file": "forecast.key_stage.rule_file",
        "win_jump": "forecast.key_stage.rule",
    }.get(method, "plan.key_stage.rule")
    return KeyStage(
        stage=stage,
        method=method,
        ranking=ranking,
        rule=rule,
        best_earlier_r2_weekly=max(earlier) if earlier else None,
        status=status,
        runner_up=runner_up,
        reason=reason,
        cohorts=turning.cohorts if turning is not None else 0,
        cohort_period=turning.period if turning is not None else "week",
    )


def turning_point_of(log: EventLog, won_index: int, *, seed: int = 0) -> tuple[
    TurningPoint, pd.DataFrame
]:
    """The turning point of ``log`` and the days-to-win quantiles per stage: weekly entry cohorts
    (monthly when a week brings fewer than :data:`MIN_WEEKLY_LEADS` leads), mature once the p90 of
    the days from the first stage to a win has passed since the cohort's end."""
    from voronka.engine import cohort_reach, days_to_win_quantiles

    win_days = days_to_win_quantiles(log)
    horizon = 30.0
    first = win_days[win_days["stage_index"] == 0]
    if len(first) and pd.notna(first["q90"].iloc[0]):
        horizon = min(float(first["q90"].iloc[0]), 365.0)
    period = "week"
    cohorts = cohort_reach(log, period)
    leads = cohorts[cohorts["stage_index"] == 0]["reached"]
    if len(leads) and float(leads.median()) < MIN_WEEKLY_LEADS:
        period = "month"
        cohorts = cohort_reach(log, period)
    length = 7 if period == "week" else 31
    mature_before = (log.as_of - dt.timedelta(days=horizon + length)).date()
    turning = find_turning_point(
        cohorts, won_index, mature_before=mature_before, period=period, seed=seed
    )
    return turning, win_days


def censored_p_won(log: EventLog, maturity: MaturityReport | None = None) -> dict[int, float]:
    """Stage index → ``P(won | reached)`` with open deals accounted for: the product of the
    Aalen–Johansen conversions from the stage to the won stage (the funnel table's estimator,
    :func:`voronka.audit.censored.step_rates`)."""
    from voronka.audit.censored import step_rates
    from voronka.audit.maturity import build_maturity

    rates = step_rates(log, maturity or build_maturity(log))[None]
    out: dict[int, float] = {}
    for k in range(len(rates.steps) + 1):
        p = rates.p_won(k)
        if p is not None:
            out[k] = p
    return out


def build_key_stage(
    log: EventLog, funnel: Funnel, *, seed: int = 0, maturity: MaturityReport | None = None
) -> KeyStage:
    """The ``key_stage`` section of ``log`` (a log with ``funnel``); ``maturity``: a precomputed
    :func:`~voronka.audit.maturity.build_maturity` (for the censoring-aware ``P(won | reached)``)."""
    from voronka.engine import days_to_win, stage_outcomes, weekly_reach

    by_manager = None
    if "manager" in log.segment_columns():
        by_manager = stage_outcomes(log, by="manager")
    turning, win_days = turning_point_of(log, funnel.won_index, seed=seed)
    return rank_key_stages(
        funnel,
        stage_outcomes(log),
        weekly=weekly_reach(log),
        days=days_to_win(log),
        by_manager=by_manager,
        turning=turning,
        win_days=win_days,
        p_won=censored_p_won(log, maturity),
    )
