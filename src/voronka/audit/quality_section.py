"""Building the ``data_quality`` section: the readers' rejects plus the engine's exclusions and flags.

Row accounting per file: ``rows_read`` = data rows in the file; ``rows_rejected`` = rows the reader
rejected (bad date, missing value …) + rows the engine left out (unknown stage, duplicate event,
duplicate deal); ``rows_used`` = the rest. ``read == used + rejected`` always holds.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
import pyarrow.compute as pc

from voronka.audit.quality_result import DataQuality, QualityIssue
from voronka.engine import EventLog
from voronka.io import ReadResult

MAX_EXAMPLES = 5


def _reader_issues(read: ReadResult) -> list[QualityIssue]:
    rejects: pa.Table = read.rejects
    issues = []
    for reason, count in read.reject_counts().items():
        sample = rejects.filter(pc.equal(rejects.column("reason"), reason)).slice(0, MAX_EXAMPLES)
        examples = tuple(
            f"row {row}, {column}: {value!r}" if value not in (None, "") else f"row {row}, {column}"
            for row, column, value in zip(
                sample.column("row").to_pylist(),
                sample.column("column").to_pylist(),
                sample.column("value").to_pylist(),
                strict=True,
            )
        )
        issues.append(
            QualityIssue(kind=str(reason), count=int(count), examples=examples, file=read.file,
                         unit="rows", excluded=True)
        )
    return issues


def build_data_quality(reads: Mapping[str, ReadResult], log: EventLog) -> DataQuality:
    """The data-quality section of an audit of ``log`` built from ``reads``: ``{"events": …,
    "deals": …, "spend": …}`` (deals and spend only when given)."""
    counts = log.quality()
    events = reads["events"]
    deals = reads.get("deals")
    rows_read: dict[str, int] = {}
    rows_used: dict[str, int] = {}
    rows_rejected: dict[str, int] = {}
    issues: list[QualityIssue] = []
    engine_excluded = {"events": counts.events_rejected, "deals": counts.deals_rejected or 0}
    file_of = {"events": events.file, "deals": deals.file if deals is not None else None}
    for kind, read in reads.items():
        engine_out = engine_excluded.get(kind, 0)
        rejected = read.rows_rejected + engine_out
        rows_read[read.file] = read.rows_read
        rows_rejected[read.file] = rejected
        rows_used[read.file] = read.rows_read - rejected
        issues.extend(_reader_issues(read))
    for issue in counts.issues:
        if issue.count == 0:
            continue
        issues.append(
            QualityIssue(
                kind=issue.kind,
                count=issue.count,
                examples=tuple(
                    f"row {e}" if issue.unit == "rows" and issue.kind != "unknown_stage" else e
                    for e in issue.examples
                ),
                file=file_of.get(issue.file),
                unit=issue.unit,
                excluded=issue.excluded,
            )
        )
    issues.sort(key=lambda i: (-i.count, i.kind))
    notes = ("funnel_inferred",) if log.funnel is not None and log.funnel.origin == "inferred" else ()
    return DataQuality(
        rows_read=rows_read,
        rows_used=rows_used,
        rows_rejected=rows_rejected,
        issues=tuple(issues),
        notes=notes,
    )
