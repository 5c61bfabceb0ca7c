"""The checks :mod:`voronka.engine.prepare` makes on files, made on tables in a backend.

``voronka audit --engine`` reads tables where they live (:mod:`voronka.engine.sources`); these
are the same two input checks, with the same constants, reasons and results, run as SQL:

* the outlier fence (:func:`voronka.engine.prepare.outlier_fence`): without a given ``as_of``,
  event rows dated after Q3 + 3·IQR of the event times (the range at least 30 days; never below
  their 99th percentile) are rejected (``after_data_end``) and deal dates after it are nulled (a
  field issue). The quantiles are computed on the backend (linear interpolation, as NumPy's
  default); only they come back.
* events after closing (:func:`voronka.engine.prepare.after_close`): event rows dated more than a
  day after their deal's closing date — the deals table's first non-null ``closed_at`` in row
  order, else the first one on the deal's event rows — are rejected (``after_close``).

Only counts and a few examples per reason leave the backend. A table has no export date, so the
fence is not capped by one, unlike a file's (its modification time).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend

from voronka.engine.backend import to_frame
from voronka.engine.prepare import (
    AFTER_CLOSE,
    AFTER_END,
    CLOSE_SLACK,
    MESSAGES,
    fence_of,
)
from voronka.io.result import REJECTS_SCHEMA, ReadResult

MAX_EXAMPLES = 5
"""Examples kept per reason (and per column, for field issues)."""

_EPOCH = dt.datetime(1970, 1, 1)
_DEAL_DATES = ("created_at", "closed_at")


def fence_on_backend(con: BaseBackend, events: ir.Table) -> dt.datetime | None:
    """:func:`~voronka.engine.prepare.outlier_fence` of ``events.entered_at`` (without an export
    date), its quantiles computed on ``con``; None without times."""
    micros = events.entered_at.delta(ibis.timestamp(_EPOCH), unit="microsecond")
    frame = to_frame(con, events.aggregate(
        n=micros.count(), q1=micros.quantile(0.25), q3=micros.quantile(0.75),
        p99=micros.quantile(0.99),
    ))
    if int(frame["n"].iloc[0]) == 0:
        return None
    q1, q3, p99 = (float(frame[name].iloc[0]) for name in ("q1", "q3", "p99"))
    return fence_of(q1, q3, p99)


def _examples(con: BaseBackend, table: ir.Table, bad: ir.BooleanValue, column: str,
              header: str, reason: str) -> tuple[int, pa.Table]:
    """How many rows of ``table`` are ``bad``, and the first :data:`MAX_EXAMPLES` as reject
    records (the cell written as the file path writes a timestamp: whole seconds)."""
    marked = table.filter(bad)
    count = int(to_frame(con, marked.aggregate(n=marked.count()))["n"].iloc[0])
    if count == 0:
        return 0, REJECTS_SCHEMA.empty_table()
    first = marked.order_by("_row").limit(MAX_EXAMPLES)
    frame = to_frame(con, first.select(
        row=first._row.cast("int64"), value=first[column].strftime("%Y-%m-%d %H:%M:%S"),
    ).order_by("row"))
    k = len(frame)
    return count, pa.table({
        "row": pa.array(frame["row"].tolist(), pa.int64()),
        "column": pa.array([header] * k, pa.string()),
        "reason": pa.array([reason] * k, pa.string()),
        "value": pa.array([None if v is None else str(v) for v in frame["value"]], pa.string()),
        "message": pa.array([MESSAGES[reason]] * k, pa.string()),
    }, schema=REJECTS_SCHEMA)


def _concat(parts: list[pa.Table]) -> pa.Table:
    kept = [p for p in parts if p.num_rows]
    return pa.concat_tables(kept).sort_by("row") if kept else REJECTS_SCHEMA.empty_table()


def _header(read: ReadResult, column: str) -> str:
    return read.column_mapping.get(column, column)


def reject_where(con: BaseBackend, table: ir.Table, read: ReadResult, bad: ir.BooleanValue,
                 reason: str) -> tuple[ir.Table, ReadResult, int]:
    """``table`` without the rows where ``bad`` (on ``entered_at``), ``read`` with them counted
    under ``reason``, and how many there were."""
    count, examples = _examples(con, table, bad, "entered_at", _header(read, "entered_at"),
                                reason)
    if count == 0:
        return table, read, 0
    totals = dict(read.reject_totals or {})
    totals[reason] = totals.get(reason, 0) + count
    read = dataclasses.replace(read, rejects=_concat([read.rejects, examples]),
                               reject_totals=totals)
    return table.filter(~bad), read, count


def null_after(con: BaseBackend, table: ir.Table, read: ReadResult,
               fence: dt.datetime) -> tuple[ir.Table, ReadResult]:
    """``table`` with its deal dates later than ``fence`` nulled, counted as field issues."""
    limit = ibis.literal(fence, type="timestamp(6)")
    parts, totals = [read.field_issues], dict(read.field_totals or {})
    nulled: dict[str, ir.Value] = {}
    for name in _DEAL_DATES:
        if name not in table.columns:
            continue
        bad = table[name].notnull() & (table[name] > limit)
        count, examples = _examples(con, table, bad, name, _header(read, name), AFTER_END)
        if count:
            parts.append(examples)
            totals[AFTER_END] = totals.get(AFTER_END, 0) + count
            nulled[name] = ibis.ifelse(bad, ibis.null(table[name].type()), table[name])
    if not nulled:
        return table, read
    table = table.mutate(**nulled)
    return table, dataclasses.replace(read, field_issues=_concat(parts), field_totals=totals)


def close_times(events: ir.Table, deals: ir.Table | None) -> ir.Table | None:
    """Per deal id, its closing date (:func:`voronka.engine.prepare.deal_close_times`)."""
    parts = []
    for table in (deals, events):
        if table is None or "closed_at" not in table.columns:
            continue
        known = table.filter(table.closed_at.notnull())
        rank = ibis.row_number().over(group_by=known.deal_id, order_by=known._row)
        parts.append(known.mutate(_k=rank).filter(lambda t: t._k == 0)
                     .select("deal_id", _closed=known.closed_at))
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    first, second = parts
    return first.union(second.anti_join(first, "deal_id"))


def after_close_mark(events: ir.Table, deals: ir.Table | None) -> ir.Table:
    """``events`` with a boolean ``_late``: dated more than :data:`CLOSE_SLACK` after the deal's
    closing date (false without one)."""
    closes = close_times(events, deals)
    if closes is None:
        return events.mutate(_late=ibis.literal(False))
    joined = events.left_join(closes, "deal_id").select(*events.columns, "_closed")
    slack = ibis.interval(microseconds=int(CLOSE_SLACK / dt.timedelta(microseconds=1)))
    late = (joined.entered_at > joined._closed + slack).fill_null(False)
    return joined.mutate(_late=late).drop("_closed")


def check_sources(
    con: BaseBackend,
    events: ir.Table,
    deals: ir.Table | None,
    reads: dict[str, ReadResult],
    *,
    fenced: bool,
) -> tuple[ir.Table, ir.Table | None, dict[str, ReadResult], int]:
    """The tables and reads after the checks (``fenced``: with the outlier fence, i.e. without a
    given ``as_of``), and how many event rows they rejected."""
    reads = dict(reads)
    rejected = 0
    if fenced:
        fence = fence_on_backend(con, events)
        if fence is not None:
            limit = ibis.literal(fence, type="timestamp(6)")
            events, reads["events"], n = reject_where(
                con, events, reads["events"], events.entered_at > limit, AFTER_END)
            rejected += n
            events, reads["events"] = null_after(con, events, reads["events"], fence)
            if deals is not None:
                deals, reads["deals"] = null_after(con, deals, reads["deals"], fence)
    marked = after_close_mark(events, deals)
    kept, reads["events"], n = reject_where(con, marked, reads["events"], marked._late,
                                            AFTER_CLOSE)
    rejected += n
    events = kept.drop("_late") if n else events
    return events, deals, reads, rejected
