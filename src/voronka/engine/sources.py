"""Tables that live in the backend (a table name or a Parquet folder) as the engine's inputs.

The backend reads and validates the rows itself: the same canonical columns as ``voronka.io``
(docs/internals.md), the same reject reasons (``missing_value``, ``bad_date``, ``bad_number``,
``bad_status``), and ``rows read = used + rejected``. Rejects come back as counts per reason plus a
few examples; accepted rows never leave the backend. Spend is summed per source × campaign × month
on the backend (what the audit uses of it).

Row numbers: a ``_row`` column in the table is used as it is (an export of canonical tables keeps
it); without one, DuckDB and PostgreSQL number the rows in the order of all their columns, and
Spark with ``monotonically_increasing_id`` (increasing, not consecutive) — "first in file order"
then means first in that order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt_
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend

from voronka.engine.asof import cut_tables
from voronka.engine.backend import quiet_driver, to_frame
from voronka.engine.log import EventLog
from voronka.engine.source_checks import check_sources
from voronka.errors import InputError, Msg, UsageError, any_of
from voronka.io.result import REJECTS_SCHEMA, ReadResult

MAX_EXAMPLES = 5
"""Reject examples kept per reason."""

STATUSES = ("open", "won", "lost")


@dataclass(frozen=True)
class Sources:
    """The inputs on the backend: validated tables, their row accounting, and the spend sums.

    Attributes:
        con: the backend.
        events: the accepted event rows (canonical columns and ``_row``), an Ibis expression.
        deals: the accepted deal rows, or None.
        events_rows: accepted event rows.
        deals_rows: accepted deal rows (None without deals).
        reads: ``{"events": …, "deals": …, "spend": …}`` for the data-quality section (the
            rejects table holds only examples; ``reject_totals`` the counts).
        checked: whether the input checks of :mod:`voronka.engine.source_checks` (the outlier
            fence, events after closing) were made.
    """

    con: BaseBackend
    events: ir.Table
    deals: ir.Table | None
    events_rows: int
    deals_rows: int | None
    reads: dict[str, ReadResult]
    checked: bool = False

    def prepared(self, as_of: dt.datetime | None = None) -> Sources:
        """These sources after the input checks the file path makes (:mod:`.prepare`): without
        ``as_of`` the outlier fence, always the events after their deal's closing."""
        if self.checked:
            return self
        events, deals, reads, rejected = check_sources(
            self.con, self.events, self.deals, self.reads, fenced=as_of is None)
        return replace(self, events=events, deals=deals, reads=reads,
                       events_rows=self.events_rows - rejected, checked=True)

    def log(self, as_of: dt.datetime | None = None) -> EventLog:
        """The event log over these tables (``as_of``: default the latest timestamp in them),
        after the input checks: call it on :meth:`prepared` sources, whose :attr:`reads` count
        what the checks left out (unchecked sources are checked here first)."""
        if not self.checked:
            return self.prepared(as_of).log(as_of)
        if as_of is None:
            as_of = _latest(self.con, self.events, self.deals) or dt.datetime(1970, 1, 1)
            return EventLog(con=self.con, events=self.events, deals=self.deals,
                            events_rows=self.events_rows, deals_rows=self.deals_rows, as_of=as_of)
        # A given as_of means "as of": later events, deals and closings set aside (asof.py).
        events, deals, cut = cut_tables(self.con, self.events, self.deals, as_of)
        return EventLog(con=self.con, events=events, deals=deals,
                        events_rows=self.events_rows - cut.events_set_aside,
                        deals_rows=None if self.deals_rows is None
                        else self.deals_rows - cut.deals_after,
                        as_of=as_of, as_of_cut=cut)


def is_path(source: str) -> bool:
    """Whether ``source`` names files (a Parquet file or folder) rather than a table."""
    return "/" in source or "\\" in source or source.endswith(".parquet") or Path(source).exists()


def source_table(con: BaseBackend, source: str, what: str) -> ir.Table:
    """The table named ``source`` (``schema.table`` allowed) or the Parquet file/folder at it.

    Raises:
        UsageError: no such table or files on the backend.
    """
    try:
        with quiet_driver():
            if is_path(source):
                path = source
                local = Path(source)
                if con.name == "duckdb" and local.is_dir():
                    path = str(local / "**" / "*.parquet")
                return con.read_parquet(path)
            database, _, name = source.rpartition(".")
            return con.table(name, database=database or None)
    except Exception as exc:  # the backend's own error (missing table, unreadable files …)
        from ibis.common.exceptions import TableNotFound

        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, TableNotFound):
            first = "there is no such table"
        raise UsageError(
            Msg(
                "errors.raised.the_cannot_be_read_on",
                what=what,
                source=repr(source),
                name=con.name,
                first=first,
            ),
            expected=Msg("errors.expected.a_table_name_or_a_parquet"),
        ) from None


def open_sources(
    con: BaseBackend,
    events: str,
    *,
    deals: str | None = None,
    spend: str | None = None,
    column_map: Mapping[str, str] | None = None,
    strict: bool = False,
) -> Sources:
    """Validate ``events`` (and ``deals``, ``spend``) on ``con``: table names or Parquet paths.

    Raises:
        InputError: a required column is missing, or (``strict``) a row is bad.
        UsageError: a table or folder cannot be read.
    """
    column_map = dict(column_map or {})
    ev_table, ev_read, ev_rows = _validated(con, events, "events", column_map, strict)
    reads = {"events": ev_read}
    de_table, de_rows = None, None
    if deals is not None:
        de_table, de_read, de_rows = _validated(con, deals, "deals", column_map, strict)
        reads["deals"] = de_read
    if spend is not None:
        sp_table, sp_read, _ = _validated(con, spend, "spend", column_map, strict)
        summed = sp_table.group_by(["source", "campaign", "month"]).agg(cost=sp_table.cost.sum())
        summed = summed.select(
            "source", "campaign", "month", date=ibis.null("date"), cost=summed.cost
        ).order_by(["source", "campaign", "month"])
        with quiet_driver():
            arrow = con.to_pyarrow(summed)
        reads["spend"] = _with_table(sp_read, arrow.cast(_SPEND_SCHEMA))
    return Sources(con=con, events=ev_table, deals=de_table, events_rows=ev_rows,
                   deals_rows=de_rows, reads=reads)


_SPEND_SCHEMA = pa.schema([("source", pa.string()), ("campaign", pa.string()),
                           ("month", pa.date32()), ("date", pa.date32()), ("cost", pa.float64())])


def _with_table(read: ReadResult, table: pa.Table) -> ReadResult:
    import dataclasses

    return dataclasses.replace(read, table=table)


# -- validation ------------------------------------------------------------------------------
Check = tuple[str, str, ir.BooleanValue, ir.Value]
"""(column as named in the table, reason, the row fails, the cell as text)."""


def _validated(
    con: BaseBackend, source: str, what: str, column_map: Mapping[str, str], strict: bool
) -> tuple[ir.Table, ReadResult, int]:
    raw = source_table(con, source, what)
    renames = {canonical: header for canonical, header in column_map.items()
               if header in raw.columns and canonical not in raw.columns}
    if renames:
        raw = raw.rename(renames)
    raw = _numbered(con, raw)
    columns, checks, headers = _canonical(raw, what, source, column_map)
    reason = ibis.cases(*[(bad, r) for _, r, bad, _ in checks], else_=ibis.null("string"))
    column = ibis.cases(*[(bad, c) for c, _, bad, _ in checks], else_=ibis.null("string"))
    value = ibis.cases(*[(bad, v) for _, _, bad, v in checks], else_=ibis.null("string"))
    marked = raw.select(**columns, _reason=reason, _column=column, _value=value)
    counts = to_frame(con, marked.group_by("_reason").agg(n=marked.count()))
    rows_read = int(counts["n"].sum())
    totals = {str(r): int(n) for r, n in zip(counts["_reason"], counts["n"], strict=True)
              if r is not None}
    examples = REJECTS_SCHEMA.empty_table()
    if totals:
        bad = marked.filter(marked._reason.notnull())
        rank = ibis.row_number().over(group_by=bad._reason, order_by=bad._row)
        first = bad.mutate(_k=rank).filter(lambda t: t._k < MAX_EXAMPLES)
        frame = to_frame(con, first.select(row=first._row.cast("int64"), column=first._column,
                                           reason=first._reason, value=first._value)
                         .order_by(["reason", "row"]))
        examples = pa.table({
            "row": pa.array(frame["row"].tolist(), pa.int64()),
            "column": pa.array([headers.get(c, c) for c in frame["column"]], pa.string()),
            "reason": pa.array(frame["reason"].tolist(), pa.string()),
            "value": pa.array([None if v is None else str(v) for v in frame["value"]], pa.string()),
            "message": pa.array([None] * len(frame), pa.string()),
        }, schema=REJECTS_SCHEMA)
        if strict:
            first_row = examples.sort_by("row").slice(0, 1).to_pylist()[0]
            raise InputError(
                Msg(
                    "errors.raised.bad_value",
                    value=first_row["reason"],
                    value2=repr(first_row["value"]),
                ),
                file=source,
                row=first_row["row"],
                column=first_row["column"],
            )
    accepted = marked.filter(marked._reason.isnull()).drop("_reason", "_column", "_value")
    used = rows_read - sum(totals.values())
    read = ReadResult(
        file=source, table=_empty(accepted), rows_read=rows_read, rejects=examples,
        column_mapping={c: headers.get(c, c) for c in accepted.columns if c != "_row"},
        format="table", reject_totals=totals,
    )
    return accepted, read, used


def _empty(table: ir.Table) -> pa.Table:
    try:
        return table.schema().to_pyarrow().empty_table()
    except Exception:  # a type Arrow cannot hold: the columns still name what was used
        return pa.table({c: pa.array([], pa.string()) for c in table.columns})


def _numbered(con: BaseBackend, raw: ir.Table) -> ir.Table:
    """``raw`` with an int64 ``_row``: its own, else one the backend numbers (module docstring)."""
    if "_row" in raw.columns:
        return raw.mutate(_row=raw._row.cast("int64"))
    if con.name == "pyspark":
        from pyspark.sql import functions as F

        session: Any = con._session
        with quiet_driver():
            frame = session.sql(str(con.compile(raw)))
            frame = frame.withColumn("_row", F.monotonically_increasing_id() + 1)
            name = ibis.util.gen_name("voronka_source")
            frame.createOrReplaceTempView(name)
            return con.table(name)
    order = [raw[c] for c in raw.columns]
    return raw.mutate(_row=(ibis.row_number().over(order_by=order) + 1).cast("int64"))


def _require(raw: ir.Table, names: tuple[str, ...], what: str, source: str,
             column_map: Mapping[str, str]) -> None:
    for name in names:
        if name not in raw.columns:
            raise InputError(
                Msg("errors.raised.the_table_has_no_column", what=what, name=repr(name)),
                file=source,
                column=column_map.get(name, name),
                expected=any_of(names),
            )


def _blank(col: ir.Value) -> ir.BooleanValue:
    if col.type().is_string():
        return col.isnull() | (col.strip() == "")
    return col.isnull()


def _text(col: ir.Value) -> ir.StringValue:
    return col.cast("string")


def _timestamp(col: ir.Value) -> ir.TimestampValue:
    kind = col.type()
    if kind.is_timestamp():
        return col.cast(dt_.Timestamp(scale=6)) if kind.timezone is None else col.cast(
            dt_.Timestamp(timezone="UTC", scale=6)).cast(dt_.Timestamp(scale=6))
    if kind.is_date():
        return col.cast("timestamp")
    if kind.is_string():
        return col.strip().try_cast("timestamp")
    raise InputError(
        Msg("errors.raised.the_column_holds_not_dates", value=repr(col.get_name()), kind=kind),
        column=col.get_name(),
        expected=Msg("errors.expected.a_timestamp_date_or_text_column"),
    )


def _number(col: ir.Value) -> ir.FloatingValue:
    kind = col.type()
    if kind.is_numeric():
        return col.cast("float64")
    if kind.is_string():
        return col.strip().try_cast("float64")
    raise InputError(
        Msg("errors.raised.the_column_holds_not_numbers", value=repr(col.get_name()), kind=kind),
        column=col.get_name(),
        expected=Msg("errors.expected.a_number_column"),
    )


def _canonical(
    raw: ir.Table, what: str, source: str, column_map: Mapping[str, str]
) -> tuple[dict[str, ir.Value], list[Check], dict[str, str]]:
    """The canonical columns of ``raw`` (extras kept, ``_row`` last), the row checks in order,
    and the headers (canonical name → name in the table, for the reject examples)."""
    headers = {c: column_map.get(c, c) for c in raw.columns}
    checks: list[Check] = []
    out: dict[str, ir.Value] = {}

    def required(name: str) -> None:
        checks.append((name, "missing_value", _blank(raw[name]), _text(raw[name])))

    def parsed(name: str, value: ir.Value, reason: str) -> ir.Value:
        checks.append((name, reason, raw[name].notnull() & ~_blank(raw[name]) & value.isnull(),
                       _text(raw[name])))
        return value

    if what == "events":
        _require(raw, ("deal_id", "stage", "entered_at"), what, source, column_map)
        for name in ("deal_id", "stage", "entered_at"):
            required(name)
        out["deal_id"] = _text(raw.deal_id).strip()
        out["stage"] = _text(raw.stage)
        out["entered_at"] = parsed("entered_at", _timestamp(raw.entered_at), "bad_date")
    elif what == "deals":
        _require(raw, ("deal_id",), what, source, column_map)
        required("deal_id")
        out["deal_id"] = _text(raw.deal_id).strip()
    else:
        _require(raw, ("source", "cost"), what, source, column_map)
        if "month" not in raw.columns and "date" not in raw.columns:
            raise InputError(
                Msg("errors.raised.the_spend_table_has_neither_a"),
                file=source,
                expected=Msg("errors.expected.source_cost_and_month_or_date"),
            )
        required("source")
        required("cost")
        out["source"] = _text(raw.source)
        out["campaign"] = _text(raw.campaign) if "campaign" in raw.columns else ibis.null("string")
        out["cost"] = parsed("cost", _number(raw.cost), "bad_number")
        when = "month" if "month" in raw.columns else "date"
        required(when)
        moment = raw[when]
        if moment.type().is_string() and when == "month":
            moment = (moment.strip().substr(0, 7) + "-01").try_cast("date")
        out["month"] = parsed(when, _timestamp(moment) if not moment.type().is_date() else
                              moment.cast("timestamp"), "bad_date").truncate("M").cast("date")
        return {**out, "_row": raw._row}, checks, headers
    for name in ("created_at", "closed_at"):
        if name in raw.columns:
            out[name] = parsed(name, _timestamp(raw[name]), "bad_date")
    if "amount" in raw.columns:
        out["amount"] = parsed("amount", _number(raw.amount), "bad_number")
    if "status" in raw.columns:
        status = _text(raw.status).strip().lower()
        checks.append(("status", "bad_status",
                       ~_blank(raw.status) & ~status.isin(STATUSES), _text(raw.status)))
        out["status"] = ibis.ifelse(_blank(raw.status), ibis.null("string"), status)
    for name in ("source", "manager", "lost_reason"):
        if name in raw.columns and name not in out:
            out[name] = _text(raw[name])
    extras = {c: raw[c] for c in raw.columns if c not in out and c != "_row"}
    return {**out, **extras, "_row": raw._row}, checks, headers


def _latest(con: BaseBackend, *tables: ir.Table | None) -> dt.datetime | None:
    """The latest value of any timestamp column of ``tables`` (one aggregate query each)."""
    latest: dt.datetime | None = None
    for table in tables:
        if table is None:
            continue
        columns = [c for c in table.columns if table[c].type().is_timestamp()]
        if not columns:
            continue
        frame = to_frame(con, table.aggregate(**{c: table[c].max() for c in columns}))
        for name in columns:
            value: Any = frame[name].iloc[0]
            if hasattr(value, "to_pydatetime"):
                value = value.to_pydatetime()
            if value is not None and value == value and (latest is None or value > latest):
                latest = value
    return latest
