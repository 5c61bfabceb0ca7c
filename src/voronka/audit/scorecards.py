"""Manager scorecards and today's list.

* **Scorecards**: per manager — deals, won, lost, open, stuck, won revenue, the win rate of their
  closed deals (won / (won + lost)) raw and shrunk toward the team's by empirical-Bayes
  beta-binomial shrinkage (:mod:`voronka.audit.stats.shrinkage`, Robinson 2015), so a manager with
  five closed deals is not ranked first on luck. The league table is ordered by the shrunk rate.
  Not adjusted for the mix of sources each manager got (a stated limitation).
* **Today's list**: the stuck open deals ranked by the revenue a timely action can still save,
  ``amount × P(won | stage)``, where ``P(won | stage)`` is the share of the deals that reached the
  stage which went on to be won (``reached[won] / reached[stage]`` of the funnel section), each
  with the stage's key task as the next action.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voronka.audit.result import AuditResult
from voronka.audit.stats.shrinkage import fit_beta_prior, shrink
from voronka.engine import EventLog, stuck_deal_values, won_amount_by

MANAGER_COLUMN = "manager"


@dataclass(frozen=True)
class ManagerScore:
    """One manager's line of the league table.

    Attributes:
        manager: the manager (None: deals without one).
        deals: their deals.
        won: won deals.
        lost: lost deals.
        open: open deals.
        stuck: open deals past their stage's limit.
        won_amount: revenue of the won deals (0 without amounts).
        win_rate: ``won / (won + lost)`` (None without closed deals).
        win_rate_shrunk: the same shrunk toward the team (posterior mean).
        win_rate_low: low end of its 95% credible interval.
        win_rate_high: high end of it.
    """

    manager: str | None
    deals: int
    won: int
    lost: int
    open: int
    stuck: int
    won_amount: float
    win_rate: float | None
    win_rate_shrunk: float
    win_rate_low: float
    win_rate_high: float


@dataclass(frozen=True)
class TodayDeal:
    """A deal for today's list.

    Attributes:
        deal_id: the deal.
        stage: its stage id.
        days_in_stage: days it has been there.
        limit_days: the stage's limit.
        manager: its manager (None when unknown).
        amount: its amount (0 when unknown).
        p_won: P(won | stage).
        value: ``amount × p_won``: revenue at stake.
        next_action: the stage's key task (None when the funnel gives none).
    """

    deal_id: str
    stage: str
    days_in_stage: float
    limit_days: float
    manager: str | None
    amount: float
    p_won: float
    value: float
    next_action: str | None


def win_probability(result: AuditResult) -> dict[str, float]:
    """Stage id → share of the deals that reached it which were won (0 where none reached it)."""
    stages = result.funnel.stages
    won = result.funnel.won
    return {s.id: (min(1.0, won / s.reached) if s.reached else 0.0) for s in stages}


def build_scorecards(log: EventLog, result: AuditResult) -> tuple[ManagerScore, ...]:
    """The league table (empty when the deals name no manager)."""
    if MANAGER_COLUMN not in log.deal_columns():
        return ()
    frame = log.outcomes(by=MANAGER_COLUMN)
    amounts = {
        r.value: float(r.won_amount)
        for r in won_amount_by(log, MANAGER_COLUMN).itertuples(index=False)
    }
    stuck = {m.manager: m.stuck for m in result.stuck.by_manager}
    won = frame["won"].to_numpy(dtype=float)
    closed = won + frame["lost"].to_numpy(dtype=float)
    if closed.sum() > 0:
        rates = shrink(won, closed, fit_beta_prior(won, closed))
        shrunk, low, high = rates.rate, rates.low, rates.high
    else:
        shrunk = low = high = np.full(len(frame), np.nan)
    out = []
    for i, row in enumerate(frame.itertuples(index=False)):
        manager = None if row.segment is None else str(row.segment)
        out.append(
            ManagerScore(
                manager=manager,
                deals=int(row.deals),
                won=int(row.won),
                lost=int(row.lost),
                open=int(row.open),
                stuck=int(stuck.get(manager, 0)),
                won_amount=amounts.get(manager, 0.0),
                win_rate=float(won[i] / closed[i]) if closed[i] else None,
                win_rate_shrunk=float(shrunk[i]),
                win_rate_low=float(low[i]),
                win_rate_high=float(high[i]),
            )
        )
    return tuple(sorted(out, key=lambda s: (-np.nan_to_num(s.win_rate_shrunk), -s.won)))


def build_today(
    log: EventLog, result: AuditResult, *, lang: str | None = None, limit: int = 50
) -> tuple[TodayDeal, ...]:
    """Today's list: stuck open deals, the most revenue at stake first, at most ``limit``."""
    funnel = log.require_funnel()
    index = {sid: i for i, sid in enumerate(funnel.stage_ids)}
    p_won = {index[sid]: p for sid, p in win_probability(result).items() if sid in index}
    limits = {
        index[s.stage]: float(s.max_days)
        for s in result.stuck.stages
        if s.max_days is not None and s.stage in index
    }
    frame = stuck_deal_values(log, p_won, limits, limit=limit)
    language = lang or result.language
    return tuple(
        TodayDeal(
            deal_id=str(r.deal_id),
            stage=funnel.stage_ids[int(r.stage_index)],
            days_in_stage=float(r.days_in_stage),
            limit_days=float(r.limit_days),
            manager=None if r.manager is None else str(r.manager),
            amount=float(r.amount),
            p_won=float(r.p_won),
            value=float(r.value),
            next_action=funnel.stages[int(r.stage_index)].key_task_in(language),
        )
        for r in frame.itertuples(index=False)
    )
