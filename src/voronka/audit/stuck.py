"""The ``stuck`` section: open deals past their stage's time limit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StuckStage:
    """Stuck-deal counts of one stage.

    Attributes:
        stage: stage id.
        open: open deals in the stage.
        stuck: of them, those longer in the stage than ``max_days``.
        max_days: the limit applied.
    """

    stage: str
    open: int
    stuck: int
    max_days: float | None


@dataclass(frozen=True)
class StuckDeal:
    """One stuck deal (the list is bounded, worst first).

    Attributes:
        deal_id: the deal.
        stage: its current stage id.
        days: days in the stage.
        key_task: what to do next (the stage's key task).
    """

    deal_id: str
    stage: str
    days: float
    key_task: str | None


@dataclass(frozen=True)
class StuckReport:
    """The ``stuck`` section.

    Attributes:
        stages: per-stage counts.
        deals: the worst stuck deals, bounded.
    """

    stages: tuple[StuckStage, ...] = ()
    deals: tuple[StuckDeal, ...] = ()
