"""A page per manager: their funnel, each step against the team (raw, and fairly on their own mix
of leads), their stuck deals and their share of the forecast.

* **Funnel**: per stage the manager's deals that reached it, are open in it, were lost at it
  (:meth:`voronka.engine.EventLog.reach` by manager: the numbers the drill-down lists).
* **Steps** (:func:`team_steps`, computed once for every manager): the manager's raw conversion
  ``reached[k+1] / reached[k]`` with its Wilson interval beside the team's; and the fair comparison
  of the leaks table's segment rows (:mod:`voronka.audit.leak_segments`): mature deals within
  strata of source × quarter the deals reached the step, the gap to the other managers on the
  manager's own mix (Mantel–Haenszel), shrunk across the managers of the step
  (:func:`voronka.audit.stats.adjusted.shrink_gaps`); ``adjusted = peers' rate on the mix + shrunk
  gap`` with its 95% interval, and the one-sided p-value of "converts worse than the peers".
* **Stuck**: open deals past their stage's limit per stage, with the team's limits (the audit's),
  so the drill-down of a stuck count lists exactly those deals.
* **Forecast share**: :mod:`voronka.audit.forecast_split`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from voronka.audit.forecast_split import ForecastShare, ForecastSplit
from voronka.audit.leak_segments import _gaps
from voronka.audit.leaks import FDR_LEVEL
from voronka.audit.result import AuditResult
from voronka.audit.stats import benjamini_hochberg
from voronka.audit.stats.adjusted import shrink_gaps
from voronka.audit.stats.intervals import wilson_interval
from voronka.engine import (
    DealFilter,
    DealSelection,
    EventLog,
    apply_filter,
    count_deals,
    stratified_cohorts,
    stuck_counts,
)
from voronka.errors import UsageError

MANAGER = "manager"


@dataclass(frozen=True)
class FairGap:
    """A manager's step against the other managers on the manager's own mix of leads.

    Attributes:
        mature: the manager's mature deals at the step (in strata the peers also have).
        raw: their rate (moved / mature).
        expected: the peers' rate on the manager's mix.
        adjusted: ``expected`` + the shrunk gap.
        low: low end of its 95% interval.
        high: high end of it.
        gap: the shrunk gap (adjusted − expected).
        raw_gap: the manager's rate minus everyone else's, without strata.
        p_value: one-sided Mantel–Haenszel p-value of "converts worse than the peers".
        q_value: Benjamini–Hochberg adjusted ``p_value`` over every manager × step.
        verdict: ``below`` (worse than the peers beyond chance: ``q_value`` ≤ 5%, as the leaks
            table calls a segment row significant), ``above`` (the same test on the deals that did
            not move on: better than the peers beyond chance) or ``in_line``.
    """

    mature: int
    raw: float
    expected: float
    adjusted: float
    low: float
    high: float
    gap: float
    raw_gap: float
    p_value: float
    q_value: float = 1.0
    verdict: str = "in_line"


def _with_verdicts(
    gaps: dict[tuple[str, int], FairGap], p_better: dict[tuple[str, int], float]
) -> dict[tuple[str, int], FairGap]:
    keys = list(gaps)
    if not keys:
        return gaps
    worse = benjamini_hochberg([gaps[k].p_value for k in keys])
    better = benjamini_hochberg([p_better.get(k, 1.0) for k in keys])
    out = {}
    for key, q_low, q_high in zip(keys, worse, better, strict=True):
        verdict = "below" if q_low <= FDR_LEVEL else "above" if q_high <= FDR_LEVEL else "in_line"
        out[key] = replace(gaps[key], q_value=float(q_low), verdict=verdict)
    return out


@dataclass(frozen=True)
class ManagerStep:
    """One step k → k+1 for one manager.

    Attributes:
        stage: stage id (k).
        next_stage: the next stage's id.
        reached: the manager's deals that reached k.
        moved: of them, those that reached k+1.
        conversion: ``moved / reached`` (None when none reached k).
        ci: its 95% Wilson interval.
        team_reached: the team's deals that reached k.
        team_conversion: the team's ``reached[k+1] / reached[k]``.
        fair: the comparison on the manager's mix (None without peers in the same strata).
    """

    stage: str
    next_stage: str
    reached: int
    moved: int
    conversion: float | None
    ci: tuple[float, float] | None
    team_reached: int
    team_conversion: float | None
    fair: FairGap | None


@dataclass(frozen=True)
class ManagerStage:
    """A stage of the manager's funnel: reached, open now, lost at it, stuck (past the limit)."""

    stage: str
    reached: int
    open: int
    lost_here: int
    stuck: int
    limit_days: float | None


@dataclass(frozen=True)
class ManagerView:
    """Everything the manager's page shows.

    Attributes:
        manager: the manager.
        deals: their deals.
        won: their won deals.
        stages: their funnel, stage by stage (the line up to the won stage).
        steps: each step against the team.
        stuck: their stuck deals in all.
        forecast: their part of the forecast (None without a forecast).
        team_forecast: the whole split, for the context (None without a forecast).
    """

    manager: str
    deals: int
    won: int
    stages: tuple[ManagerStage, ...]
    steps: tuple[ManagerStep, ...]
    stuck: int
    forecast: ForecastShare | None
    team_forecast: ForecastSplit | None


def _fair_gaps(log: EventLog, result: AuditResult) -> dict[tuple[str, int], FairGap]:
    """(manager, step) → :class:`FairGap`, as the leaks table's segment rows compute them."""
    maturity = result.maturity
    if maturity is None or MANAGER not in log.deal_columns():
        return {}
    strata = ["source"] if "source" in log.deal_columns() else []
    frame = stratified_cohorts(log, maturity.horizons(), [MANAGER, *strata])
    # "Better than the peers" is "worse at dropping out": the same test on the deals that did
    # not move on.
    flipped = frame.assign(mature_moved=frame["mature"] - frame["mature_moved"])
    out: dict[tuple[str, int], FairGap] = {}
    p_better: dict[tuple[str, int], float] = {}
    for k in range(len(maturity.stages)):
        p_better.update({(str(label), k): g.p_value for label, g in _gaps(flipped, MANAGER, k)})
        gaps = _gaps(frame, MANAGER, k)
        if len(gaps) < 2:
            continue
        shrunk = shrink_gaps([g.gap for _, g in gaps], [g.se for _, g in gaps])
        for i, (label, g) in enumerate(gaps):
            expected = g.expected / g.n
            out[(str(label), k)] = FairGap(
                mature=int(g.n), raw=g.observed / g.n, expected=expected,
                adjusted=float(np.clip(expected + shrunk.gap[i], 0.0, 1.0)),
                low=float(np.clip(expected + shrunk.low[i], 0.0, 1.0)),
                high=float(np.clip(expected + shrunk.high[i], 0.0, 1.0)),
                gap=float(shrunk.gap[i]), raw_gap=g.raw_gap, p_value=g.p_value,
            )
    return _with_verdicts(out, p_better)


def team_steps(log: EventLog, result: AuditResult) -> dict[str, tuple[ManagerStep, ...]]:
    """Manager → their steps against the team (every manager of the log at once)."""
    if MANAGER not in log.deal_columns():
        return {}
    stages = result.funnel.stages
    reach = log.reach(by=MANAGER)
    fair = _fair_gaps(log, result)
    out: dict[str, tuple[ManagerStep, ...]] = {}
    for label, rows in reach.groupby(reach["segment"].map(lambda v: "\x00" if v is None else str(v))):
        if label == "\x00":
            continue
        reached = dict(zip(rows["stage_index"].astype(int), rows["reached"].astype(int), strict=True))
        steps = []
        for k in range(len(stages) - 1):
            n, x = reached.get(k, 0), reached.get(k + 1, 0)
            team_n = stages[k].reached
            ci = wilson_interval(x, n) if n else None
            steps.append(ManagerStep(
                stage=stages[k].id, next_stage=stages[k + 1].id, reached=n, moved=x,
                conversion=x / n if n else None, ci=ci, team_reached=team_n,
                team_conversion=stages[k + 1].reached / team_n if team_n else None,
                fair=fair.get((str(label), k)),
            ))
        out[str(label)] = tuple(steps)
    return out


def _stages(mine: EventLog, result: AuditResult) -> tuple[ManagerStage, ...]:
    stages = result.funnel.stages
    index = {sid: i for i, sid in enumerate(mine.require_funnel().stage_ids)}
    limits = {index[s.stage]: float(s.max_days) for s in result.stuck.stages
              if s.max_days is not None and s.stage in index}
    reach = mine.reach()
    by_stage = {int(r.stage_index): r for r in reach.itertuples(index=False)}
    stuck = stuck_counts(mine, limits)
    stuck_at = dict(zip(stuck["stage_index"].astype(int), stuck["stuck"].astype(int), strict=True))
    out = []
    for s in stages:
        k = index[s.id]
        row = by_stage.get(k)
        out.append(ManagerStage(
            stage=s.id,
            reached=int(row.reached) if row is not None else 0,
            open=int(row.open_here) if row is not None else 0,
            lost_here=int(row.lost_here) if row is not None else 0,
            stuck=stuck_at.get(k, 0),
            limit_days=limits.get(k),
        ))
    return tuple(out)


def manager_view(
    log: EventLog,
    result: AuditResult,
    manager: str,
    *,
    steps: dict[str, tuple[ManagerStep, ...]] | None = None,
    split: ForecastSplit | None = None,
) -> ManagerView | None:
    """The page of ``manager`` (None when no deal names them). ``steps`` and ``split``: the
    team-wide :func:`team_steps` and :func:`~voronka.audit.forecast_split.split_forecast`, when
    already computed for another manager of the same audit."""
    if MANAGER not in log.deal_columns():
        return None
    try:
        mine = apply_filter(log, DealFilter(where=((MANAGER, manager),)))
    except UsageError:  # no deal names them
        return None
    stages = _stages(mine, result)
    steps = team_steps(log, result) if steps is None else steps
    return ManagerView(
        manager=manager,
        deals=count_deals(mine, DealSelection("all")),
        won=count_deals(mine, DealSelection("won")),
        stages=stages,
        steps=steps.get(manager, ()),
        stuck=sum(s.stuck for s in stages),
        forecast=None if split is None else split.of(manager),
        team_forecast=split,
    )
