"""The per-deal tables the engine materialises once per funnel, as Ibis expressions.

Three tables, built in this order (each a function of the one before):

* **matched events** (lazy): the event rows whose stage name the funnel knows (a stage, or lost).
  The *usable* events are these without duplicates: a row with the same deal, stage and
  entered_at as an earlier row (in file order) is a duplicate.
* **deal stages** (materialised): one row per deal × stage it entered (lost counts as a stage with
  index ``LOST_INDEX``), from a single window pass over the matched events: when it first and last
  entered the stage, when it left the stage after the first entry, and the per-deal counters that
  the data-quality section needs.
* **deal summary** (materialised): one row per deal with at least one usable event — the deal
  population of every aggregate — with its attributes, how far it got, its outcome and its
  current stage.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

LOST_INDEX = -1
"""The ``stage_index`` of events matched to :data:`voronka.funnel.LOST`."""

_CODE_BASE = 1_000
"""``epoch second × _CODE_BASE + stage_index`` orders a deal's stages by their latest event (then
funnel position) in one integer, so the current stage comes out of a plain ``max`` (no ordered
aggregate, which some backends lack). Events within the same second count as simultaneous."""

SECONDS_PER_DAY = 86_400.0

COMPUTED_COLUMNS = (
    "deal_id",
    "created_at",
    "closed_at",
    "first_event_at",
    "last_event_at",
    "n_events",
    "max_stage_index",
    "current_stage_index",
    "current_entered_at",
    "days_in_stage",
    "won_at",
    "lost_at",
    "outcome",
    "deals_row",
)
"""Columns of the deal summary the engine computes; input columns of these names are replaced.
``n_events`` and ``current_entered_at`` are no longer stored (no query read them; the deal ×
stage table has the events per stage, bench/README.md round 10) but keep their names: an input
column so named is left out as before."""


def epoch_seconds(expr: ir.TimestampValue) -> ir.FloatingValue:
    """Seconds since 1970 of a naive-UTC timestamp, as a float on every backend."""
    return expr.epoch_seconds().cast("float64")


def days_between(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.FloatingValue:
    """``end − start`` in float days (to the second)."""
    return (epoch_seconds(end) - epoch_seconds(start)) / SECONDS_PER_DAY


def matched_events(events: ir.Table, mapping: ir.Table) -> ir.Table:
    """Event rows whose stage name is in ``mapping`` (``stage`` → ``stage_index``), duplicates
    still in. Columns: ``deal_id``, ``stage_index``, ``entered_at``, ``_row``."""
    matched = events.select("deal_id", "stage", "entered_at", "_row").join(mapping, "stage")
    return matched.select("deal_id", "stage_index", "entered_at", "_row")


def usable_events(events: ir.Table, mapping: ir.Table) -> ir.Table:
    """The usable events: matched rows with duplicates merged (one row per deal, stage index and
    ``entered_at``; ``_row`` the first in file order). Lazy; the engine itself does not need it
    (:func:`deal_stages` drops duplicates inside its window pass)."""
    matched = matched_events(events, mapping)
    return matched.group_by(["deal_id", "stage_index", "entered_at"]).agg(_row=matched._row.min())


def deal_stages(matched: ir.Table, won_index: int) -> ir.Table:
    """One row per deal × stage entered (lost included), from one window pass over ``matched``.

    A deal's events are ordered by time, then funnel position (lost first); rows with the same
    stage and time are duplicates, and each one but the first in file order is dropped (they are
    sorted last row first, so the rows flagged, those followed by a copy, are the dropped ones).
    Two window functions (the next event's stage and time) give everything, as in the plainest
    hand-written query; this pass is the engine's main cost.

    Columns: ``deal_id``, ``stage_index``, ``first_entered_at``, ``last_entered_at``, ``left_at``
    (the time of the deal's next event of another stage after its first entry into this one;
    lost events count as leaving; null if it never left), ``n_events`` (usable events: duplicates
    not counted), ``n_duplicates`` (event rows dropped as duplicates), ``duplicate_row`` (an
    example ``_row``), ``n_backward`` (events of this stage whose next event is of an earlier stage
    of the line).

    ``left_at`` is the minimum, over the deal's events of the stage, of the next event's time where
    that event is of another stage: the first such event closes the first run of the stage.
    """
    order = ibis.window(
        group_by=matched.deal_id,
        order_by=[matched.entered_at, matched.stage_index, ibis.desc(matched._row)],
    )
    ev = matched.mutate(
        next_index=matched.stage_index.lead().over(order),
        next_at=matched.entered_at.lead().over(order),
    )
    duplicate = ((ev.next_index == ev.stage_index) & (ev.next_at == ev.entered_at)).fill_null(False)
    backward = (
        (ev.next_index >= 0) & (ev.next_index <= won_index) & (ev.next_index < ev.stage_index)
    ).fill_null(False)
    leaving = (ev.next_index != ev.stage_index).fill_null(False)
    # Counts with a filter, not sums of 0/1 casts: DuckDB keeps a 128-bit state per group for a
    # sum of 64-bit integers, and with about one group per event row the three sums cost about
    # a tenth of this statement (bench/README.md, round 10). The same integers.
    n_duplicates = ev.count(where=duplicate)
    return ev.group_by(["deal_id", "stage_index"]).agg(
        first_entered_at=ev.entered_at.min(),
        last_entered_at=ev.entered_at.max(),
        left_at=ev.next_at.min(where=leaving),
        n_events=ev.count() - n_duplicates,
        n_duplicates=n_duplicates,
        duplicate_row=ev._row.min(where=duplicate),
        n_backward=ev.count(where=backward),
    )


def event_attributes(events: ir.Table, columns: Sequence[str]) -> ir.Table | None:
    """Deal attributes carried by event rows: per deal, each column's first non-null value in file
    order (smallest ``_row``). None when ``columns`` is empty."""
    if not columns:
        return None
    aggs = {}
    for name in columns:
        col = events[name]
        # The key is nulled too, so backends whose min_by ignores the filter still skip nulls.
        key = ibis.ifelse(col.notnull(), events._row, ibis.null("int64"))
        aggs[name] = col.argmin(key, where=col.notnull())
    return events.group_by("deal_id").agg(**aggs)


def deduplicated_deals(deals: ir.Table) -> ir.Table:
    """The deals table with one row per ``deal_id``: the first in file order.

    A hash aggregate (first row per id) joined back on the row number: cheaper than a window,
    which would sort the whole table by id.
    """
    first = deals.group_by("deal_id").agg(_first_row=deals._row.min())
    kept = deals.join(first, deals._row == first._first_row, lname="", rname="{name}_first")
    return kept.select(*deals.columns)


def deal_id_counts(deals: ir.Table) -> ir.Table:
    """One row: ``rows`` of ``deals``, its distinct non-blank ``ids``, and ``blank`` (1 when some
    row has no id, else 0): rows == ids exactly when no id repeats and none is blank."""
    return deals.aggregate(
        rows=deals.count(),
        ids=deals.deal_id.nunique(),
        blank=deals.deal_id.isnull().cast("int64").max().fill_null(0),
    )


def deal_summary(
    stages: ir.Table,
    *,
    won_index: int,
    as_of: dt.datetime,
    deals: ir.Table | None,
    event_attrs: ir.Table | None,
) -> ir.Table:
    """One row per deal with a usable event: attributes, reach, outcome, current stage.

    Columns: ``deal_id``; ``created_at`` (the deals table's, else the events', else the first
    event's time); every attribute column (deals table first, then event rows); ``first_event_at``,
    ``last_event_at``; ``max_stage_index`` (furthest stage of the line entered; null if none);
    ``current_stage_index`` (the stage of the latest non-lost event); ``won_at`` (first entry
    into the won stage), ``lost_at`` (first lost event); ``outcome`` (``won`` if it reached the
    won stage or its status is won; else ``lost`` if its status is lost or it has a lost event;
    else ``open``); ``closed_at`` (the input's, else ``won_at``/``lost_at``/the last event for
    closed deals); ``days_in_stage`` (open deals: ``as_of`` − the time of the latest non-lost
    event, in days); ``deals_row`` (its row in the deals file, null if absent from it or no
    deals table was given). The events per deal are the deal × stage table's ``n_events``.
    """
    line = (stages.stage_index >= 0) & (stages.stage_index <= won_index)
    in_funnel = stages.stage_index >= 0
    per_deal = stages.group_by("deal_id").agg(
        first_event_at=stages.first_entered_at.min(),
        last_event_at=stages.last_entered_at.max(),
        max_stage_index=stages.stage_index.max(where=line),
        _current_code=(
            epoch_seconds(stages.last_entered_at).floor().cast("int64") * _CODE_BASE
            + stages.stage_index
        ).max(where=in_funnel),
        current_entered_at=stages.last_entered_at.max(where=in_funnel),
        won_at=stages.first_entered_at.min(where=stages.stage_index == won_index),
        lost_at=stages.first_entered_at.min(where=stages.stage_index == LOST_INDEX),
    )
    table = per_deal
    attr_names: list[str] = []
    deal_cols: dict[str, ir.Value] = {}
    event_cols: dict[str, ir.Value] = {}
    if deals is not None:
        renamed = deals.rename({f"d__{c}": c for c in deals.columns})
        table = table.left_join(renamed, table.deal_id == renamed.d__deal_id)
        for c in deals.columns:
            if c not in ("deal_id", "_row"):
                deal_cols[c] = table[f"d__{c}"]
    if event_attrs is not None:
        renamed_e = event_attrs.rename({f"e__{c}": c for c in event_attrs.columns})
        table = table.left_join(renamed_e, table.deal_id == renamed_e.e__deal_id)
        for c in event_attrs.columns:
            if c != "deal_id":
                event_cols[c] = table[f"e__{c}"]
    for c in [*deal_cols, *event_cols]:
        if c not in attr_names and c not in COMPUTED_COLUMNS:
            attr_names.append(c)

    def attribute(name: str) -> ir.Value | None:
        d, e = deal_cols.get(name), event_cols.get(name)
        if d is not None and e is not None:
            return ibis.coalesce(d, e.cast(d.type()))
        return d if d is not None else e

    created_in = attribute("created_at")
    created_at = (
        ibis.coalesce(created_in.cast("timestamp"), table.first_event_at)
        if created_in is not None
        else table.first_event_at
    )
    status = attribute("status")
    won = (table.max_stage_index == won_index).fill_null(False)
    lost = table.lost_at.notnull()
    if status is not None:
        status_text = status.cast("string").lower()
        won = won | (status_text == "won").fill_null(False)
        lost = lost | (status_text == "lost").fill_null(False)
    outcome = ibis.cases((won, "won"), (lost, "lost"), else_="open")
    derived_close = ibis.cases(
        (won, ibis.coalesce(table.won_at, table.last_event_at)),
        (lost, ibis.coalesce(table.lost_at, table.last_event_at)),
        else_=ibis.null("timestamp"),
    )
    closed_in = attribute("closed_at")
    closed_at = (
        ibis.coalesce(closed_in.cast("timestamp"), derived_close)
        if closed_in is not None
        else derived_close
    )
    as_of_seconds = calendar.timegm(as_of.timetuple()) + as_of.microsecond / 1e6
    days_in_stage = ibis.ifelse(
        outcome == "open",
        (ibis.literal(as_of_seconds) - epoch_seconds(table.current_entered_at)) / SECONDS_PER_DAY,
        ibis.null("float64"),
    )
    current_index = (table._current_code % _CODE_BASE).cast("int64")
    deals_row = table["d___row"] if deals is not None else ibis.null("int64")
    columns: dict[str, ir.Value] = {
        "deal_id": table.deal_id,
        "created_at": created_at,
    }
    for name in attr_names:
        value = attribute(name)
        if value is not None:
            columns[name] = value
    columns.update(
        first_event_at=table.first_event_at,
        last_event_at=table.last_event_at,
        max_stage_index=table.max_stage_index.cast("int64"),
        current_stage_index=current_index,
        won_at=table.won_at,
        lost_at=table.lost_at,
        outcome=outcome,
        closed_at=closed_at,
        days_in_stage=days_in_stage,
        deals_row=deals_row.cast("int64"),
    )
    return table.select(**columns)


def reach_spans(won_index: int) -> list[tuple[int, int, int]]:
    """``(lower, top, k)`` for every ``lower < k ≤ top`` with ``-1 ≤ lower < top ≤ won_index``:
    the stages ``k`` a span of the line covers (see :func:`reached_at`), a few hundred rows."""
    return [
        (lower, top, k)
        for lower in range(-1, won_index)
        for top in range(lower + 1, won_index + 1)
        for k in range(lower + 1, top + 1)
    ]


def _narrow_index(won_index: int) -> str:
    """The narrowest integer type that holds the line's stage indices (-1 … ``won_index``): the
    window pass of :func:`reached_at` sorts on it, and DuckDB sorts a narrow key faster (about a
    tenth of that table's cost at 1M deals, bench/README.md round 9)."""
    return "int8" if won_index < 127 else "int16" if won_index < 32767 else "int64"


def reached_at(stages: ir.Table, spans: ir.Table, won_index: int) -> ir.Table:
    """Per deal × stage of the line it reached: ``reached_at``, its earliest entry into that stage
    or any later stage of the line, and ``next_at``, the ``reached_at`` of the next stage (null
    when the deal has not reached it): the stage transitions, without a self-join.

    ``spans`` is the table of :func:`reach_spans` (columns ``lower``, ``top``, ``k``). A skipped
    stage takes the time of the next stage the deal did enter: each entered stage ``top`` covers
    the indices between the deal's previous entered stage ``lower`` (exclusive) and ``top``
    (inclusive). One window pass over the deal's entered stages, latest first (every window
    function shares that order), then an equality join on ``(lower, top)``; the stage's own
    ``reached_at`` is the least of its entry and the next span's (cheaper than a second ``min``
    frame; bench/README.md round 9).
    """
    line = stages.filter((stages.stage_index >= 0) & (stages.stage_index <= won_index)).select(
        "deal_id", stage_index=stages.stage_index.cast(_narrow_index(won_index)),
        first_entered_at=stages.first_entered_at,
    )
    down = ibis.window(group_by=line.deal_id, order_by=ibis.desc(line.stage_index))
    # The next span's reach time: the earliest entry into a stage above this one.
    next_span_at = line.first_entered_at.min().over(
        ibis.window(group_by=line.deal_id, order_by=ibis.desc(line.stage_index), rows=(None, -1))
    )
    entered = line.mutate(
        # Both engines' LEAST skips nulls, as MIN does: one window frame fewer.
        reached_at=ibis.least(line.first_entered_at, next_span_at),
        next_span_at=next_span_at,
        lower=line.stage_index.lead().over(down).fill_null(-1),
    )
    joined = entered.join(
        spans, (spans.lower == entered.lower) & (spans.top == entered.stage_index)
    )
    return joined.select(
        deal_id=joined.deal_id,
        stage_index=joined.k.cast("int64"),
        reached_at=joined.reached_at,
        next_at=ibis.ifelse(joined.k < joined.stage_index, joined.reached_at, joined.next_span_at),
    )
