"""A loaded log narrowed to some deals, for re-running the audit with a filter (issue 11, point 5).

The web app re-audits an already loaded log with a filter — a period of creation, a source, a
manager. :func:`filter_log` keeps the raw rows on the backend and builds a new log over the deals
that pass: its per-deal tables (deal summary, deal × stage, ``reached_at``) are the loaded log's
rows of the chosen deals, stored once, and the events and deals tables are semi-joined to the
chosen deal ids (lazily, for data quality). Every aggregate of the new log is then exactly the
aggregate of an export holding only those deals' rows (each per-deal row depends only on the
deal's own rows); the stage mapping, ``as_of`` and the backend are the original log's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from voronka.engine.backend import materialize
from voronka.errors import Msg, UsageError, any_of

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
    log.require_funnel()
    deals = log.deal_summary()
    known = set(log.deal_columns())
    conditions: list[ir.BooleanValue] = []
    for column, wanted in (where or {}).items():
        if column not in known:
            raise UsageError(
                Msg("errors.raised.there_is_no_deal_column_to_3", column=repr(column)),
                column=column,
                expected=any_of(log.segment_columns(), "errors.expected.a_deal_column"),
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
    lower, upper = log.created_window
    if created_from is not None:
        lower = max(m for m in (lower, _datetime(created_from)) if m is not None)
    if created_until is not None:
        upper = min(m for m in (upper, _datetime(created_until)) if m is not None)
    return _narrowed(log, chosen, (lower, upper))


def _narrowed(log: EventLog, chosen: ir.Table,
              window: tuple[dt.datetime | None, dt.datetime | None]) -> EventLog:
    """A log over the deals of ``chosen`` (rows of ``log``'s deal summary), its per-deal tables
    cut from ``log``'s; ``window``: the period of creation they were chosen in.

    Each per-deal table (summary, deal × stage, ``reached_at``) is a function of one deal's own
    event and deal rows (and the shared funnel and ``as_of``), so its rows for the chosen deals
    are exactly the rows a log built from their rows alone would compute: they are kept (a
    semi-join on the deal id) instead of being rebuilt from the events by the window passes of
    ``with_funnel``. The raw events and deals are narrowed lazily, for data quality.
    """
    log.require_funnel()
    con = log.backend
    # The chosen rows are stored once: every later query reads them instead of repeating the
    # filter, and its shape no longer holds the filter's values, so the SQL compiled for the
    # previous filter serves (voronka.engine.backend.compiled_sql).
    kept_summary = materialize(con, chosen, "voronka_filter_summary")
    ids = kept_summary.select("deal_id")
    kept_stages = materialize(
        con, log.deal_stages().semi_join(ids, "deal_id"), "voronka_filter_stages"
    )
    kept_reached = materialize(
        con, log.reached_at().semi_join(ids, "deal_id"), "voronka_filter_reached"
    )
    events = log.events_table.semi_join(ids, "deal_id")
    deals_table = log.deals_table
    kept_deals = None if deals_table is None else deals_table.semi_join(ids, "deal_id")
    # Rows per stage name (null names too) give both the event count and the name counts; the
    # deals' row count comes in the same query (a row of its own, ``_deals`` = 1).
    per_name = events.group_by("stage").agg(n=events.count())
    per_name = per_name.select(_deals=ibis.literal(0, "int64"), stage=per_name.stage.cast("string"),
                               n=per_name.n.cast("int64"))
    if kept_deals is not None:
        per_name = per_name.union(
            kept_deals.aggregate(n=kept_deals.count().cast("int64")).select(
                _deals=ibis.literal(1, "int64"), stage=ibis.null("string"), n="n"
            ),
            distinct=False,
        )
    counts = log.frame(per_name)
    deal_rows = counts[counts["_deals"] == 1]
    counts = counts[counts["_deals"] == 0]
    names = {
        str(s): int(n)
        for s, n in sorted(zip(counts["stage"], counts["n"], strict=True), key=lambda x: -x[1])
        if s is not None
    }  # as voronka.engine.stage_names.name_counts orders them: most rows first
    return log.narrowed(
        events=events,
        deals=kept_deals,
        events_rows=int(counts["n"].sum()),
        deals_rows=None if kept_deals is None else int(deal_rows["n"].sum()),
        name_counts=names,
        stages=kept_stages,
        summary=kept_summary,
        reached=kept_reached,
        created_window=window,
    )


def _datetime(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime(value.year, value.month, value.day)


def _moment(value: dt.datetime | dt.date) -> ir.TimestampValue:
    return ibis.literal(_datetime(value), "timestamp")
