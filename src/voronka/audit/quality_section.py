"""Building the ``data_quality`` section: the readers' rejects plus the engine's exclusions and flags.

Row accounting per file: ``rows_read`` = data rows in the file; ``rows_rejected`` = rows the reader
rejected (bad date, missing value …) + rows the engine left out (unknown stage, duplicate event,
duplicate deal); ``rows_used`` = the rest. ``read == used + rejected`` always holds.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
import pyarrow.compute as pc

from voronka.audit.quality import DataQuality, QualityIssue
from voronka.engine import EventLog
from voronka.i18n import has
from voronka.io import ReadResult, describe_reject
from voronka.text_safety import excerpt

MAX_EXAMPLES = 5


def _example(row: int, column: str | None, value: str | None, reason: str,
             lang: str | None) -> str:
    """One rejected row in words, in ``lang``: the localised description io gives
    (:func:`voronka.io.describe_reject`), the cell as a short escaped excerpt."""
    if has(f"io.reject.{reason}"):
        cell = excerpt(value) if value not in (None, "") else ""
        return describe_reject({"row": row, "column": column, "value": cell, "reason": reason},
                               lang)
    if value not in (None, ""):
        return f"row {row}, {column}: {excerpt(value)!r}"
    return f"row {row}, {column}"


def _reader_issues(read: ReadResult, lang: str | None = None) -> list[QualityIssue]:
    rejects: pa.Table = read.rejects
    if rejects.num_rows == 0:
        return []
    issues = []
    counts = rejects.group_by("reason").aggregate([("row", "count")])
    for reason, count in zip(
        counts.column("reason").to_pylist(), counts.column("row_count").to_pylist(), strict=True
    ):
        sample = rejects.filter(pc.equal(rejects.column("reason"), reason)).slice(0, MAX_EXAMPLES)
        examples = tuple(
            _example(row, column, value, str(reason), lang)
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


def build_data_quality(
    reads: Mapping[str, ReadResult], log: EventLog, lang: str | None = None
) -> DataQuality:
    """The data-quality section of an audit of ``log`` built from ``reads``: ``{"events": …,
    "deals": …, "spend": …}`` (deals and spend only when given); the rejected rows' examples in
    ``lang``."""
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
        rejected = read.rejects.num_rows + engine_out
        rows_read[read.file] = read.rows_read
        rows_rejected[read.file] = rejected
        rows_used[read.file] = read.rows_read - rejected
        issues.extend(_reader_issues(read, lang))
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
