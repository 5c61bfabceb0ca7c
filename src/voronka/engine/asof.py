"""``--as-of``: the data as it stood at a moment, cut before the log is built.

An explicit ``as_of`` means "as of": what happened after it is not known yet. One filtering step on
the canonical input tables (Arrow, before they go to the backend), so every aggregate downstream —
reach, outcomes, the forecast, the backtest — sees the same past:

* event rows dated after ``as_of`` are set aside (stage moves, won-stage entries, lost events);
* deals created after ``as_of`` are set aside, with their event rows;
* a closing after ``as_of`` is undone: a deal whose ``closed_at`` is later is open at ``as_of``
  (its ``status``, ``closed_at`` and ``lost_reason`` are cleared);
* a deal closed by its status with **no closing date** whose history goes on after ``as_of`` was
  still open then (its status is cleared too); one whose history ends by ``as_of`` keeps its
  status, and is counted (``closing_date_unknown``): nothing in the data says when it closed.

The same applies to the attribute columns (``status``, ``closed_at``, ``created_at``) carried on the
event rows when no deals table was given. The counts go to the data-quality section, so nothing is
set aside silently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend

if TYPE_CHECKING:
    from voronka.engine.log import EventLog

_CLEARED_ON_REOPEN = ("status", "closed_at", "lost_reason")


@dataclass(frozen=True)
class AsOfCut:
    """What the cut at ``as_of`` set aside or undid.

    Attributes:
        as_of: the moment.
        events_after: event rows dated after ``as_of`` (set aside).
        deals_after: deal rows created after ``as_of`` (set aside).
        events_of_later_deals: event rows (dated by ``as_of``) of deals created after it (set
            aside).
        closings_undone: deals closed after ``as_of`` (open at ``as_of``).
        closing_date_unknown: deals closed by status without a closing date, kept as closed
            (their history ends by ``as_of``; when they closed is unknown).
    """

    as_of: dt.datetime
    events_after: int = 0
    deals_after: int = 0
    events_of_later_deals: int = 0
    closings_undone: int = 0
    closing_date_unknown: int = 0

    @property
    def events_set_aside(self) -> int:
        """Event rows left out by the cut."""
        return self.events_after + self.events_of_later_deals


def _moment(as_of: dt.datetime) -> pa.Scalar:
    return pa.scalar(as_of, pa.timestamp("us"))


def _after(table: pa.Table, column: str, as_of: dt.datetime) -> pa.Array | None:
    """``column > as_of`` (nulls false) when the column is a timestamp, else None."""
    if column not in table.column_names or not pa.types.is_timestamp(table[column].type):
        return None
    values = pc.cast(table[column], pa.timestamp("us"))
    return pc.fill_null(pc.greater(values, _moment(as_of)), False)


def _closed_status(table: pa.Table) -> pa.Array | None:
    if "status" not in table.column_names:
        return None
    text = pc.utf8_lower(pc.cast(table["status"], pa.string()))
    return pc.fill_null(pc.is_in(text, pa.array(["won", "lost"])), False)


def _clear(table: pa.Table, mask: pa.Array) -> pa.Table:
    """``status``, ``closed_at`` and ``lost_reason`` set to null where ``mask``."""
    for name in _CLEARED_ON_REOPEN:
        if name in table.column_names:
            i = table.column_names.index(name)
            column = table[name]
            empty = pa.nulls(len(column), column.type)
            table = table.set_column(i, name, pc.if_else(mask, empty, column))
    return table


def _deal_set(table: pa.Table, mask: pa.Array) -> pa.Array:
    return pc.unique(table.filter(mask)["deal_id"])


def cut_at(
    events: pa.Table, deals: pa.Table | None, as_of: dt.datetime
) -> tuple[pa.Table, pa.Table | None, AsOfCut]:
    """``events`` and ``deals`` (canonical Arrow tables, ``deal_id`` as text) as they stood at
    ``as_of`` (see the module docstring), and what was set aside."""
    false = pa.array([False] * events.num_rows, pa.bool_())
    late_event = _after(events, "entered_at", as_of)
    late_event = late_event if late_event is not None else false
    moving_later = _deal_set(events, late_event)  # deals whose history goes on after as_of
    events_after = int(pc.sum(late_event).as_py() or 0)
    events = events.filter(pc.invert(late_event))

    later_deals = pa.array([], pa.string())
    deals_after = 0
    closings_undone = 0
    unknown = 0
    if deals is not None:
        late_deal = _after(deals, "created_at", as_of)
        if late_deal is not None:
            later_deals = _deal_set(deals, late_deal)
            deals_after = int(pc.sum(late_deal).as_py() or 0)
            deals = deals.filter(pc.invert(late_deal))
        deals, closings_undone, unknown = _reopen(deals, moving_later, as_of)
    # Without a deals table, the deal attributes ride on the event rows.
    late_created = _after(events, "created_at", as_of)
    if late_created is not None:
        later_deals = pc.unique(pa.concat_arrays([later_deals, _deal_set(events, late_created)]))
    of_later = pc.is_in(events["deal_id"], later_deals)
    of_later_count = int(pc.sum(of_later).as_py() or 0)
    events = events.filter(pc.invert(of_later))
    if deals is None:
        events, closings_undone, unknown = _reopen(events, moving_later, as_of)
    return events, deals, AsOfCut(
        as_of=as_of,
        events_after=events_after,
        deals_after=deals_after,
        events_of_later_deals=of_later_count,
        closings_undone=closings_undone,
        closing_date_unknown=unknown,
    )


def _reopen(
    table: pa.Table, moving_later: pa.Array, as_of: dt.datetime
) -> tuple[pa.Table, int, int]:
    """Undo the closings after ``as_of`` in ``table`` (deals, or events carrying attributes):
    returns the table, deals reopened, deals closed without a date kept closed."""
    closed = _closed_status(table)
    late_close = _after(table, "closed_at", as_of)
    n = table.num_rows
    reopen = late_close if late_close is not None else pa.array([False] * n, pa.bool_())
    undated = pa.array([False] * n, pa.bool_())
    if closed is not None:
        no_date = (
            pc.is_null(table["closed_at"])
            if "closed_at" in table.column_names
            else pa.array([True] * n, pa.bool_())
        )
        undated = pc.and_(closed, no_date)
        went_on = pc.is_in(table["deal_id"], moving_later)
        reopen = pc.or_(reopen, pc.and_(undated, went_on))
        undated = pc.and_(undated, pc.invert(went_on))
    reopened = int(len(_deal_set(table, reopen)))
    kept_unknown = int(len(_deal_set(table, undated)))
    return _clear(table, reopen), reopened, kept_unknown


def undated_aggregates(summary: ir.Table) -> dict[str, ir.Scalar]:
    """The aggregates of :func:`undated_closings` over the deal summary: ``closed`` and
    ``undated`` (for a query that computes more in the same pass)."""
    closed = summary.outcome != "open"
    at_last = summary.closed_at == summary.last_event_at
    undated = (
        ((summary.outcome == "won") & summary.won_at.isnull() & at_last)
        | ((summary.outcome == "lost") & summary.lost_at.isnull() & at_last)
    ).fill_null(False)
    return {
        "closed": closed.cast("int64").sum(),
        "undated": (closed & undated).cast("int64").sum(),
    }


def undated_closings(log: EventLog) -> tuple[int, int]:
    """Closed deals, and of them those whose closing moment the data does not give: closed by
    status with no closing date and no won-stage or lost event, so the engine dates the closing at
    the deal's last event — its *final* state, known only afterwards. A backtest of such data
    would look ahead (a deal lost in March would already count as lost in January).

    A deal whose given closing date equals its last event to the microsecond is counted too (the
    two cannot be told apart from the summary): conservative.
    """
    summary = log.deal_summary()
    row = log.frame(summary.aggregate(**undated_aggregates(summary))).iloc[0]
    return int(row["closed"] or 0), int(row["undated"] or 0)


def cut_tables(
    con: BaseBackend, events: ir.Table, deals: ir.Table | None, as_of: dt.datetime
) -> tuple[ir.Table, ir.Table | None, AsOfCut]:
    """:func:`cut_at` for tables that live on the backend (``--engine``): the same rules as Ibis
    expressions, the counts from one small aggregate per table; no row leaves the backend."""
    from voronka.engine.backend import to_frame

    cut = ibis.literal(as_of, "timestamp")

    def after(table: ir.Table, column: str) -> ir.BooleanValue | None:
        if column not in table.columns or not table[column].type().is_timestamp():
            return None
        return (table[column] > cut).fill_null(False)

    late_event = after(events, "entered_at")
    zero = ibis.literal(False)
    late_event = late_event if late_event is not None else zero
    moving = events.filter(late_event).select("deal_id").distinct()
    counts = to_frame(con, events.aggregate(n=late_event.cast("int64").sum()))
    events_after = int(counts["n"].iloc[0] or 0)
    kept_events = events.filter(~late_event)

    deals_after = closings_undone = unknown = 0
    later: ir.Table | None = None
    if deals is not None:
        late_deal = after(deals, "created_at")
        if late_deal is not None:
            later = deals.filter(late_deal).select("deal_id").distinct()
            deals = deals.filter(~late_deal)
            deals_after = int(
                to_frame(con, later.aggregate(n=later.count()))["n"].iloc[0] or 0
            )
        deals, closings_undone, unknown = _reopen_table(con, deals, moving, cut)
    late_created = after(kept_events, "created_at")
    if late_created is not None:
        extra = kept_events.filter(late_created).select("deal_id").distinct()
        later = extra if later is None else ibis.union(later, extra, distinct=True)
    of_later = 0
    if later is not None:
        hit = kept_events.deal_id.isin(later.deal_id)
        of_later = int(
            to_frame(con, kept_events.aggregate(n=hit.cast("int64").sum()))["n"].iloc[0] or 0
        )
        kept_events = kept_events.filter(~hit)
    if deals is None:
        kept_events, closings_undone, unknown = _reopen_table(con, kept_events, moving, cut)
    return kept_events, deals, AsOfCut(
        as_of=as_of,
        events_after=events_after,
        deals_after=deals_after,
        events_of_later_deals=of_later,
        closings_undone=closings_undone,
        closing_date_unknown=unknown,
    )


def _reopen_table(
    con: BaseBackend, table: ir.Table, moving: ir.Table, cut: ir.TimestampValue
) -> tuple[ir.Table, int, int]:
    """:func:`_reopen` as Ibis expressions."""
    from voronka.engine.backend import to_frame

    reopen: ir.BooleanValue = ibis.literal(False)
    if "closed_at" in table.columns and table.closed_at.type().is_timestamp():
        reopen = (table.closed_at > cut).fill_null(False)
    undated: ir.BooleanValue = ibis.literal(False)
    if "status" in table.columns:
        closed = table.status.cast("string").lower().isin(["won", "lost"]).fill_null(False)
        no_date = table.closed_at.isnull() if "closed_at" in table.columns else ibis.literal(True)
        went_on = table.deal_id.isin(moving.deal_id)
        undated = closed & no_date
        reopen = reopen | (undated & went_on)
        undated = undated & ~went_on
    frame = to_frame(
        con,
        table.aggregate(
            reopened=table.deal_id.nunique(where=reopen),
            unknown=table.deal_id.nunique(where=undated),
        ),
    )
    changes = {
        name: ibis.ifelse(reopen, ibis.null(table[name].type()), table[name])
        for name in _CLEARED_ON_REOPEN
        if name in table.columns
    }
    out = table.mutate(**changes) if changes else table
    return out, int(frame["reopened"].iloc[0] or 0), int(frame["unknown"].iloc[0] or 0)
