"""The ``key_stage`` section: the stage that decides the sales.

The method (``shared/seed``): the key stage is the turning point between a new request and the
purchase that most fully determines the number of deals. Every intermediate stage *k* is scored by
the **jump in the probability of winning** on reaching it,

    score_k = P(won | reached k) − P(won | reached k−1),

with ``P(won | reached k) = (won_k + ½) / (won_k + lost_k + 1)`` over the closed deals that
reached *k* (Jeffreys-smoothed). Since ``P(won | reached k−1) = c · P(won | reached k)`` with ``c``
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

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from voronka.engine import EventLog
    from voronka.funnel import Funnel

MIN_WEEKS = 8
"""Fewest weekly pairs for the weekly R²."""

MIN_MANAGERS = 3
"""Fewest managers for the R² across managers."""


@dataclass(frozen=True)
class KeyStageScore:
    """One stage's score in the key-stage ranking, with its evidence.

    Attributes:
        stage: stage id.
        score: the jump in the probability of winning on reaching the stage (higher = more
            decisive): ``p_won − p_won_before``.
        p_won: P(won | reached this stage), closed deals, smoothed.
        p_won_before: P(won | reached the previous stage).
        log_odds_ratio: ``logit p_won − logit p_won_before`` (the jump on the odds scale).
        more_won_than_lost: a closed deal that reached the stage was won more often than lost.
        reached: deals that reached the stage.
        won: of them, won.
        lost: of them, lost.
        r2_weekly: R² of the weekly wins ``lag_weeks`` later on the weekly count reaching the stage
            (None when fewer than 8 weeks).
        lag_weeks: median weeks from reaching the stage to the win.
        r2_managers: R² across managers of won deals on deals reaching the stage (None with fewer
            than three managers or no manager column).
    """

    stage: str
    score: float
    p_won: float = 0.0
    p_won_before: float = 0.0
    log_odds_ratio: float = 0.0
    more_won_than_lost: bool = False
    reached: int = 0
    won: int = 0
    lost: int = 0
    r2_weekly: float | None = None
    lag_weeks: int = 0
    r2_managers: float | None = None


@dataclass(frozen=True)
class KeyStage:
    """The ``key_stage`` section.

    Attributes:
        stage: the chosen key stage.
        method: how it was chosen (``data``: the highest score; ``funnel_file``: set in the file).
        ranking: every intermediate stage with its score, best first.
        rule: the message key of the rule that picked the stage (for the report's "why").
        best_earlier_r2_weekly: the best weekly R² among the stages before the key stage (None
            when none has one): the comparison the method asks for.
    """

    stage: str
    method: str
    ranking: tuple[KeyStageScore, ...]
    rule: str = "forecast.key_stage.rule"
    best_earlier_r2_weekly: float | None = None


def smoothed_win_probability(won: int, lost: int) -> float:
    """``(won + ½) / (won + lost + 1)``: the Jeffreys posterior mean of a win rate."""
    return (won + 0.5) / (won + lost + 1.0)


def logit(p: float) -> float:
    """``log(p / (1 − p))``."""
    return math.log(p / (1.0 - p))


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
) -> KeyStage:
    """The key stage from the engine's aggregates (see the module docstring for the rule).

    Args:
        funnel: the funnel (its ``key_stage`` overrides the choice).
        outcomes: per ``stage_index``: ``reached``, ``won``, ``lost`` (``flow.stage_outcomes``).
        weekly: per ``week`` × ``stage_index``: ``deals`` (``flow.weekly_reach``).
        days: per ``stage_index``: ``median_days`` to the win (``flow.days_to_win``).
        by_manager: per ``segment`` × ``stage_index``: ``reached``, ``won``, ``lost``.
    """
    won_index = funnel.won_index
    line = funnel.line
    counts = outcomes.set_index("stage_index")
    lag_days = days.set_index("stage_index")["median_days"] if days is not None else None

    def count(k: int, column: str) -> int:
        return int(counts[column].get(k, 0)) if column in counts else 0

    scores: list[KeyStageScore] = []
    for k in range(1, won_index):
        won, lost = count(k, "won"), count(k, "lost")
        p = smoothed_win_probability(won, lost)
        p_before = smoothed_win_probability(count(k - 1, "won"), count(k - 1, "lost"))
        lag = 0
        if lag_days is not None and k in lag_days.index and pd.notna(lag_days[k]):
            lag = max(0, round(float(lag_days[k]) / 7.0))
        scores.append(
            KeyStageScore(
                stage=line[k].id,
                score=p - p_before,
                p_won=p,
                p_won_before=p_before,
                log_odds_ratio=logit(p) - logit(p_before),
                more_won_than_lost=won > lost,
                reached=count(k, "reached"),
                won=won,
                lost=lost,
                r2_weekly=weekly_r2(weekly, k, won_index, lag) if weekly is not None else None,
                lag_weeks=lag,
                r2_managers=managers_r2(by_manager, k),
            )
        )
    ranking = tuple(sorted(scores, key=lambda s: -s.score))  # stable: earlier stage on a tie
    if funnel.key_stage is not None:
        stage, method = funnel.key_stage, "funnel_file"
    elif ranking:
        stage, method = ranking[0].stage, "data"
    else:  # a funnel of two stages has no intermediate stage: the first one decides
        stage, method = line[0].id, "data"
    position = funnel.index(stage)
    earlier = [s.r2_weekly for s in scores if funnel.index(s.stage) < position and s.r2_weekly]
    return KeyStage(
        stage=stage,
        method=method,
        ranking=ranking,
        rule="forecast.key_stage.rule_file" if method == "funnel_file" else "forecast.key_stage.rule",
        best_earlier_r2_weekly=max(earlier) if earlier else None,
    )


def build_key_stage(log: EventLog, funnel: Funnel) -> KeyStage:
    """The ``key_stage`` section of ``log`` (a log with ``funnel``)."""
    from voronka.engine import days_to_win, stage_outcomes, weekly_reach

    by_manager = None
    if "manager" in log.segment_columns():
        by_manager = stage_outcomes(log, by="manager")
    return rank_key_stages(
        funnel,
        stage_outcomes(log),
        weekly=weekly_reach(log),
        days=days_to_win(log),
        by_manager=by_manager,
    )
