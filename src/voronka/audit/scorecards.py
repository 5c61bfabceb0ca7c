"""Manager scorecards and today's list.

* **Scorecards**: per manager — deals, won, lost, open, stuck, won revenue, the win rate of their
  closed deals (won / (won + lost)) raw and shrunk toward the team's by empirical-Bayes
  beta-binomial shrinkage (:mod:`voronka.audit.stats.shrinkage`, Robinson 2015), so a manager with
  five closed deals is not ranked first on luck.
* **Adjusted for the lead mix** (:func:`adjusted_win_rates`): a manager given worse leads wins
  less without selling worse. Each manager's closed deals are compared with everyone else's
  within strata of source × quarter created (Mantel–Haenszel,
  :func:`voronka.audit.stats.adjusted.stratified_gap`): the gap is the manager's win rate minus
  the peers' rates on the manager's own mix; the gaps are shrunk across the managers
  (:func:`voronka.audit.stats.adjusted.shrink_gaps`) and put on the team's footing,
  ``adjusted = team rate + shrunk gap``, so the managers are compared as if they had all been
  given the team's leads. The league table is ordered by the adjusted rate (by the shrunk one
  when the data has no source).
* **Today's list**: the stuck open deals ranked by the revenue a timely action can still save,
  ``amount × P(won | stage)``, where ``P(won | stage)`` is the share of the deals that reached the
  stage which went on to be won (``reached[won] / reached[stage]`` of the funnel section), each
  with the stage's key task as the next action.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from voronka.audit.result import AuditResult
from voronka.audit.stats.adjusted import shrink_gaps, stratified_gap
from voronka.audit.stats.shrinkage import fit_beta_prior, shrink
from voronka.engine import EventLog, closed_strata, stuck_deal_values, won_amount_by

MANAGER_COLUMN = "manager"
MIX_COLUMNS = ("source",)
"""The deal columns whose mix a manager's rate is adjusted for (with the quarter created)."""


@dataclass(frozen=True)
class AdjustedRate:
    """One manager's win rate against the peers on the manager's own mix of leads.

    Attributes:
        closed: the manager's closed deals in strata the peers also have.
        expected: the peers' win rate on the manager's mix (``Σ n_s · y_s/m_s / Σ n_s``).
        gap: the manager's rate minus ``expected`` (Mantel–Haenszel strata, not shrunk).
        raw_gap: the manager's rate minus everyone else's pooled rate (no strata).
        p_value: one-sided Mantel–Haenszel p-value of "wins less than the peers".
        rate: team rate + the shrunk gap: the rate on the team's mix.
        low: low end of its 95% posterior interval.
        high: high end of it.
    """

    closed: int
    expected: float
    gap: float
    raw_gap: float
    p_value: float
    rate: float
    low: float
    high: float


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
        adjusted: the win rate adjusted for the lead mix (None without a source or without
            peers to compare with).
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
    adjusted: AdjustedRate | None = None


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


def adjusted_win_rates(
    frame: pd.DataFrame, column: str = MANAGER_COLUMN
) -> dict[str, AdjustedRate]:
    """Manager → :class:`AdjustedRate`, from closed deals per ``column`` × strata (the other key
    columns of ``frame``; :func:`voronka.engine.closed_strata`) with ``won`` and ``closed``.

    Deals without a manager count among the peers but get no rate; managers whose closed deals
    share no stratum with the peers are left out. Empty with fewer than two managers.
    """
    strata = [c for c in frame.columns if c not in (column, "won", "closed")]
    if frame.empty:
        return {}
    key = ["|".join(str(v) for v in row) for row in zip(*(frame[c] for c in strata), strict=True)]
    keyed = frame.assign(_stratum=key if strata else "")
    totals = keyed.groupby("_stratum")[["won", "closed"]].sum()
    team = float(frame["won"].sum()) / max(float(frame["closed"].sum()), 1.0)
    gaps = []
    labels = keyed[column].map(lambda v: "\x00" if v is None or pd.isna(v) else str(v))
    for label, rows in keyed.groupby(labels):
        if label == "\x00":
            continue
        t = totals.loc[rows["_stratum"]]
        x = rows["won"].to_numpy(float)
        n = rows["closed"].to_numpy(float)
        gap = stratified_gap(x, n, t["won"].to_numpy(float) - x, t["closed"].to_numpy(float) - n)
        if gap is not None and gap.n > 0:
            gaps.append((str(label), gap))
    if len(gaps) < 2:
        return {}
    shrunk = shrink_gaps([g.gap for _, g in gaps], [g.se for _, g in gaps])
    out = {}
    for i, (label, g) in enumerate(gaps):
        out[label] = AdjustedRate(
            closed=int(g.n),
            expected=g.expected / g.n,
            gap=g.gap,
            raw_gap=g.raw_gap,
            p_value=g.p_value,
            rate=float(np.clip(team + shrunk.gap[i], 0.0, 1.0)),
            low=float(np.clip(team + shrunk.low[i], 0.0, 1.0)),
            high=float(np.clip(team + shrunk.high[i], 0.0, 1.0)),
        )
    return out


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
    adjusted: dict[str, AdjustedRate] = {}
    if any(c in log.deal_columns() for c in MIX_COLUMNS):
        adjusted = adjusted_win_rates(closed_strata(log, MANAGER_COLUMN, MIX_COLUMNS))
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
                adjusted=None if manager is None else adjusted.get(manager),
            )
        )
    return tuple(sorted(out, key=_rank))


def _rank(s: ManagerScore) -> tuple[float, float, int]:
    """Adjusted rate first (unknown last), then the shrunk rate, then wins."""
    adjusted = -s.adjusted.rate if s.adjusted is not None else 1.0
    return (adjusted, -float(np.nan_to_num(s.win_rate_shrunk)), -s.won)


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
