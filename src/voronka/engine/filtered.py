"""A loaded log narrowed to some deals, for re-running the audit with a filter (issue 11, point 5).

The web app re-audits an already loaded log with a filter — a period of creation, a source, a
manager. :func:`filter_log` keeps the raw rows on the backend and builds a new log over the deals
that pass: the events and deals tables are semi-joined to the chosen deal ids (lazily), and the
per-deal tables are materialised again from them in one filtered pass (``with_funnel``). Every
aggregate of the new log is then exactly the aggregate of an export holding only those deals'
rows; the stage mapping, ``as_of`` and the backend are the original log's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from voronka.engine.backend import materialize, scalar
from voronka.errors import UsageError

if TYPE_CHECKING:
    from voronka.engine.log import EventLog


def filter_log(
    log: EventLog,
    *,
    where: Mapping[str, str | Sequence[str | None] | None] | None = None,
    created_from: dt.datetime | dt.date | None = None,
    created_until: dt.datetime | dt.date | None = None,
) -> EventLog:
    """``log`` narrowed to the deals whose column values are in ``where`` (column → a value or a
    list of values; None matches a blank) and that were created in ``[created_from,
    created_until)``. The log must have its funnel; the new one has the same funnel and ``as_of``.

    Raises:
        UsageError: a column of ``where`` is not a deal column.
    """
    funnel = log.require_funnel()
    deals = log.deal_summary()
    known = set(log.deal_columns())
    conditions: list[ir.BooleanValue] = []
    for column, wanted in (where or {}).items():
        if column not in known:
            raise UsageError(
                f"there is no deal column {column!r} to filter by",
                column=column,
                expected=", ".join(log.segment_columns()) or "a deal column",
            )
        values = [wanted] if wanted is None or isinstance(wanted, str) else list(wanted)
        named = [v for v in values if v is not None]
        hit: ir.BooleanValue = deals[column].cast("string").isin(named) if named else (
            ibis.literal(False)
        )
        if None in values:
            hit = hit | deals[column].isnull()
        conditions.append(hit)
    if created_from is not None:
        conditions.append(deals.created_at >= _moment(created_from))
    if created_until is not None:
        conditions.append(deals.created_at < _moment(created_until))
    chosen = deals.filter(*conditions) if conditions else deals
    con = log.backend
    # The chosen rows are stored once: every later query reads them instead of repeating the
    # semi-join, and its shape no longer holds the filter's values, so the SQL compiled for the
    # previous filter serves (voronka.engine.backend.compiled_sql).
    ids = materialize(con, chosen.select("deal_id"), "voronka_filter_ids")
    events = materialize(con, log.events_table.semi_join(ids, "deal_id"), "voronka_filter_events")
    deals_table = log.deals_table
    kept_deals = (
        None
        if deals_table is None
        else materialize(con, deals_table.semi_join(ids, "deal_id"), "voronka_filter_deals")
    )
    narrowed = type(log)(
        con=con,
        events=events,
        deals=kept_deals,
        events_rows=int(scalar(con, events.count().name("n"))),
        deals_rows=None if kept_deals is None else int(scalar(con, kept_deals.count().name("n"))),
        as_of=log.as_of,
    )
    return narrowed.with_funnel(funnel)


def _moment(value: dt.datetime | dt.date) -> ir.TimestampValue:
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    return ibis.literal(value, "timestamp")
