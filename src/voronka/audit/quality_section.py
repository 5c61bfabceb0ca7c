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
from voronka.engine import EventLog, ReadResult, describe_reject
from voronka.i18n import has, t
from voronka.text_safety import excerpt

MAX_EXAMPLES = 5
MOST_LOST = 0.5
"""A file with more than this share of its rows left out gets a warning on the first screen."""


def _reader_issues(read: ReadResult, lang: str | None = None) -> list[QualityIssue]:
    return _issues(read.rejects, read.reject_counts(), read.file, excluded=True,
                   lang=lang) + _issues(
        read.field_issues, read.field_issue_counts(), read.file, excluded=False, lang=lang
    )


def _reject_example(row: int, column: str | None, value: str | None, reason: str,
                    lang: str | None) -> str:
    """One rejected row (or nulled field) in words, in ``lang``: the localised description io
    gives (:func:`voronka.io.describe_reject`), the cell as a short escaped excerpt."""
    if has(f"io.reject.{reason}"):
        cell = excerpt(value) if value not in (None, "") else ""
        return describe_reject({"row": row, "column": column, "value": cell, "reason": reason},
                               lang)
    where = t("report.example.row", lang, n=row)
    if value not in (None, ""):
        return f"{where}, {column}: {excerpt(value)!r}"
    return f"{where}, {column}"


def _issues(
    rejects: pa.Table, counts: Mapping[str, int], file: str, *, excluded: bool,
    lang: str | None = None,
) -> list[QualityIssue]:
    """Rejected rows (``excluded``) or nulled fields of kept rows, per reason."""
    issues = []
    for reason, count in counts.items():
        sample = rejects.filter(pc.equal(rejects.column("reason"), reason)).slice(0, MAX_EXAMPLES)
        examples = tuple(
            _reject_example(row, column, value, str(reason), lang)
            for row, column, value in zip(
                sample.column("row").to_pylist(),
                sample.column("column").to_pylist(),
                sample.column("value").to_pylist(),
                strict=True,
            )
        )
        issues.append(
            QualityIssue(kind=str(reason) if excluded else f"field_{reason}", count=int(count),
                         examples=examples, file=file, unit="rows", excluded=excluded)
        )
    return issues


def _example(kind: str, unit: str, example: str, lang: str | None = None) -> str:
    """An engine example in words, in ``lang``: backward moves are named by deal id, other row
    kinds by row."""
    if kind == "backward_move":
        return t("report.example.deal", lang, id=example)
    if unit == "rows" and kind != "unknown_stage":
        return t("report.example.row", lang, n=example)
    return example


def _cut_issues(log: EventLog, file_of: Mapping[str, str | None]) -> list[QualityIssue]:
    """What an explicit ``--as-of`` set aside or reopened (nothing when it cut nothing)."""
    cut = log.as_of_cut
    if cut is None or cut.events_set_aside + cut.deals_after + cut.closings_undone == 0:
        return []
    events_file = file_of["events"]
    deals_file = file_of.get("deals")
    found = [
        QualityIssue("after_as_of", cut.events_after, file=events_file, unit="rows",
                     excluded=True),
        QualityIssue("of_deal_created_after_as_of", cut.events_of_later_deals, file=events_file,
                     unit="rows", excluded=True),
        QualityIssue("created_after_as_of", cut.deals_after, file=deals_file or events_file,
                     unit="rows" if deals_file else "deals", excluded=deals_file is not None),
        QualityIssue("closed_after_as_of", cut.closings_undone, file=deals_file or events_file,
                     unit="deals"),
        QualityIssue("closing_date_unknown", cut.closing_date_unknown,
                     file=deals_file or events_file, unit="deals"),
    ]
    return [i for i in found if i.count > 0]


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
    cut = log.as_of_cut
    engine_excluded = {
        "events": counts.events_rejected + (cut.events_set_aside if cut else 0),
        "deals": (counts.deals_rejected or 0) + (cut.deals_after if cut else 0),
    }
    file_of = {"events": events.file, "deals": deals.file if deals is not None else None}
    for kind, read in reads.items():
        engine_out = engine_excluded.get(kind, 0)
        rejected = read.rows_rejected + engine_out
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
                    _example(issue.kind, issue.unit, e, lang)
                    for e in issue.examples
                ),
                file=file_of.get(issue.file),
                unit=issue.unit,
                excluded=issue.excluded,
            )
        )
    issues.extend(_cut_issues(log, file_of))
    issues.sort(key=lambda i: (-i.count, i.kind))
    notes: tuple[str, ...] = (
        ("funnel_inferred",) if log.funnel is not None and log.funnel.origin == "inferred" else ()
    )
    if any(rows_rejected[f] > MOST_LOST * n for f, n in rows_read.items() if n):
        notes += ("inputs.note.most_rows_lost",)
    return DataQuality(
        rows_read=rows_read,
        rows_used=rows_used,
        rows_rejected=rows_rejected,
        issues=tuple(issues),
        notes=notes,
    )
