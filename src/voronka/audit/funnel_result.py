"""The ``funnel`` section: reach, conversion with Wilson intervals, time in stage, open deals."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StageReport:
    """One stage of the funnel section.

    Attributes:
        id: stage id.
        name: stage display name (funnel language).
        reached: deals that entered this stage or any later one.
        conversion: the share of deals that reached the stage which move on to the next, open
            deals accounted for (Aalen–Johansen, docs/methods.md) when the audit computed it, else
            ``reached[next] / reached[this]``; None for the last stage or when nothing reached.
        conversion_ci: 95% interval of ``conversion``, None where it is None.
        median_days: median days a deal spent in the stage before its next event (deals that left).
        p90_days: 90th percentile of the same.
        open: open deals whose current stage is this one.
        lost_here: lost deals whose last stage was this one.
        left: deals that left the stage (the n behind ``median_days`` and ``p90_days``).
        raw_conversion: ``reached[next] / reached[this]``: open deals counted as not converted.
        immature_share: share of the deals that reached the stage still open and younger than
            the step's settled horizon (what ``conversion`` corrects for).
    """

    id: str
    name: str
    reached: int
    conversion: float | None
    conversion_ci: tuple[float, float] | None
    median_days: float | None
    p90_days: float | None
    open: int
    lost_here: int = 0
    left: int = 0
    raw_conversion: float | None = None
    immature_share: float | None = None


@dataclass(frozen=True)
class FunnelReport:
    """The ``funnel`` section.

    Attributes:
        stages: the stages in funnel order, up to the won stage.
        deals: deals in the funnel.
        won: won deals.
        lost: lost deals.
        open: open deals.
        name: the funnel's title.
        origin: ``file``, ``template`` or ``inferred`` (the order was inferred from the data).
        template: the built-in template's id when one was used.
        won_amount: sum of the amounts of won deals (None when the data has no amounts).
        not_in_funnel: deals (of ``deals``) with no event of a funnel stage, so not in the first
            stage's ``reached``: closed or open with only a loss or unmapped events.
        not_in_funnel_lost: how many of those are lost.
        won_without_won_stage: won deals (of ``won``) that never reached the won stage (marked
            won in the deals file or by a status column), so not in its ``reached``.
    """

    stages: tuple[StageReport, ...]
    deals: int
    won: int
    lost: int
    open: int
    name: str = ""
    origin: str = "file"
    template: str | None = None
    won_amount: float | None = None
    not_in_funnel: int = 0
    not_in_funnel_lost: int = 0
    won_without_won_stage: int = 0
