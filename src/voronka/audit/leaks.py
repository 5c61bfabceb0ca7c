"""The ``leaks`` section: stages (and segments) that lose deals, ranked by money lost."""

from __future__ import annotations

from dataclasses import dataclass

from voronka.audit.common import Segment


@dataclass(frozen=True)
class Leak:
    """A stage (optionally within a segment) that converts worse than it should.

    Attributes:
        stage: stage id.
        next_stage: id of the stage after it.
        segment: None for the funnel as a whole, else the slice.
        conversion: the (mature) conversion observed.
        expected: the conversion expected (benchmark, or the rest of the funnel for a segment).
        lost_deals: deals lost at the stage (or the shortfall against ``expected``).
        lost_revenue: ``lost_deals`` × P(won | reached next stage) × average won amount.
        significant: below ``expected`` beyond chance (FDR-controlled for segments).
    """

    stage: str
    next_stage: str
    segment: Segment | None
    conversion: float | None
    expected: float | None
    lost_deals: float
    lost_revenue: float | None
    significant: bool
