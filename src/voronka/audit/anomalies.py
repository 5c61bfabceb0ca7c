"""The ``anomalies`` section: lasting shifts, up or down, in a stage's conversion or a source's volume."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from voronka.audit.common import Segment


@dataclass(frozen=True)
class Anomaly:
    """A detected shift in level.

    Attributes:
        stage: stage id (for a volume shift: the first stage).
        next_stage: the stage the conversion leads to (None for a volume shift).
        segment: None funnel-wide, else the slice.
        direction: ``up`` or ``down``.
        since: first period of the new level.
        before: level before the shift.
        after: level after the shift.
        q_value: Benjamini–Hochberg adjusted p-value across all series scanned.
        significant: ``q_value`` below the FDR level (5%).
    """

    stage: str
    next_stage: str | None
    segment: Segment | None
    direction: str
    since: date
    before: float
    after: float
    q_value: float
    significant: bool
