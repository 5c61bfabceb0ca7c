"""Filters and drill-down: a log restricted to some deals, and bounded pages of the deals behind a
number of the audit.

* :class:`DealFilter` — deals created in a period and/or with given column values (``--from``,
  ``--to``, ``--where column=value``); :func:`apply_filter` gives the log of those deals only, on the
  same backend, so every aggregate (and so every section of the audit) describes them alone.
* :class:`DealSelection` — which deals stand behind one number (reached a stage, lost at it, open
  in it, stuck in it, won …), defined exactly as the aggregates count them, so a page's ``total``
  equals the number shown.
* :func:`deal_page` — one explicitly bounded page (at most :data:`MAX_PAGE` rows) of the selected
  deals, sorted on the backend: the engine never returns all rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import pandas as pd

from voronka.engine.backend import scalar
from voronka.engine.log import EventLog
from voronka.engine.summary import COMPUTED_COLUMNS
from voronka.errors import Msg, UsageError, any_of

MAX_PAGE = 500
"""The largest page :func:`deal_page` returns."""

SELECTION_KINDS = (
    "all", "won", "lost", "open", "reached", "lost_here", "open_here", "stuck", "stopped",
)
"""What a :class:`DealSelection` can ask for (the last five need a stage)."""



@dataclass(frozen=True)
class DealFilter:
    """Which deals an audit describes.

    Attributes:
        created_from: first day of the period (deals created on or after it); None: no bound.
        created_to: last day of the period (deals created on or before it, whole day); None: no
            bound.
        where: ``(column, value)`` pairs, all of which must hold; the column's value is compared
            as text (``manager=Иванова``, ``is_repeat=true``).
    """

    created_from: dt.date | None = None
    created_to: dt.date | None = None
    where: tuple[tuple[str, str], ...] = ()

    @property
    def empty(self) -> bool:
        """Whether the filter keeps every deal."""
        return self.created_from is None and self.created_to is None and not self.where

    def key(self) -> tuple[object, ...]:
        """A hashable key (for caches)."""
        return (self.created_from, self.created_to, tuple(sorted(self.where)))


@dataclass(frozen=True)
class DealSelection:
    """The deals behind one number.

    Attributes:
        kind: one of :data:`SELECTION_KINDS`: ``all`` deals, ``won``/``lost``/``open`` ones,
            deals that ``reached`` a stage (entered it or a later stage of the line), deals
            ``lost_here`` (lost, latest stage this one), ``open_here`` (open, now in this stage),
            ``stuck`` (open, in this stage longer than ``limit_days``), ``stopped`` (reached this
            stage of the line before the won stage but not the next one: the deals behind a
            leak's step).
        stage_index: the stage, for the last four kinds.
        limit_days: the stage's time limit, for ``stuck``.
        where: extra ``(column, value)`` pairs (a source's wins: ``won`` with source = X).
    """

    kind: str = "all"
    stage_index: int | None = None
    limit_days: float | None = None
    where: tuple[tuple[str, str], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class DealPage:
    """One page of deals.

    Attributes:
        total: deals selected in all (the number the page was opened from).
        offset: rows skipped before this page.
        columns: column names of ``rows``.
        rows: at most :data:`MAX_PAGE` rows; ``stage`` holds the current stage's id.
    """

    total: int
    offset: int
    columns: tuple[str, ...]
    rows: pd.DataFrame


def _where(table: ir.Table, pairs: Sequence[tuple[str, str]], log: EventLog) -> ir.BooleanValue:
    known = log.deal_columns()
    condition: ir.BooleanValue = ibis.literal(True)
    for column, value in pairs:
        if column not in known:
            raise UsageError(
                Msg("errors.raised.there_is_no_deal_column_to_3", column=repr(column)),
                column=column,
                expected=any_of(
                    (c for c in known if c not in COMPUTED_COLUMNS), "errors.expected.a_deal_column"
                ),
            )
        text = table[column].cast("string")
        condition = condition & (text == value).fill_null(False)
    return condition


def _no_match(flt: DealFilter) -> Msg:
    """No deal matches ``flt``, with its values and period."""
    parts: list[str | Msg] = [f"{c}={v}" for c, v in flt.where]
    if flt.created_from or flt.created_to:
        parts.append(Msg("errors.part.created_to", start=flt.created_from or "…",
                         end=flt.created_to or "…"))
    if not parts:
        return Msg("errors.msg.no_match")
    return Msg("errors.raised.no_deal_matches_the_filter", filter=parts)


def apply_filter(log: EventLog, flt: DealFilter) -> EventLog:
    """The log of the deals ``flt`` keeps (same backend, funnel and ``as_of``), through
    :func:`voronka.engine.filtered.filter_log`; a filter that keeps no deal is a
    :class:`UsageError` naming it (an audit of nothing has no numbers to show)."""
    from voronka.engine.filtered import filter_log

    log.require_funnel()
    if flt.empty:
        return log
    if flt.created_from and flt.created_to and flt.created_from > flt.created_to:
        raise UsageError(
            Msg(
                "errors.raised.the_period_starts_after_it_ends",
                created_from=flt.created_from,
                created_to=flt.created_to,
            ),
            expected=Msg("errors.expected.from_on_or_before_to"),
        )
    where: dict[str, list[str | None]] = {}
    for column, value in flt.where:
        where.setdefault(column, []).append(value)
    if any(len(v) > 1 for v in where.values()):
        # Every condition must hold: two values of one column keep nothing.
        raise UsageError(_no_match(flt),
                         expected=Msg("errors.expected.one_value_per_column"))
    narrowed = filter_log(
        log,
        where={c: v[0] for c, v in where.items()},
        created_from=flt.created_from,
        created_until=None if flt.created_to is None else flt.created_to + dt.timedelta(days=1),
    )
    if int(scalar(narrowed.backend, narrowed.deal_summary().count())) == 0:
        raise UsageError(_no_match(flt),
                         expected=Msg("errors.expected.another_period_or_value"))
    return narrowed


def _selected(log: EventLog, selection: DealSelection) -> ir.Table:
    if selection.kind not in SELECTION_KINDS:
        raise UsageError(
            Msg("errors.raised.unknown_selection", kind=repr(selection.kind)),
            expected=any_of(SELECTION_KINDS),
        )
    table = log.deal_summary()
    condition = _where(table, selection.where, log)
    kind, k = selection.kind, selection.stage_index
    if kind in ("won", "lost", "open"):
        condition = condition & (table.outcome == kind)
    elif kind != "all":
        funnel = log.require_funnel()
        if k is None or not 0 <= k < len(funnel.stages):
            raise UsageError(
                Msg("errors.raised.needs_a_stage", kind=repr(kind)),
                expected=Msg("errors.expected.a_stage_of_the_funnel"),
            )
        here = table.current_stage_index == k
        if kind == "reached":
            if k <= funnel.won_index:
                condition = condition & (table.max_stage_index >= k).fill_null(False)
            else:
                stages = log.deal_stages()
                entered = stages.filter(stages.stage_index == k).select("deal_id")
                table = table.semi_join(entered, "deal_id")
        elif kind == "stopped":
            if k >= funnel.won_index:
                raise UsageError(Msg("errors.raised.needs_a_stage_before_the_won", kind=repr(kind)),
                                 expected=Msg("errors.expected.a_stage_of_the_line_before"))
            condition = condition & (table.max_stage_index == k).fill_null(False)
        elif kind == "lost_here":
            condition = condition & (table.outcome == "lost") & here.fill_null(False)
        elif kind == "open_here":
            condition = condition & (table.outcome == "open") & here.fill_null(False)
        else:  # stuck: as engine.hygiene counts it (strictly past the limit)
            if selection.limit_days is None:
                return table.filter(ibis.literal(False))
            condition = (
                condition
                & (table.outcome == "open")
                & here.fill_null(False)
                & (table.days_in_stage > float(selection.limit_days)).fill_null(False)
            )
    return table.filter(condition)


def count_deals(log: EventLog, selection: DealSelection) -> int:
    """How many deals ``selection`` picks."""
    return int(scalar(log.backend, _selected(log, selection).count()))


def page_columns(log: EventLog) -> tuple[str, ...]:
    """The columns of a :func:`deal_page`: the deal, its dates, stage, outcome and attributes."""
    attrs = [c for c in log.deal_columns() if c not in COMPUTED_COLUMNS and c != "_row"]
    return ("deal_id", "created_at", "stage", "outcome", "days_in_stage", "closed_at", *attrs)


def deal_page(
    log: EventLog,
    selection: DealSelection,
    *,
    sort: str = "deal_id",
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> DealPage:
    """One page of the deals ``selection`` picks, sorted by ``sort`` (ties by deal id), at most
    ``min(limit, MAX_PAGE)`` rows from ``offset``."""
    funnel = log.require_funnel()
    columns = page_columns(log)
    if sort not in columns:
        raise UsageError(
            Msg("errors.raised.cannot_sort_by", sort=repr(sort)), expected=any_of(columns)
        )
    limit = max(0, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    table = _selected(log, selection)
    stage_ids = funnel.stage_ids
    stage = ibis.cases(
        *[(table.current_stage_index == i, sid) for i, sid in enumerate(stage_ids)],
        else_=ibis.null("string"),
    )
    chosen = table.select(*[stage.name("stage") if c == "stage" else table[c] for c in columns])
    key = chosen[sort]
    order = [ibis.desc(key) if descending else key]
    if sort != "deal_id":
        order.append(chosen.deal_id)
    total = int(scalar(log.backend, chosen.count()))
    if offset and log.backend.name == "pyspark":
        # Ibis's PySpark backend pages with a row number its own result schema does not expect
        # (a ValueError); the same page by an explicit row number instead.
        ranked = chosen.mutate(_page_row=ibis.row_number().over(order_by=order))
        window = ranked.filter(
            (ranked._page_row >= offset) & (ranked._page_row < offset + limit)
        )
        page = window.order_by(window._page_row).drop("_page_row")
    else:
        page = chosen.order_by(order).limit(limit, offset=offset)
    rows = log.frame(page)
    return DealPage(total=total, offset=offset, columns=columns, rows=rows)


def column_values(log: EventLog, columns: Sequence[str], *, limit: int = 200) -> dict[str, list[str]]:
    """Per deal column: its distinct values as text (most deals first, at most ``limit``), for
    filter choices. Columns the log does not have are left out."""
    table = log.deal_summary()
    out: dict[str, list[str]] = {}
    for column in columns:
        if column not in log.deal_columns():
            continue
        named = table.select(value=table[column].cast("string"))
        named = named.filter(named.value.notnull())
        counts = named.group_by("value").agg(n=named.count())
        frame = log.frame(counts.order_by([ibis.desc("n"), "value"]).limit(limit))
        out[column] = [str(v) for v in frame["value"]]
    return out


def won_amount_by(log: EventLog, column: str) -> pd.DataFrame:
    """Per value of the deal column ``column``: ``value`` (text, None for blank) and
    ``won_amount`` (sum of the won deals' amounts; 0 without amounts)."""
    table = log.deal_summary()
    if column not in log.deal_columns():
        return pd.DataFrame({"value": [], "won_amount": []})
    amount = (
        table.amount.cast("float64") if "amount" in log.deal_columns() else ibis.literal(0.0)
    )
    won = table.filter(table.outcome == "won").select(
        value=table[column].cast("string"), amount=amount
    )
    frame = log.frame(won.group_by("value").agg(won_amount=won.amount.sum()))
    frame["won_amount"] = frame["won_amount"].fillna(0.0).astype("float64")
    return frame


def stuck_deal_values(
    log: EventLog,
    win_probability: Mapping[int, float],
    limits: Mapping[int, float],
    *,
    limit: int = 50,
) -> pd.DataFrame:
    """The stuck open deals (days in stage strictly past the stage's limit) ranked by the revenue
    a timely action can still save: ``amount × P(won | stage)``, at most ``limit`` rows.

    Columns: ``deal_id``, ``stage_index``, ``days_in_stage``, ``limit_days``, ``manager`` (None
    when the data has none), ``amount`` (0 when unknown), ``p_won``, ``value``.
    """
    table = log.deal_summary()
    open_ = table.filter((table.outcome == "open") & table.current_stage_index.notnull())
    k = open_.current_stage_index

    def by_stage(values: Mapping[int, float]) -> ir.FloatingValue:
        cases = [(k == int(i), float(v)) for i, v in sorted(values.items())]
        if not cases:
            return ibis.null("float64")
        return ibis.cases(*cases, else_=ibis.null("float64")).cast("float64")

    columns = log.deal_columns()
    amount = open_.amount.cast("float64").fill_null(0.0) if "amount" in columns else ibis.literal(0.0)
    manager = open_.manager.cast("string") if "manager" in columns else ibis.null("string")
    chosen = open_.select(
        "deal_id",
        stage_index=k.cast("int64"),
        days_in_stage=open_.days_in_stage,
        limit_days=by_stage(limits),
        manager=manager,
        amount=amount,
        p_won=by_stage(win_probability).fill_null(0.0),
    )
    chosen = chosen.filter(
        chosen.limit_days.notnull() & (chosen.days_in_stage > chosen.limit_days)
    ).mutate(value=chosen.amount * chosen.p_won)
    ordered = chosen.order_by([ibis.desc("value"), ibis.desc("days_in_stage"), "deal_id"])
    return log.frame(ordered.limit(max(0, min(int(limit), MAX_PAGE))))
