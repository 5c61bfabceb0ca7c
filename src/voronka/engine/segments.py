"""The deal columns a funnel can be broken down by (``--by``) and the deal summary with a segment
and a period column: what every per-segment and per-period aggregate groups by."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis.expr.types as ir
from ibis.backends import BaseBackend

from voronka.engine import summary
from voronka.engine.backend import to_frame
from voronka.errors import Msg, UsageError, any_of

if TYPE_CHECKING:
    from voronka.engine.log import EventLog

MAX_SEGMENT_VALUES = 200
"""A deal column with more distinct values than this is not offered for ``--by`` (an id, a name)."""

_NOT_SEGMENTS = {"deal_id", "status", "lost_reason", "created_at", "closed_at", "amount", "_row"}
_PERIODS = {"week": "W", "month": "M"}


def deal_columns(deal_summary: ir.Table) -> list[str]:
    """Every attribute column of the deal summary (deals table first, then event rows)."""
    computed = set(summary.COMPUTED_COLUMNS)
    return [c for c in deal_summary.columns if c not in computed]


def segment_columns(con: BaseBackend, deal_summary: ir.Table) -> list[str]:
    """Deal columns usable for ``--by``: text or yes/no columns with 1 to
    :data:`MAX_SEGMENT_VALUES` distinct values (not ids, status, lost reason, dates, amount)."""
    table = deal_summary
    candidates = [
        c
        for c in deal_columns(table)
        if c not in _NOT_SEGMENTS
        and (table[c].type().is_string() or table[c].type().is_boolean())
    ]
    if not candidates:
        return []
    counts = to_frame(con, table.aggregate(**{c: table[c].nunique() for c in candidates}))
    return [c for c in candidates if 1 <= int(counts[c].iloc[0]) <= MAX_SEGMENT_VALUES]


def segmented(log: EventLog, by: str | None = None, period: str | None = None) -> ir.Table:
    """The log's deal summary with a ``segment`` column (the ``by`` column) and a ``period`` date
    column (Monday of the creation week, or the first day of its month), as asked.

    Raises:
        UsageError: ``by`` is not a deal column, or ``period`` is not week or month.
    """
    table = log.deal_summary()
    extra: dict[str, ir.Value] = {}
    if by is not None:
        if by not in log.deal_columns():
            raise UsageError(
                Msg("errors.raised.there_is_no_deal_column_to", by=repr(by)),
                column=by,
                expected=any_of(log.segment_columns(), "errors.expected.a_deal_column"),
            )
        extra["segment"] = table[by]
    if period is not None:
        if period not in _PERIODS:
            raise UsageError(
                Msg("errors.raised.unknown_period", period=repr(period)),
                expected=Msg("errors.expected.week_or_month"),
            )
        extra["period"] = table.created_at.truncate(_PERIODS[period]).date()
    return table.mutate(**extra) if extra else table
