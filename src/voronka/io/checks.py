"""Turning a reader's checks into accepted rows, rejected rows and field-level issues.

A check marks cells of one column as faulty for one reason. A fault in a *required* column
rejects the row (the first fault, in check order, is the reason recorded); a fault in an
*optional* column (amount, source, status, a date of the deal …) nulls that one field and is
recorded as a field issue, so the row keeps its required facts and still counts as used.
In ``strict`` mode the first fault of either kind stops the read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voronka.errors import InputError, Msg
from voronka.io.numbers import as_chunked
from voronka.io.result import REJECTS_SCHEMA, RawTable, ReadResult


@dataclass(frozen=True)
class Check:
    """Rows where ``bad`` is true have a fault ``reason`` in column ``name`` (``header`` in the
    file); ``required`` faults reject the row, the others null the field."""

    bad: np.ndarray
    header: str
    reason: str
    cells: pa.ChunkedArray
    name: str = ""
    required: bool = True


def finish(
    raw: RawTable,
    table: pa.Table,
    checks: Sequence[Check],
    mapping: Mapping[str, str],
    strict: bool,
    messages: Mapping[str, str],
) -> ReadResult:
    """The :class:`ReadResult` of ``table`` given its ``checks`` (see the module docstring)."""
    n = table.num_rows
    first = np.full(n, -1, dtype=np.int16)
    any_fault = np.full(n, -1, dtype=np.int16)
    for i, check in enumerate(checks):
        if check.required:
            first[(first == -1) & check.bad] = i
        any_fault[(any_fault == -1) & check.bad] = i
    rejected = first >= 0
    rows = table.column("_row").to_numpy()
    if strict and ((any_fault >= 0).any() or raw.bad_rows):
        _raise_first(raw, checks, any_fault, rows)
    parts = [_records(check, np.flatnonzero(first == i), rows, messages)
             for i, check in enumerate(checks) if check.required]
    if raw.bad_rows:
        parts.append(_bad_row_rejects(raw.bad_rows, messages))
    rejects = _concat(parts)
    field_parts = []
    for check in checks:
        if check.required:
            continue
        where = np.flatnonzero(check.bad & ~rejected)
        if not len(where):
            continue
        field_parts.append(_records(check, where, rows, messages))
        name = check.name
        if name in table.column_names:
            mask = np.zeros(n, dtype=bool)
            mask[where] = True
            col = table.column(name)
            nulled = as_chunked(pc.if_else(pa.array(mask), pa.scalar(None, col.type), col))
            table = table.set_column(table.column_names.index(name), name, nulled)
    accepted = table.filter(pa.array(~rejected)) if rejected.any() else table
    return ReadResult(
        file=raw.file,
        table=accepted,
        rows_read=raw.rows_read,
        rejects=rejects,
        column_mapping=dict(mapping),
        format=raw.format,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        field_issues=_concat(field_parts),
    )


def _concat(parts: list[pa.Table]) -> pa.Table:
    kept = [p for p in parts if p.num_rows]
    return pa.concat_tables(kept).sort_by("row") if kept else REJECTS_SCHEMA.empty_table()


def _records(
    check: Check, where: np.ndarray, rows: np.ndarray, messages: Mapping[str, str]
) -> pa.Table:
    k = len(where)
    if k == 0:
        return REJECTS_SCHEMA.empty_table()
    cells = check.cells.take(pa.array(where))
    values = cells if pa.types.is_string(cells.type) else cells.cast(pa.string())
    return pa.table(
        {
            "row": pa.array(rows[where], pa.int64()),
            "column": pa.array([check.header] * k, pa.string()),
            "reason": pa.array([check.reason] * k, pa.string()),
            "value": values.cast(pa.string()),
            "message": pa.array([messages[check.reason]] * k, pa.string()),
        },
        schema=REJECTS_SCHEMA,
    )


def _bad_row_rejects(bad_rows: Sequence[int], messages: Mapping[str, str]) -> pa.Table:
    k = len(bad_rows)
    return pa.table(
        {
            "row": pa.array(list(bad_rows), pa.int64()),
            "column": pa.nulls(k, pa.string()),
            "reason": pa.array(["bad_row"] * k, pa.string()),
            "value": pa.nulls(k, pa.string()),
            "message": pa.array([messages["bad_row"]] * k, pa.string()),
        },
        schema=REJECTS_SCHEMA,
    )


def _raise_first(
    raw: RawTable,
    checks: Sequence[Check],
    first: np.ndarray,
    rows: np.ndarray,
) -> None:
    bad_positions = np.flatnonzero(first >= 0)
    candidates: list[tuple[int, str, str | None, str | None]] = []
    if len(bad_positions):
        pos = int(bad_positions[0])
        check = checks[int(first[pos])]
        value = check.cells[pos].as_py()
        candidates.append(
            (int(rows[pos]), check.reason, check.header, None if value is None else str(value))
        )
    if raw.bad_rows:
        candidates.append((raw.bad_rows[0], "bad_row", None, None))
    row, reason, header, value = min(candidates, key=lambda c: c[0])
    raise InputError(bad_cell(reason, value), file=raw.file, row=row, column=header,
                     expected=bad_cell_expected(reason), reason=reason, value=value)


def bad_cell(reason: str, value: str | None) -> Msg:
    """What is wrong with a cell (``reason``, a key of ``errors.bad_cell.*``), with the cell."""
    what = Msg(f"errors.bad_cell.{reason}")
    if value is None:
        return what
    return Msg("errors.bad_cell_with_value", what=what, value=_excerpt(value))


def bad_cell_expected(reason: str) -> Msg:
    """What a cell rejected for ``reason`` should have held."""
    from voronka.io.readers import IMPLAUSIBLE

    return Msg(f"errors.bad_cell_expected.{reason}", limit=f"{IMPLAUSIBLE:.0e}")


def _excerpt(value: str, limit: int = 60) -> str:
    """A cell as shown in a message: at most ``limit`` characters."""
    return value if len(value) <= limit else value[:limit] + "…"


def reject_rows(read: ReadResult, bad: np.ndarray, reason: str, column: str, message: str) -> ReadResult:
    """``read`` with the accepted rows where ``bad`` is true moved to its rejects for ``reason``
    (a check made after reading, e.g. an event dated after its deal was closed)."""
    if not bad.any():
        return read
    where = np.flatnonzero(bad)
    moved = _records_at(read, where, reason, column, message)
    return replace(read, table=_without(read.table, where),
                   rejects=_concat([read.rejects, moved]))


FEW_ROWS = 64
"""Rows left out of a table, at most, by slicing around them instead of filtering."""


def _without(table: pa.Table, where: np.ndarray) -> pa.Table:
    """``table`` without the rows at positions ``where`` (sorted): a few rows (an outlier date)
    by joining the slices between them, which shares the columns' buffers; more by a filter,
    which copies every column (about 150 MB of new pages for one row at 1,000,000 deals)."""
    if len(where) > FEW_ROWS:
        keep = np.ones(table.num_rows, dtype=bool)
        keep[where] = False
        return table.filter(pa.array(keep))
    bounds = [-1, *where.tolist(), table.num_rows]
    parts = [table.slice(a + 1, b - a - 1) for a, b in zip(bounds, bounds[1:], strict=False)
             if b - a > 1]
    return pa.concat_tables(parts) if parts else table.slice(0, 0)


def null_fields(read: ReadResult, bad: np.ndarray, reason: str, column: str, message: str) -> ReadResult:
    """``read`` with ``column`` nulled where ``bad`` is true, recorded as field issues."""
    if not bad.any():
        return read
    table = read.table
    col = table.column(column)
    issues = _records_at(read, np.flatnonzero(bad), reason, column, message)
    nulled = as_chunked(pc.if_else(pa.array(bad), pa.scalar(None, col.type), col))
    table = table.set_column(table.column_names.index(column), column, nulled)
    return replace(read, table=table, field_issues=_concat([read.field_issues, issues]))


def _records_at(read: ReadResult, where: np.ndarray, reason: str, column: str,
                message: str) -> pa.Table:
    """Records of ``read``'s rows at positions ``where`` for ``reason`` in ``column``: only
    those cells are written as text (a timestamp column's text for millions of rows cost
    seconds, for the one event typed as 2099)."""
    table = read.table
    header = read.column_mapping.get(column, column)
    cells = _as_text(table.column(column).take(pa.array(where)))
    rows = table.column("_row").take(pa.array(where)).to_numpy()
    check = Check(np.ones(len(where), dtype=bool), header, reason, cells, column)
    return _records(check, np.arange(len(where)), rows, {reason: message})


def _as_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_timestamp(col.type):
        return as_chunked(pc.strftime(col, format="%Y-%m-%d %H:%M:%S"))
    return col if pa.types.is_string(col.type) else col.cast(pa.string())
