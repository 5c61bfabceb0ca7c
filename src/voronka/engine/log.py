"""The event log on an Ibis backend: the one object the audit asks for aggregates.

Deal population: every aggregate counts the deals with at least one *usable* event — an event row
whose stage name the funnel knows (a stage or a lost outcome), duplicates merged. Deals of the
deals table without such an event are reported in data quality (``deal_without_events``), not
counted; deals that appear only in the events are counted (and reported as ``event_without_deal``
when a deals table was given).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from ibis.backends import BaseBackend

from voronka.engine import funnel as funnel_aggregates
from voronka.engine import log_tables, segments, stage_names, summary
from voronka.engine.asof import AsOfCut
from voronka.engine.backend import (
    default_backend,
    load_arrow,
    materialize,
    to_frame,
)
from voronka.engine.deal_keys import DealKeys
from voronka.engine.memory import release_freed_memory
from voronka.engine.quality import QualityCounts, compute_quality
from voronka.engine.segments import MAX_SEGMENT_VALUES
from voronka.engine.tables import id_counts
from voronka.funnel import Funnel, StageNameStats

__all__ = ["MAX_SEGMENT_VALUES", "EventLog"]

LARGE_LOG_ROWS = 1_000_000
"""Event rows from which freed memory is handed back to the system between the build's steps
(Arrow's pool and malloc trimmed, worth it only when the pages freed are hundreds of
megabytes)."""


class EventLog:
    """The deals' stage history on an Ibis backend, and every aggregate the audit needs from it.

    Build it with :meth:`build`. Methods that need stage ids (``reach``, ``outcomes``,
    ``time_in_stage``, ``quality`` and the per-deal tables) need a funnel: give one to
    :meth:`build` or call :meth:`with_funnel`, which maps the stage names and materialises the
    per-deal tables once on the backend.

    The per-deal tables (:meth:`deal_summary`, :meth:`deal_stages`, :meth:`reached_at`) are Ibis
    tables for other engine modules to aggregate; nothing outside the engine may pull rows from
    them.
    """

    def __init__(
        self,
        *,
        con: BaseBackend,
        events: ir.Table,
        deals: ir.Table | None,
        events_rows: int,
        deals_rows: int | None,
        as_of: dt.datetime,
        funnel: Funnel | None = None,
        name_counts: dict[str, int] | None = None,
        as_of_cut: AsOfCut | None = None,
        deal_keys: DealKeys | None = None,
    ) -> None:
        """Use :meth:`build`; this constructor wires already-loaded tables together
        (``as_of_cut``: what an explicit ``as_of`` set aside, when the tables were cut;
        ``deal_keys``: the texts of the tables' integer ``deal_id`` keys, None when the tables
        hold the text ids themselves — :mod:`voronka.engine.deal_keys`)."""
        self._con = con
        self._events = events
        self._deals = deals
        self._events_rows = events_rows
        self._deals_rows = deals_rows
        self._as_of = as_of
        self._funnel = funnel
        self._name_counts = name_counts
        self._mapping: dict[str, int] = {}
        self._mapping_table: ir.Table | None = None
        self._stages: ir.Table | None = None
        self._summary: ir.Table | None = None
        self._reached: ir.Table | None = None
        self._memo: dict[str, ir.Table] = {}
        self._cubes: dict[Any, Any] = {}
        self._segments: list[str] | None = None
        self._quality: QualityCounts | None = None
        self._cut: AsOfCut | None = as_of_cut
        self._keys = deal_keys
        self._deal_ids: tuple[int, int] | None = None
        self._created: tuple[dt.datetime | None, dt.datetime | None] = (None, None)

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        events: pa.Table | pd.DataFrame,
        deals: pa.Table | pd.DataFrame | None = None,
        funnel: Funnel | None = None,
        *,
        backend: BaseBackend | None = None,
        as_of: dt.datetime | None = None,
    ) -> EventLog:
        """The log of ``events`` (and ``deals``) on ``backend`` (default: in-memory DuckDB).

        ``events`` and ``deals`` are the canonical tables of ``voronka.io`` (see
        docs/internals.md); without a deals table, deal attributes come from the event rows
        (each column's first non-null value per deal in file order) and ``created_at`` is the
        deal's first event. ``as_of`` defaults to the latest timestamp in the inputs.
        ``funnel=None`` defers the stage mapping to :meth:`with_funnel`.
        """
        con = backend if backend is not None else default_backend(getattr(events, "num_rows", None))
        if getattr(events, "num_rows", 0) >= LARGE_LOG_ROWS:
            # what reading the files left behind, before the backend grows
            release_freed_memory()
        tables = log_tables.arrow_tables(events, deals, as_of)
        log = cls(
            con=con,
            events=load_arrow(con, tables.events, "voronka_events"),
            deals=None if tables.deals is None else load_arrow(con, tables.deals, "voronka_deals"),
            events_rows=tables.events.num_rows,
            deals_rows=None if tables.deals is None else tables.deals.num_rows,
            as_of=tables.as_of,
            deal_keys=tables.keys,
        )
        log._cut = tables.cut
        if tables.deals is not None:
            log._deal_ids = id_counts(tables.deals)  # in Arrow: no query for what is at hand
        return log if funnel is None else log.with_funnel(funnel)

    def with_funnel(self, funnel: Funnel) -> EventLog:
        """A log whose events are mapped to ``funnel``'s stages, per-deal tables materialised.

        The distinct stage names (a few) are matched in Python with :meth:`Funnel.match`; the
        resulting name → stage-index table is joined on the backend.
        """
        log = EventLog(
            con=self._con,
            events=self._events,
            deals=self._deals,
            events_rows=self._events_rows,
            deals_rows=self._deals_rows,
            as_of=self._as_of,
            funnel=funnel,
            name_counts=self.stage_name_counts(),
            deal_keys=self._keys,
        )
        log._cut = self._cut
        log._deal_ids = self._deal_ids
        log._mapping = log_tables.stage_indices(funnel, log.stage_name_counts())
        log._mapping_table, log._stages, log._summary = log_tables.per_deal_tables(
            self._con, self._events, log._mapping, funnel, as_of=self._as_of,
            deals=log.unique_deals(),
        )
        if self._events_rows >= LARGE_LOG_ROWS:
            release_freed_memory()
        return log

    # -- what the log is ---------------------------------------------------------------------
    def narrowed(
        self,
        *,
        events: ir.Table,
        deals: ir.Table | None,
        events_rows: int,
        deals_rows: int | None,
        name_counts: dict[str, int],
        stages: ir.Table,
        summary: ir.Table,
        reached: ir.Table,
        created_window: tuple[dt.datetime | None, dt.datetime | None] = (None, None),
    ) -> EventLog:
        """A log over a subset of this log's deals whose per-deal tables (deal × stage, summary,
        ``reached_at``) are already cut from this log's (``voronka.engine.filtered``); the stage
        mapping is this log's, kept for the names the subset has; ``created_window``: the period
        of creation the subset was cut to (:attr:`created_window`)."""
        funnel = self._need_funnel()
        log = EventLog(
            con=self._con, events=events, deals=deals, events_rows=events_rows,
            deals_rows=deals_rows, as_of=self._as_of, funnel=funnel, name_counts=name_counts,
            deal_keys=self._keys,
        )
        log._mapping = {name: self._mapping[name] for name in name_counts if name in self._mapping}
        log._mapping_table = self._mapping_table
        log._stages, log._summary, log._reached = stages, summary, reached
        log._created = created_window
        return log

    @property
    def backend(self) -> BaseBackend:
        """The Ibis backend the log lives on."""
        return self._con

    @property
    def as_of(self) -> dt.datetime:
        """The moment the data describes: given to :meth:`build`, else the latest input time."""
        return self._as_of

    @property
    def created_window(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """``[from, until)``: the period of creation a filter kept the deals of (``(None,
        None)``: every deal). Deals outside it are left out by choice, so the weeks after
        ``until`` are not weeks without leads (:func:`voronka.engine.lead_volume`)."""
        return self._created

    @property
    def as_of_cut(self) -> AsOfCut | None:
        """What the cut at a given ``as_of`` set aside (None when ``as_of`` was not given)."""
        return self._cut

    @property
    def funnel(self) -> Funnel | None:
        """The funnel the stage names are mapped to (None before :meth:`with_funnel`)."""
        return self._funnel

    @property
    def stage_mapping(self) -> Mapping[str, int]:
        """Stage name in the data → stage index in the funnel (``LOST_INDEX`` for lost)."""
        return dict(self._mapping)

    def stage_name_counts(self) -> dict[str, int]:
        """Event rows per distinct stage name as written in the data (null names left out)."""
        if self._name_counts is None:
            self._name_counts = stage_names.name_counts(self._con, self._events)
        return dict(self._name_counts)

    def stage_name_stats(self) -> list[StageNameStats]:
        """Per distinct stage name: deals, mean relative position, terminal share (duplicates
        merged), for :func:`voronka.funnel.infer_funnel`. Most deals first."""
        return stage_names.name_stats(self._con, self._events)

    def deal_id_counts(self) -> tuple[int, int] | None:
        """Rows of the deals table and its distinct deal ids (a blank id counts as one id);
        None without a deals table. Counted in Arrow by :meth:`build`, else one query, kept."""
        if self._deals is None:
            return None
        if self._deal_ids is None:
            counts = self.frame(summary.deal_id_counts(self._deals)).iloc[0]
            self._deal_ids = (int(counts["rows"]), int(counts["ids"] or 0) + int(counts["blank"]))
        return self._deal_ids

    def unique_deals(self) -> ir.Table | None:
        """The deals table with one row per ``deal_id``, the first in file order (the table
        itself when no id repeats); None without a deals table. For engine modules."""
        counts = self.deal_id_counts()
        if self._deals is None or counts is None:
            return None
        rows, ids = counts
        return self._deals if rows == ids else summary.deduplicated_deals(self._deals)

    def deal_columns(self) -> list[str]:
        """Every attribute column of the deal summary (deals table first, then event rows)."""
        return segments.deal_columns(self.deal_summary())

    def segment_columns(self) -> list[str]:
        """Deal columns usable for ``--by``: text or yes/no columns with 1 to
        :data:`MAX_SEGMENT_VALUES` distinct values (not ids, status, lost reason, dates, amount)."""
        if self._segments is None:
            self._segments = segments.segment_columns(self._con, self.deal_summary())
        return list(self._segments)

    # -- per-deal tables, for engine modules ---------------------------------------------------
    def require_funnel(self) -> Funnel:
        """The log's funnel; raises :class:`RuntimeError` when it has none yet."""
        return self._need_funnel()

    def _need_funnel(self) -> Funnel:
        if self._funnel is None:
            raise RuntimeError("this needs a funnel: build the log with one or call with_funnel")
        return self._funnel

    def deal_summary(self) -> ir.Table:
        """The materialised per-deal summary (one row per deal of the population) as an Ibis
        table; columns in :func:`voronka.engine.summary.deal_summary`. For engine modules."""
        self._need_funnel()
        assert self._summary is not None
        return self._summary

    def matched_events(self) -> ir.Table:
        """Event rows with a known stage name, duplicates included (lazy Ibis table; columns in
        :func:`voronka.engine.summary.matched_events`). For engine modules."""
        self._need_funnel()
        assert self._mapping_table is not None
        return summary.matched_events(self._events, self._mapping_table)

    def usable_events(self) -> ir.Table:
        """The usable events: matched rows, duplicates merged (lazy Ibis table; columns in
        :func:`voronka.engine.summary.usable_events`). For engine modules."""
        self._need_funnel()
        assert self._mapping_table is not None
        return summary.usable_events(self._events, self._mapping_table)

    def deal_stages(self) -> ir.Table:
        """The materialised deal × stage table (first/last entry, ``left_at``, counters) as an Ibis
        table; columns in :func:`voronka.engine.summary.deal_stages`. For engine modules."""
        self._need_funnel()
        assert self._stages is not None
        return self._stages

    def reached_at(self) -> ir.Table:
        """Per deal × stage of the line it reached: ``deal_id``, ``stage_index``, ``reached_at``
        (earliest entry into that stage or any later one). Materialised on first use (the leaks,
        anomalies, maturity and forecast aggregates all read it), for engine modules."""
        funnel = self._need_funnel()
        if self._reached is None:
            spans = summary.reach_spans(funnel.won_index)
            span_table = load_arrow(
                self._con,
                pa.table({name: pa.array([s[i] for s in spans], pa.int64())
                          for i, name in enumerate(("lower", "top", "k"))}),
                "voronka_spans",
            )
            self._reached = materialize(
                self._con,
                summary.reached_at(self.deal_stages(), span_table, funnel.won_index),
                "voronka_reached_at",
            )
        return self._reached

    def materialized(self, key: str, build: Callable[[], ir.Table]) -> ir.Table:
        """The table ``build()`` makes, computed once per log and kept on the backend.

        For engine modules whose intermediate tables (e.g. stage transitions) several aggregates
        read: without it each aggregate would recompute the same joins over the deal tables.
        """
        if key not in self._memo:
            self._memo[key] = materialize(self._con, build(), f"voronka_{key}")
        return self._memo[key]

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()``'s result (a small aggregate, e.g. a cube), computed once per log and kept in
        memory: every section that derives its numbers from the same cube shares one query."""
        if key not in self._cubes:
            self._cubes[key] = build()
        return self._cubes[key]

    def segmented(self, by: str | None = None, period: str | None = None) -> ir.Table:
        """The deal summary with a ``segment`` column (the ``by`` column) and a ``period`` date
        column (Monday of the creation week, or the first day of its month), as asked."""
        return segments.segmented(self, by, period)

    # -- aggregates --------------------------------------------------------------------------
    def reach(self, by: str | None = None, period: str | None = None) -> pd.DataFrame:
        """Per [segment] × [period] × stage: ``stage_id``, ``stage_index``, ``reached`` (deals that
        entered the stage or a later one of the line), ``open_here`` / ``lost_here`` (open / lost
        deals whose latest non-lost event is in the stage). Every stage of the funnel, zeros kept."""
        key = ("reach", by, period)
        return self.cached(key, lambda: funnel_aggregates.reach(self, by=by, period=period)).copy()

    def outcomes(self, by: str | None = None, period: str | None = None) -> pd.DataFrame:
        """Per [segment] × [period]: ``deals``, ``won``, ``lost``, ``open``."""
        key = ("outcomes", by, period)
        return self.cached(key, lambda: funnel_aggregates.outcomes(self, by=by, period=period)).copy()

    def time_in_stage(self, by: str | None = None) -> pd.DataFrame:
        """Per [segment] × stage: ``stage_id``, ``stage_index``, ``n_left`` (deals that left the
        stage after their first entry), ``median_days``, ``p90_days`` (NaN when none left; always
        for the won stage)."""
        key = ("time_in_stage", by)
        return self.cached(key, lambda: funnel_aggregates.time_in_stage(self, by=by)).copy()

    def quality(self) -> QualityCounts:
        """Event rows excluded per reason and the data-quality issues, with bounded examples."""
        if self._quality is None:
            self._quality = compute_quality(self)
        return self._quality

    # -- for the aggregate modules -----------------------------------------------------------
    def frame(self, expr: ir.Table) -> pd.DataFrame:
        """A small aggregate ``expr`` on this log's backend as a pandas frame; a ``deal_id``
        column comes back as the deals' original text ids (:meth:`deal_id_texts`)."""
        frame = to_frame(self._con, expr)
        if self._keys is not None and "deal_id" in frame.columns:
            frame["deal_id"] = self._keys.texts(frame["deal_id"])
        return frame

    def deal_id_texts(self, values: Sequence[Any]) -> tuple[str, ...]:
        """The original text ids of ``deal_id`` values read from this log's tables (the
        integer keys of :mod:`voronka.engine.deal_keys`, or the texts themselves)."""
        if self._keys is None:
            return tuple(str(v) for v in values)
        return tuple(self._keys.text(v) for v in values)

    @property
    def events_table(self) -> ir.Table:
        """The raw events as loaded (for engine modules)."""
        return self._events

    @property
    def deals_table(self) -> ir.Table | None:
        """The raw deals table as loaded, or None (for engine modules)."""
        return self._deals

    @property
    def events_rows(self) -> int:
        """Rows of the events table given to :meth:`build`."""
        return self._events_rows

    @property
    def deals_rows(self) -> int | None:
        """Rows of the deals table given to :meth:`build` (None without one)."""
        return self._deals_rows
