"""The ``data_quality`` section: every input row used, or reported with the reason it was not."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class QualityIssue:
    """One kind of data-quality problem.

    Attributes:
        kind: a stable code (``bad_date``, ``unknown_stage``, ``duplicate_event``,
            ``event_before_created``, ``backward_move``, ``deal_without_events``,
            ``event_without_deal``, ``missing_value`` …).
        count: how many rows (or deals, per ``unit``) have it.
        examples: a few examples a person can look up (row numbers, deal ids, stage names).
        file: the input file it concerns, when one.
        unit: what ``count`` counts: ``rows`` or ``deals``.
        excluded: whether the affected rows were left out of the audit.
    """

    kind: str
    count: int
    examples: tuple[str, ...] = ()
    file: str | None = None
    unit: str = "rows"
    excluded: bool = False


@dataclass(frozen=True)
class DataQuality:
    """The ``data_quality`` section.

    Attributes:
        rows_read: data rows read per input file.
        rows_used: rows that entered the audit, per file.
        rows_rejected: rows left out, per file (``read == used + rejected``).
        issues: problems by kind, most frequent first.
        notes: plain statements about the run (``funnel inferred from the data`` …) as message keys.
    """

    rows_read: Mapping[str, int]
    rows_used: Mapping[str, int]
    rows_rejected: Mapping[str, int]
    issues: tuple[QualityIssue, ...] = ()
    notes: tuple[str, ...] = field(default=())
