"""Data-quality counts of the event log: rows left out and problems flagged, with a few examples.

Row accounting: of the event rows given to the engine, ``used = read − unknown_stage −
duplicate_event``; of the deals rows, ``used = read − duplicate_deal``. The other kinds are flagged
only: the rows stay in the audit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import ibis

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from voronka.engine.log import EventLog

MAX_EXAMPLES = 5
"""Examples kept per issue."""


@dataclass(frozen=True)
class QualityIssueCount:
    """One kind of data-quality problem found by the engine.

    Attributes:
        kind: the code: ``duplicate_event``, ``unknown_stage``, ``event_before_created``,
            ``backward_move``, ``deal_without_events``, ``event_without_deal``, ``duplicate_deal``.
        count: how many rows or deals (per ``unit``) have it.
        examples: up to five: ``_row`` numbers of the file (``duplicate_event``,
            ``event_before_created``, ``duplicate_deal``), deal ids (``backward_move``,
            ``deal_without_events``, ``event_without_deal``) or stage names (``unknown_stage``).
        unit: what ``count`` counts: ``rows`` or ``deals``.
        file: the input the rows or deals come from: ``events`` or ``deals``.
        excluded: whether the rows were left out of the audit (else only flagged).
    """

    kind: str
    count: int
    examples: tuple[str, ...]
    unit: Literal["rows", "deals"]
    file: Literal["events", "deals"]
    excluded: bool


@dataclass(frozen=True)
class QualityCounts:
    """What the engine left out and what it flagged.

    Attributes:
        events_read: event rows given to the engine.
        events_used: event rows in the audit (``events_read`` minus the excluded kinds).
        deals_read: deals rows given to the engine (None without a deals table).
        deals_used: deals rows in the audit (one per deal id; None without a deals table).
        duplicate_event: excluded: same deal, stage and time as an earlier row (first kept).
        unknown_stage: excluded: a stage name the funnel does not know (examples: the names).
        event_before_created: flagged: an event dated before its deal's ``created_at``.
        backward_move: flagged: an event that goes to an earlier stage of the line than the
            deal's previous event.
        deal_without_events: flagged: a deals-table deal with no usable event (not counted in
            the funnel).
        event_without_deal: flagged: a deal with events but absent from the deals table.
        duplicate_deal: excluded: a deals-table row repeating an earlier row's ``deal_id``.
        won_without_won_stage: flagged: a deal won by its status whose events never reach the
            won stage (it counts as won, but not in the won stage's "reached": the two numbers
            differ by exactly this count).
    """

    events_read: int
    events_used: int
    deals_read: int | None
    deals_used: int | None
    duplicate_event: QualityIssueCount
    unknown_stage: QualityIssueCount
    event_before_created: QualityIssueCount
    backward_move: QualityIssueCount
    deal_without_events: QualityIssueCount
    event_without_deal: QualityIssueCount
    duplicate_deal: QualityIssueCount
    won_without_won_stage: QualityIssueCount = QualityIssueCount(
        "won_without_won_stage", 0, (), "deals", "events", False
    )

    @property
    def events_rejected(self) -> int:
        """Event rows left out: ``events_read − events_used``."""
        return self.events_read - self.events_used

    @property
    def deals_rejected(self) -> int | None:
        """Deals rows left out (None without a deals table)."""
        if self.deals_read is None or self.deals_used is None:
            return None
        return self.deals_read - self.deals_used

    @property
    def issues(self) -> tuple[QualityIssueCount, ...]:
        """Every kind, in a fixed order, including those with a zero count."""
        return (
            self.unknown_stage,
            self.duplicate_event,
            self.event_before_created,
            self.backward_move,
            self.deal_without_events,
            self.event_without_deal,
            self.duplicate_deal,
            self.won_without_won_stage,
        )


def _examples(
    log: EventLog, columns: Mapping[str, ir.Column], counted: Collection[str] = ()
) -> tuple[dict[str, tuple[str, ...]], dict[str, int]]:
    """Per name: the first :data:`MAX_EXAMPLES` distinct values of its column (nulls dropped),
    in the column's own order, as text; and for the names in ``counted``, how many distinct
    values there are. All in one query (a ``UNION ALL`` of one ranked part per column)."""
    if not columns:
        return {}, {}
    parts = []
    for i, (name, column) in enumerate(columns.items()):
        table = column.name("value").as_table()
        table = table.filter(table.value.notnull()).distinct()
        table = table.mutate(
            _pos=ibis.row_number().over(order_by=table.value),
            _n=table.value.count().over(ibis.window()) if name in counted
            else ibis.null("int64"),
        )
        table = table.filter(table._pos < MAX_EXAMPLES)
        parts.append(table.select(_kind=ibis.literal(i, "int64"), _pos=table._pos.cast("int64"),
                                  _n=table._n.cast("int64"), value=table.value.cast("string")))
    frame = log.frame(ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0])
    frame = frame.sort_values(["_kind", "_pos"])
    examples, counts = {}, {}
    for i, name in enumerate(columns):
        mine = frame[frame["_kind"] == i]
        examples[name] = tuple(str(v) for v in mine["value"])
        if name in counted:
            counts[name] = int(mine["_n"].iloc[0]) if len(mine) else 0
    return examples, counts


def compute_quality(log: EventLog) -> QualityCounts:
    """The :class:`QualityCounts` of a log that has a funnel (see the module docstring).

    Two aggregate queries whatever the data (the deal × stage table's counters and the deal
    summary's counts together, the deals table's ids); the examples of every kind found, and
    the count of events dated before their deal's creation when deals may have such events, in
    one more."""
    funnel = log._need_funnel()
    stages = log.deal_stages()
    deals_summary = log.deal_summary()
    mapping = log.stage_mapping
    names = log.stage_name_counts()

    matched_rows = sum(n for name, n in names.items() if name in mapping)
    unknown_names = [name for name in names if name not in mapping]  # most rows first
    unknown = QualityIssueCount(
        "unknown_stage",
        log.events_rows - matched_rows,
        tuple(unknown_names[:MAX_EXAMPLES]),
        "rows",
        "events",
        True,
    )
    won_index = len(funnel.line) - 1
    counts = _counts(log, won_index)
    early = _events_before_created(log, counts["suspects"])

    # Columns whose first values are the examples of each kind found (asked in one query); the
    # events dated before their deal's creation are counted by the same query (one ``_row`` each).
    wanted: dict[str, ir.Column] = {}
    if counts["duplicates"]:
        wanted["duplicate_event"] = stages.duplicate_row
    if counts["backward"]:
        wanted["backward_move"] = stages.filter(stages.n_backward > 0).deal_id
    if early is not None:
        wanted["event_before_created"] = early._row
    if counts["won_without"]:
        wanted["won_without_won_stage"] = deals_summary.filter(
            _won_stage_missing(deals_summary, won_index)
        ).deal_id

    deals = log.deals_table
    deals_used: int | None = None
    n_dup_deals = n_orphans = n_missing = 0
    id_counts = log.deal_id_counts()
    unique = log.unique_deals()
    if deals is not None and id_counts is not None and unique is not None:
        deals_used = id_counts[1]
        n_dup_deals = (log.deals_rows or 0) - deals_used
        if n_dup_deals:
            order = unique.select(first_row=unique._row, first_id=unique.deal_id)
            repeated = deals.join(order, deals.deal_id == order.first_id)
            repeated = repeated.filter(repeated._row != repeated.first_row)
            wanted["duplicate_deal"] = repeated._row
        # Each summary deal found in the deals table matches exactly one of its distinct ids.
        n_orphans = deals_used - counts["linked"]
        if n_orphans:
            orphans = unique.anti_join(deals_summary, unique.deal_id == deals_summary.deal_id)
            wanted["deal_without_events"] = orphans.deal_id
        n_missing = counts["missing"]
        if n_missing:
            wanted["event_without_deal"] = deals_summary.filter(
                deals_summary.deals_row.isnull()
            ).deal_id
    examples, counted = _examples(log, wanted, counted=("event_before_created",))
    for kind, column in wanted.items():  # deal keys → the deals' own text ids
        if column.get_name() == "deal_id":
            examples[kind] = log.deal_id_texts(examples[kind])
    n_before = counted.get("event_before_created", 0)

    def issue(kind: str, count: int, unit: Literal["rows", "deals"],
              file: Literal["events", "deals"], excluded: bool) -> QualityIssueCount:
        return QualityIssueCount(kind, count, examples.get(kind, ()), unit, file, excluded)

    return QualityCounts(
        won_without_won_stage=issue(
            "won_without_won_stage", counts["won_without"], "deals", "events", False
        ),
        events_read=log.events_rows,
        events_used=counts["usable"],
        deals_read=log.deals_rows,
        deals_used=deals_used,
        duplicate_event=issue("duplicate_event", counts["duplicates"], "rows", "events", True),
        unknown_stage=unknown,
        event_before_created=issue("event_before_created", n_before, "rows", "events", False),
        backward_move=issue("backward_move", counts["backward"], "rows", "events", False),
        deal_without_events=issue("deal_without_events", n_orphans, "deals", "deals", False),
        event_without_deal=issue("event_without_deal", n_missing, "deals", "events", False),
        duplicate_deal=issue("duplicate_deal", n_dup_deals, "rows", "deals", True),
    )


def _won_stage_missing(table: ir.Table, won_index: int) -> ir.BooleanValue:
    """Deals won by their status whose events never reach the won stage."""
    return (table.outcome == "won") & (
        table.max_stage_index.isnull() | (table.max_stage_index < won_index)
    )


def _counts(log: EventLog, won_index: int) -> dict[str, int]:
    """One query: the deal × stage table's counters (``usable`` events, ``duplicates``,
    ``backward`` moves) beside the deal summary's counts — deals found in the deals table
    (``linked``) and not (``missing``), won without the won stage, first event before creation
    (``suspects``)."""
    stages = log.deal_stages()
    table = log.deal_summary()
    per_stage = stages.aggregate(
        usable=stages.n_events.sum(),
        duplicates=stages.n_duplicates.sum(),
        backward=stages.n_backward.sum(),
    )
    per_deal = table.aggregate(
        linked=table.deals_row.notnull().cast("int64").sum(),
        missing=table.deals_row.isnull().cast("int64").sum(),
        won_without=_won_stage_missing(table, won_index).cast("int64").sum(),
        suspects=(table.first_event_at < table.created_at).cast("int64").sum(),
    )
    counts = log.frame(per_stage.cross_join(per_deal)).iloc[0]
    return {k: int(v) if v is not None and v == v else 0 for k, v in counts.items()}


def _events_before_created(log: EventLog, suspects: int) -> ir.Table | None:
    """Usable events dated before their deal's ``created_at`` (only possible when an input gives
    ``created_at``; otherwise it is the deal's first event), one row each with its ``_row``;
    None when there can be none. ``suspects``: deals whose first event is before their
    creation."""
    deals = log.deals_table
    has_created = "created_at" in log.events_table.columns or (
        deals is not None and "created_at" in deals.columns
    )
    if not has_created or not suspects:
        return None
    table = log.deal_summary()
    # Only deals whose first event is before creation can have such events: a cheap filter on
    # the summary spares a pass over every event.
    early_deals = table.filter(table.first_event_at < table.created_at).select(
        c_deal=table.deal_id, c_at=table.created_at
    )
    matched = log.matched_events()
    early = matched.join(early_deals, matched.deal_id == early_deals.c_deal)
    early = early.filter(early.entered_at < early.c_at)
    return early.group_by(["deal_id", "stage_index", "entered_at"]).agg(_row=early._row.min())
