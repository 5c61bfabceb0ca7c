"""What the readers return: :class:`RawTable` (a file as strings) and :class:`ReadResult`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from voronka.i18n import t

Progress = Callable[[int, int], None]
"""``progress(done_bytes, total_bytes)``, called as a file is read."""

REJECT_REASONS = (
    "missing_value", "bad_date", "bad_number", "bad_status", "bad_month", "bad_row", "bad_id",
    "not_finite", "implausible_number", "after_data_end", "after_close",
)
"""Reject reason codes (``bad_row``: a CSV line whose number of fields is wrong; ``bad_id``: an id
with control characters; ``not_finite``: inf or nan; ``implausible_number``: an amount or cost
of 1e15 or more; ``after_data_end``: a date beyond the end of the data, an outlier;
``after_close``: an event after its deal's closing date). The same codes name field issues (a bad optional field, nulled)."""

DERIVED_EVENTS = "#events"
"""The suffix naming the events a layout made from a file that holds none of its own (a file of
one row per deal, a CRM export, a series of snapshots): ``<file>#events``
(:func:`derived_events_name`). The JSON keeps the name; a report names it in words."""


def derived_events_name(file: str) -> str:
    """The name of the events made from ``file`` (``<file>#events``, :data:`DERIVED_EVENTS`)."""
    return file + DERIVED_EVENTS


def derived_from(name: str) -> str | None:
    """The file the events named ``name`` were made from (None: ``name`` is not such events')."""
    if name.endswith(DERIVED_EVENTS) and len(name) > len(DERIVED_EVENTS):
        return name[: -len(DERIVED_EVENTS)]
    return None


REJECTS_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),
        ("column", pa.string()),
        ("reason", pa.string()),
        ("value", pa.string()),
        ("message", pa.string()),
    ]
)
"""Columns of :attr:`ReadResult.rejects`."""


@dataclass(frozen=True)
class RawTable:
    """A file as read, before any column is interpreted.

    Attributes:
        file: the path as the user gave it.
        table: every column as a string (``null`` for an empty cell), headers as written (a
            repeated header gets `` (2)``, `` (3)`` …), plus ``_row`` (int64, 1-based data row).
        format: ``"csv"``, ``"xlsx"`` or ``"parquet"``.
        encoding: the text encoding detected (``utf-8``, ``utf-8-sig``, ``cp1251`` …); ``None`` for
            XLSX and Parquet.
        delimiter: the CSV field separator detected; ``None`` for XLSX and Parquet.
        sheet: the XLSX sheet read; ``None`` otherwise.
        rows_read: data rows in the file (header and wholly empty rows excluded).
        bad_rows: 1-based data rows dropped because their number of fields was wrong (CSV only).
    """

    file: str
    table: pa.Table
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    rows_read: int = 0
    bad_rows: tuple[int, ...] = ()

    @property
    def headers(self) -> list[str]:
        """The headers of the file, in order (without ``_row``)."""
        return [name for name in self.table.column_names if name != "_row"]


@dataclass(frozen=True)
class ReadResult:
    """One input file read into canonical columns (see ``docs/internals.md``, io → engine).

    Attributes:
        file: the path as the user gave it.
        table: the accepted rows with canonical columns and ``_row`` (1-based data row).
        rows_read: data rows in the file (header excluded); equals
            ``table.num_rows + rejects.num_rows``.
        rejects: one row per rejected input row (:data:`REJECTS_SCHEMA`): ``row`` (1-based data
            row; a spreadsheet shows it as row ``row + 1``), ``column`` (header as written),
            ``reason`` (a code of :data:`REJECT_REASONS`), ``value`` (the cell) and ``message``.
        column_mapping: canonical name → header in the file.
        format: ``"csv"``, ``"xlsx"`` or ``"parquet"``.
        encoding: the text encoding detected, for CSV.
        delimiter: the field separator detected, for CSV.
        field_issues: faults in optional fields of accepted rows (same columns as ``rejects``):
            the field was nulled, the row kept.
        zones: date column → the UTC offset (minutes) most of its values were written with,
            for columns where some were (their values are converted to UTC).
        columns_total: the file's columns (None when not counted); with ``columns_used``, the
            headers read (canonical and kept extra columns), says how many were left out
            (a very wide file: :data:`voronka.io.readers.MAX_EXTRA_COLUMNS`).
        reject_totals: rejected rows per reason when ``rejects`` holds only examples (a table
            read and validated by the engine's backend, ``format`` ``"table"``); None when
            ``rejects`` has one record per rejected row.
        field_totals: field issues per reason when ``field_issues`` holds only examples (as
            ``reject_totals``); None when it has one record per issue.
    """

    file: str
    table: pa.Table
    rows_read: int
    rejects: pa.Table = field(default_factory=REJECTS_SCHEMA.empty_table)
    column_mapping: Mapping[str, str] = field(default_factory=dict)
    format: str = "csv"
    encoding: str | None = None
    delimiter: str | None = None
    field_issues: pa.Table = field(default_factory=REJECTS_SCHEMA.empty_table)
    zones: Mapping[str, float] = field(default_factory=dict)
    reject_totals: Mapping[str, int] | None = None
    columns_total: int | None = None
    columns_used: tuple[str, ...] = ()
    field_totals: Mapping[str, int] | None = None

    @property
    def rows_used(self) -> int:
        """Rows accepted (``rows_read − rows_rejected``; ``table.num_rows`` for a file)."""
        return self.rows_read - self.rows_rejected

    @property
    def rows_rejected(self) -> int:
        """Rows rejected (``rejects.num_rows``, or the sum of ``reject_totals``)."""
        if self.reject_totals is not None:
            return sum(self.reject_totals.values())
        return int(self.rejects.num_rows)

    def reject_counts(self) -> dict[str, int]:
        """Rejected rows per reason code."""
        if self.reject_totals is not None:
            return {k: v for k, v in self.reject_totals.items() if v}
        if self.rejects.num_rows == 0:
            return {}
        counts = self.rejects.column("reason").value_counts()
        return {str(v["values"]): int(v["counts"]) for v in counts.to_pylist()}

    def field_issue_counts(self) -> dict[str, int]:
        """Field issues (nulled optional fields of kept rows) per reason code."""
        if self.field_totals is not None:
            return {k: v for k, v in self.field_totals.items() if v}
        if self.field_issues.num_rows == 0:
            return {}
        counts = self.field_issues.column("reason").value_counts()
        return {str(v["values"]): int(v["counts"]) for v in counts.to_pylist()}


def describe_reject(reject: Mapping[str, Any], lang: str | None = None) -> str:
    """One reject record (a row of :attr:`ReadResult.rejects` as a dict) in words, in ``lang``:
    where it is (data row and spreadsheet row) and what is wrong."""
    row = int(reject["row"])
    where = t("io.row", lang, row=row, sheet_row=row + 1)
    what = t(
        f"io.reject.{reject['reason']}",
        lang,
        value=reject.get("value") or "",
        column=reject.get("column") or "",
    )
    return f"{where}: {what}"
