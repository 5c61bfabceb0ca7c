"""The ``pileups`` section: stages where open deals accumulate (Little's law)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pileup:
    """Accumulation in one stage.

    Attributes:
        stage: stage id.
        open: open deals in the stage.
        weekly_throughput: deals leaving it per week over the last 13 weeks.
        residence_days: open / throughput, in days.
    """

    stage: str
    open: int
    weekly_throughput: float
    residence_days: float | None
