"""Checks on the canonical input tables before they go onto the backend (issue 10, points 3, 7).

* :func:`outlier_fence`: the latest moment the data can describe. One event typed as 2099 must
  not become the audit's ``as_of``: timestamps beyond a robust upper fence of the events' time
  distribution (the third quartile plus three interquartile ranges, the range taken as at least
  30 days), or beyond the export's own date (the file's modification time, plus a day), are
  outliers. The default ``as_of`` is the latest timestamp at or before the fence; the forecast
  and any other caller that needs "the end of the data" use the same function.
* :func:`after_close`: event rows dated more than a day after their deal's closing date
  (``closed_at`` of the deals table, else the first one on the deal's event rows). A deal cannot
  reach a stage after it was closed; such rows are left out and reported.

Both work on Arrow columns in a few vectorised passes (no row loops); they return masks and
moments, and the caller (the API) records what is left out in the data-quality section.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voronka.engine.deal_keys import digit_width
from voronka.errors import InputError, Msg, UsageError
from voronka.io.checks import null_fields, reject_rows
from voronka.io.inputs import InputSet

MIN_SPREAD = dt.timedelta(days=30)
"""The interquartile range of the event times is taken as at least this (short exports)."""

FENCE_IQRS = 3.0
"""How many interquartile ranges above the third quartile a timestamp may lie."""

CLOSE_SLACK = dt.timedelta(days=1)
"""An event up to this long after the closing date still counts (closing dates without a time)."""

_US = 1_000_000


def _micros(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """The non-null values of a timestamp ``column`` as microseconds since 1970: one new
    array, which the caller owns (the columns' own buffers are never written)."""
    values = pc.cast(column, pa.timestamp("us"))
    if values.null_count:
        values = pc.drop_null(values)
    out: np.ndarray = values.cast(pa.int64()).to_numpy(zero_copy_only=False)
    # A one-chunk column without nulls converts as a read-only view of Arrow's buffer.
    return out if out.flags.writeable else out.copy()


def _from_micros(value: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(value))


def fence_of(q1: float, q3: float, p99: float, not_after: dt.datetime | None = None) -> dt.datetime:
    """The fence from the quartiles and the 99th percentile of the event times (microseconds since
    1970): Q3 + 3·IQR (IQR at least :data:`MIN_SPREAD`), at most ``not_after``, never below p99."""
    spread = max(q3 - q1, MIN_SPREAD.total_seconds() * _US)
    fence = _from_micros(int(min(q3 + FENCE_IQRS * spread, 2**62)))
    if not_after is not None:
        fence = min(fence, not_after)
    # Never cut into the bulk of the data: an export date earlier than most events is wrong.
    return max(fence, _from_micros(int(p99)))


def outlier_fence(
    times: pa.ChunkedArray | pa.Array, *, not_after: dt.datetime | None = None
) -> dt.datetime | None:
    """The latest credible timestamp of ``times`` (the events' ``entered_at``): Q3 + 3·IQR (IQR at
    least :data:`MIN_SPREAD`), and at most ``not_after`` (the export's date). None without times.

    The three percentiles are numpy's (linear interpolation) of one copy of the column, which
    they partially sort in place (``overwrite_input``): no further copy of millions of values.
    """
    values = _micros(times)
    if not len(values):
        return None
    q1, q3, p99 = np.percentile(values, [25, 75, 99], overwrite_input=True)
    return fence_of(float(q1), float(q3), float(p99), not_after)


def after_fence(column: pa.ChunkedArray | pa.Array, fence: dt.datetime) -> np.ndarray:
    """Rows of a timestamp ``column`` later than ``fence`` (nulls are not): compared in Arrow,
    without an integer copy of the column."""
    later = pc.greater(pc.cast(column, pa.timestamp("us")), pa.scalar(fence, pa.timestamp("us")))
    return np.asarray(pc.fill_null(later, False).to_numpy(zero_copy_only=False), dtype=bool)


def _naive(table: pa.Table | None, name: str) -> pa.ChunkedArray | None:
    """``table[name]`` as naive-UTC microsecond timestamps (None when absent)."""
    if table is None or name not in table.column_names:
        return None
    return pc.cast(table.column(name), pa.timestamp("us"))


_CANDIDATES = """
cand AS (
    SELECT e._pos, e.deal_id, e.entered_at
    FROM entries AS e JOIN closings AS c ON e.deal_id = c.deal_id
    WHERE c.closed_at IS NOT NULL AND epoch_us(e.entered_at) > epoch_us(c.closed_at) + $slack
)"""
""":data:`_AFTER_CLOSE_SQL`'s first step: the event rows dated after *some* closing date of
their deal (a superset of the rows after the deal's first one). Only the deals of these rows,
usually none or a few, are then grouped to find their first closing date: grouping every deal
cost more than the join (0.3 of 0.5 s CPU at 1,000,000 deals)."""

_AFTER_CLOSE_SQL = f"""
WITH {_CANDIDATES},
firsts AS (
    SELECT src, deal_id, arg_min(closed_at, _row) AS closed_at
    FROM closings WHERE closed_at IS NOT NULL AND deal_id IN (SELECT deal_id FROM cand)
    GROUP BY src, deal_id
),
closes AS (
    SELECT deal_id, closed_at FROM firsts WHERE src = 0
    UNION ALL
    SELECT deal_id, closed_at FROM firsts AS f WHERE src = 1
      AND NOT EXISTS (SELECT 1 FROM firsts AS d WHERE d.src = 0 AND d.deal_id = f.deal_id)
)
SELECT cand._pos FROM cand JOIN closes AS c ON cand.deal_id = c.deal_id
WHERE epoch_us(cand.entered_at) > epoch_us(c.closed_at) + $slack
"""

_AFTER_ONE_CLOSE_SQL = f"""
WITH {_CANDIDATES},
closes AS (
    SELECT deal_id, arg_min(closed_at, _row) AS closed_at
    FROM closings WHERE closed_at IS NOT NULL AND deal_id IN (SELECT deal_id FROM cand)
    GROUP BY deal_id
)
SELECT cand._pos FROM cand JOIN closes AS c ON cand.deal_id = c.deal_id
WHERE epoch_us(cand.entered_at) > epoch_us(c.closed_at) + $slack
"""
""":data:`_AFTER_CLOSE_SQL` when the closings come from one table (usually the deals table: an
events file seldom has a closing date): the same rows, without the second source's anti-join."""


KEY_SPAN_PER_ROW = 4
""":func:`after_close` looks closing dates up by the id's value in an array as long as the range
of the ids' values when that range is at most this many slots per input row (plus
:data:`_MIN_SPAN`), else it joins the texts in DuckDB: sequential CRM ids fill such a range."""

_MIN_SPAN = 1 << 16
_NONE = np.iinfo(np.int64).min
_LAST = np.iinfo(np.int64).max


def _numpy(values: pa.Array, null: int) -> np.ndarray:
    """An integer Arrow array as int64 numpy values, ``null`` where it is null."""
    values = pc.cast(values, pa.int64())
    if values.null_count:
        values = pc.fill_null(values, null)
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.int64)


def _batches(table: pa.Table, closed: pa.ChunkedArray | None = None
             ) -> Iterator[tuple[np.ndarray, np.ndarray, pa.RecordBatch]]:
    """Per record batch of ``table``: the id values (null: -1, which no digit id has), the times
    in microseconds (``closed``, else ``entered_at``; null: :data:`_NONE`), and the batch (with
    ``_row`` as its third column when ``closed`` is given). A
    batch at a time: the temporaries stay small and are reused, where whole-column arrays of
    millions of rows cost their pages' first touch (0.3 s of system time at 1,000,000 deals)."""
    columns = {"deal_id": table.column("deal_id"),
               "_t": closed if closed is not None else table.column("entered_at")}
    if closed is not None:
        columns["_row"] = table.column("_row")
    for batch in pa.table(columns).to_batches(max_chunksize=1 << 17):
        times = pc.cast(batch.column(1), pa.timestamp("us"))
        yield _numpy(batch.column(0), -1), _numpy(times, _NONE), batch


def _first_closings(table: pa.Table, closed: pa.ChunkedArray, low: int, span: int
                    ) -> np.ndarray:
    """Per id value ``low + i`` of ``table``: its first non-null closing in file order (smallest
    ``_row``), :data:`_NONE` when it has none. ``np.minimum.at`` finds each id's first row
    whatever the order of the rows (no sort); a second pass writes that row's closing, once per
    id (``_row`` numbers are unique, so exactly one row per id is the first)."""
    first = np.full(span, _LAST, dtype=np.int64)
    for keys, times, batch in _batches(table, closed):
        have = (times != _NONE) & (keys >= 0)
        np.minimum.at(first, keys[have] - low, _numpy(batch.column(2), _LAST)[have])
    out = np.full(span, _NONE, dtype=np.int64)
    for keys, times, batch in _batches(table, closed):
        have = (times != _NONE) & (keys >= 0)
        slots, rows = keys[have] - low, _numpy(batch.column(2), _LAST)[have]
        is_first = rows == first[slots]
        out[slots[is_first]] = times[have][is_first]
    return out


def _after_close_by_value(
    events: pa.Table, sources: list[tuple[pa.Table, pa.ChunkedArray]]
) -> np.ndarray | None:
    """:func:`after_close` for digit ids of one width whose values span a short range (the
    usual CRM export): each deal's closing date looked up by the id's value in an array, in
    vectorised passes over record batches, instead of a hash join of the id texts (0.4 s CPU at
    1,000,000 deals, bench/README.md round 10). None when the ids are not such (the caller
    joins them)."""
    tables = [events, *(table for table, _ in sources)]
    ids = [pc.cast(table.column("deal_id"), pa.string()) for table in tables]
    if not digit_width([chunk for column in ids for chunk in column.chunks]):
        return None
    bounds = [pc.min_max(pc.cast(column, pa.int64())).as_py() for column in ids[1:]]
    lows = [b["min"] for b in bounds if b["min"] is not None]
    if not lows:
        return np.zeros(events.num_rows, dtype=bool)
    low = min(lows)
    span = max(b["max"] for b in bounds if b["max"] is not None) - low + 1
    if span > KEY_SPAN_PER_ROW * sum(table.num_rows for table in tables) + _MIN_SPAN:
        return None
    events = events.set_column(events.schema.get_field_index("deal_id"), "deal_id", ids[0])
    close = np.full(span, _NONE, dtype=np.int64)
    for (table, closed), column in zip(sources, ids[1:], strict=True):
        table = table.set_column(table.schema.get_field_index("deal_id"), "deal_id", column)
        firsts = _first_closings(table, closed, low, span)
        np.copyto(close, firsts, where=close == _NONE)  # sources in priority order
    slack = int(CLOSE_SLACK / dt.timedelta(microseconds=1))
    late = np.zeros(events.num_rows, dtype=bool)
    start = 0
    for keys, entered, batch in _batches(events):
        slots = keys - low
        inside = (slots >= 0) & (slots < span)
        closing = close[np.where(inside, slots, 0)]
        mine = late[start:start + batch.num_rows]
        np.logical_and(inside, closing != _NONE, out=mine)
        mine &= entered > closing + slack  # a null time (_NONE) is never later
        start += batch.num_rows
    return late


def after_close(events: pa.Table, deals: pa.Table | None) -> np.ndarray:
    """Event rows dated more than :data:`CLOSE_SLACK` after their deal's closing date: the deals
    table's first non-null ``closed_at`` in file order, else the first one on its event rows.
    Digit ids of one width in a short range: looked up by value (:func:`_after_close_by_value`);
    any other ids: one DuckDB query over the Arrow columns (a hash join, no copy of the
    tables)."""
    import duckdb

    n = events.num_rows
    out = np.zeros(n, dtype=bool)
    sources = [
        (table, closed)
        for table in (deals, events)
        if table is not None and (closed := _naive(table, "closed_at")) is not None
    ]
    if not sources or n == 0:
        return out
    if all(closed.null_count == len(closed) for _, closed in sources):
        return out
    by_value = _after_close_by_value(events, sources)
    if by_value is not None:
        return by_value
    closings = pa.concat_tables([
        pa.table({
            "src": pa.array(np.full(table.num_rows, 0 if table is deals else 1, dtype=np.int8)),
            "deal_id": pc.cast(table.column("deal_id"), pa.string()),
            "closed_at": closed,
            "_row": pc.cast(table.column("_row"), pa.int64()),
        })
        for table, closed in sources
    ])
    entries = pa.table({
        "deal_id": pc.cast(events.column("deal_id"), pa.string()),
        "entered_at": _naive(events, "entered_at"),
        "_pos": pa.array(np.arange(n, dtype=np.int64)),
    })
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")  # it would print to standard output
        con.register("closings", closings)
        con.register("entries", entries)
        slack = int(CLOSE_SLACK / dt.timedelta(microseconds=1))
        query = _AFTER_CLOSE_SQL if len(sources) > 1 else _AFTER_ONE_CLOSE_SQL
        late = con.execute(query, {"slack": slack}).fetchnumpy()["_pos"]
    finally:
        con.close()
    out[np.asarray(late, dtype=np.int64)] = True
    return out


AFTER_END = "after_data_end"
AFTER_CLOSE = "after_close"
MESSAGES = {
    AFTER_END: "dated after the end of the data (an outlier beyond the other dates or the "
    "export's date)",
    AFTER_CLOSE: "an event dated after the deal's closing date",
}
"""Reasons and messages of what :func:`prepare_inputs` leaves out (message keys
``io.reject.<reason>`` say the same in each language)."""

_DEAL_DATES = ("created_at", "closed_at")


def export_time(inputs: InputSet) -> dt.datetime | None:
    """The export's date as the files tell it: the latest modification time of the events and
    deals files, plus a day (naive UTC); None when a file is not on disk."""
    times = []
    for read in (inputs.events, inputs.deals):
        if read is None:
            continue
        try:
            times.append(Path(read.file).stat().st_mtime)
        except OSError:
            return None
    if not times:
        return None
    return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=max(times)) + dt.timedelta(days=1)


def prepare_inputs(inputs: InputSet, *, as_of: dt.datetime | None) -> InputSet:
    """``inputs`` with outlier dates and events after closing left out and reported.

    Without a given ``as_of``: event rows later than :func:`outlier_fence` are rejected
    (``after_data_end``) and deal dates later than it are nulled (a field issue). Always: event
    rows after their deal's closing date are rejected (``after_close``).
    """
    events, deals = inputs.events, inputs.deals
    entered = events.table.column("entered_at")
    if events.table.num_rows == 0 or entered.null_count == len(entered):
        raise InputError(
            Msg("errors.raised.no_event_can_be_used_every"),
            file=events.file,
            expected=Msg("errors.expected.rows_with_a_deal_id_a"),
        )
    first = pc.min(entered).as_py()
    if as_of is not None and first is not None and as_of < first:
        raise UsageError(
            Msg(
                "errors.raised.as_of_is_before_the_first",
                as_of=format(as_of, "%Y-%m-%d"),
                first=format(first, "%Y-%m-%d"),
            ),
            expected=Msg("errors.expected.a_moment_within_the_data"),
        )
    if as_of is None:
        fence = outlier_fence(events.table.column("entered_at"), not_after=export_time(inputs))
        if fence is not None:
            late = after_fence(events.table.column("entered_at"), fence)
            events = reject_rows(events, late, AFTER_END, "entered_at", MESSAGES[AFTER_END])
            for name in _DEAL_DATES:
                if name in events.table.column_names:
                    bad = after_fence(events.table.column(name), fence)
                    events = null_fields(events, bad, AFTER_END, name, MESSAGES[AFTER_END])
                if deals is not None and name in deals.table.column_names:
                    bad = after_fence(deals.table.column(name), fence)
                    deals = null_fields(deals, bad, AFTER_END, name, MESSAGES[AFTER_END])
    late = after_close(events.table, deals.table if deals is not None else None)
    events = reject_rows(events, late, AFTER_CLOSE, "entered_at", MESSAGES[AFTER_CLOSE])
    if events is inputs.events and deals is inputs.deals:
        return inputs
    return replace(inputs, events=events, deals=deals)
