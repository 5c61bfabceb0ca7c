"""The ``stuck`` section: open deals past their stage's time limit.

The limit of a stage is its ``max_days`` from the funnel file (``limit_source = "funnel"``); where
absent, the 90th percentile of the time deals spent in the stage before leaving it
(``"history"``, from at least :data:`MIN_HISTORY` departures); else there is none (``"none"``) and
no deal of the stage counts as stuck. A deal is stuck when its days in the stage exceed the limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from voronka.engine import MAX_STUCK_LIST, EventLog, stuck_by_column, stuck_counts, worst_stuck
from voronka.funnel import Funnel

MIN_HISTORY = 10
"""Departures from a stage needed before its p90 time in stage serves as the automatic limit."""


@dataclass(frozen=True)
class StuckStage:
    """Stuck-deal counts of one stage.

    Attributes:
        stage: stage id.
        open: open deals in the stage.
        stuck: of them, those longer in the stage than ``max_days``.
        max_days: the limit applied.
        limit_source: where the limit came from: ``funnel`` (the stage's ``max_days``),
            ``history`` (p90 of time in stage) or ``none``.
    """

    stage: str
    open: int
    stuck: int
    max_days: float | None
    limit_source: str = "none"


@dataclass(frozen=True)
class StuckDeal:
    """One stuck deal (the list is bounded, worst first).

    Attributes:
        deal_id: the deal.
        stage: its current stage id.
        days: days in the stage.
        key_task: what to do next (the stage's key task).
        manager: the responsible manager (None when unknown).
        limit_days: the stage's limit.
        overdue_ratio: ``days / limit_days`` (the list is sorted by it, largest first).
    """

    deal_id: str
    stage: str
    days: float
    key_task: str | None
    manager: str | None = None
    limit_days: float | None = None
    overdue_ratio: float | None = None


@dataclass(frozen=True)
class StuckManager:
    """Stuck deals of one manager.

    Attributes:
        manager: the manager (None: deals without one).
        open: their open deals.
        stuck: of them, stuck.
    """

    manager: str | None
    open: int
    stuck: int


@dataclass(frozen=True)
class StuckReport:
    """The ``stuck`` section.

    Attributes:
        stages: per-stage counts.
        deals: the worst stuck deals, bounded.
        by_manager: stuck counts per manager, most stuck first (empty without a manager column).
        total_stuck: stuck deals over all stages (the list ``deals`` may be shorter).
        list_limit: the bound of ``deals``.
    """

    stages: tuple[StuckStage, ...] = ()
    deals: tuple[StuckDeal, ...] = ()
    by_manager: tuple[StuckManager, ...] = ()
    total_stuck: int = 0
    list_limit: int = MAX_STUCK_LIST


def stuck_limits(
    funnel: Funnel, time_in_stage: pd.DataFrame, *, min_history: int = MIN_HISTORY
) -> dict[str, tuple[float | None, str]]:
    """Stage id → (limit in days, source) by the rule in the module docstring.

    ``time_in_stage``: the engine's frame (``stage_id``, ``n_left``, ``p90_days``).
    """
    history = {
        str(r.stage_id): (int(r.n_left), float(r.p90_days))
        for r in time_in_stage.itertuples(index=False)
    }
    out: dict[str, tuple[float | None, str]] = {}
    for stage in funnel.stages:
        if stage.max_days is not None:
            out[stage.id] = (float(stage.max_days), "funnel")
            continue
        n_left, p90 = history.get(stage.id, (0, math.nan))
        if n_left >= min_history and not math.isnan(p90):
            out[stage.id] = (p90, "history")
        else:
            out[stage.id] = (None, "none")
    return out


def build_stuck(
    log: EventLog,
    lang: str | None = None,
    *,
    list_limit: int = MAX_STUCK_LIST,
    manager_column: str = "manager",
) -> StuckReport:
    """The ``stuck`` section of the log's funnel; key tasks in ``lang`` (default: the funnel's)."""
    funnel = log.funnel
    if funnel is None:
        raise RuntimeError("this needs a funnel: build the log with one or call with_funnel")
    limits = stuck_limits(funnel, log.time_in_stage())
    by_index = {funnel.index(sid): days for sid, (days, _) in limits.items() if days is not None}
    counts = stuck_counts(log, by_index, column=manager_column)
    stages = tuple(
        StuckStage(
            stage=str(r.stage_id),
            open=int(r.open),
            stuck=int(r.stuck),
            max_days=limits[str(r.stage_id)][0],
            limit_source=limits[str(r.stage_id)][1],
        )
        for r in counts.itertuples(index=False)
    )
    worst = worst_stuck(log, by_index, limit=list_limit, columns=(manager_column,))
    language = lang or funnel.language
    deals = tuple(
        StuckDeal(
            deal_id=str(r["deal_id"]),
            stage=funnel.stage_ids[int(r["stage_index"])],
            days=float(r["days"]),
            key_task=funnel.stages[int(r["stage_index"])].key_task_in(language),
            manager=r[manager_column],
            limit_days=float(r["limit_days"]),
            overdue_ratio=float(r["overdue_ratio"]),
        )
        for _, r in worst.iterrows()
    )
    managers = stuck_by_column(log, by_index, manager_column)
    by_manager = tuple(
        StuckManager(manager=r["value"], open=int(r["open"]), stuck=int(r["stuck"]))
        for _, r in managers.iterrows()
    )
    return StuckReport(
        stages=stages,
        deals=deals,
        by_manager=by_manager,
        total_stuck=sum(s.stuck for s in stages),
        list_limit=list_limit,
    )
