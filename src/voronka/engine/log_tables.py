"""The tables an :class:`~voronka.engine.log.EventLog` is made of: the canonical Arrow tables of
the inputs, cut at an explicit ``as_of`` and keyed by integers (:mod:`voronka.engine.deal_keys`),
before they are loaded; and, once a funnel maps the stage names, the per-deal tables materialised
on the backend (deal × stage, and the deal summary: :mod:`voronka.engine.summary`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from ibis.backends import BaseBackend

from voronka.engine import summary
from voronka.engine.asof import AsOfCut, cut_at
from voronka.engine.backend import latest_timestamp, load_arrow, materialize
from voronka.engine.deal_keys import DealKeys, encode
from voronka.engine.tables import canonical_table
from voronka.funnel import LOST, Funnel

EVENT_BASE = ("deal_id", "stage", "entered_at", "_row")
"""The event columns every log has; the others are deal attributes carried by the events."""


@dataclass(frozen=True)
class ArrowTables:
    """The inputs of a log as Arrow, ready to load: ``deal_id`` as integer keys (``keys`` gives
    the texts back), rows after an explicit ``as_of`` set aside (``cut``)."""

    events: pa.Table
    deals: pa.Table | None
    as_of: dt.datetime
    cut: AsOfCut | None
    keys: DealKeys


def arrow_tables(
    events: pa.Table | pd.DataFrame,
    deals: pa.Table | pd.DataFrame | None,
    as_of: dt.datetime | None,
) -> ArrowTables:
    """The canonical tables of ``events`` and ``deals``, cut at ``as_of`` when it is given (else
    ``as_of`` is the latest timestamp in them), with integer deal keys."""
    events_arrow = canonical_table(events, ("deal_id", "stage", "entered_at"), "events")
    deals_arrow = None if deals is None else canonical_table(deals, ("deal_id",), "deals")
    cut: AsOfCut | None = None
    if as_of is None:
        as_of = latest_timestamp(events_arrow, deals_arrow) or dt.datetime(1970, 1, 1)
    else:
        if isinstance(as_of, pd.Timestamp):
            as_of = as_of.to_pydatetime()
        events_arrow, deals_arrow, cut = cut_at(events_arrow, deals_arrow, as_of)
    events_arrow, deals_arrow, keys = encode(events_arrow, deals_arrow)
    return ArrowTables(events_arrow, deals_arrow, as_of, cut, keys)


def stage_indices(funnel: Funnel, names: Mapping[str, int] | list[str]) -> dict[str, int]:
    """The stage index of each stage name the funnel knows (:data:`summary.LOST_INDEX` for a lost
    outcome), matched in Python with :meth:`Funnel.match` (the names are a few)."""
    index_of = {stage_id: i for i, stage_id in enumerate(funnel.stage_ids)}
    mapping: dict[str, int] = {}
    for name in names:
        matched = funnel.match(name)
        if matched == LOST:
            mapping[name] = summary.LOST_INDEX
        elif matched is not None:
            mapping[name] = index_of[matched]
    return mapping


def per_deal_tables(
    con: BaseBackend,
    events: ir.Table,
    mapping: Mapping[str, int],
    funnel: Funnel,
    *,
    as_of: dt.datetime,
    deals: ir.Table | None,
) -> tuple[ir.Table, ir.Table, ir.Table]:
    """The stage map loaded on ``con`` (name → stage index, joined on the backend), and the two
    per-deal tables materialised there: deal × stage (``voronka_deal_stages``) and the deal
    summary (``voronka_deal_summary``; ``deals``: the deals table, one row per id)."""
    table = pa.table(
        {
            "stage": pa.array(list(mapping), pa.string()),
            "stage_index": pa.array(list(mapping.values()), pa.int64()),
        }
    )
    mapping_table = load_arrow(con, table, "voronka_stage_map")
    matched = summary.matched_events(events, mapping_table)
    stages = materialize(con, summary.deal_stages(matched, funnel.won_index),
                         "voronka_deal_stages")
    event_columns = [c for c in events.columns if c not in EVENT_BASE]
    per_deal = summary.deal_summary(
        stages,
        won_index=funnel.won_index,
        as_of=as_of,
        deals=deals,
        event_attrs=summary.event_attributes(events, event_columns),
    )
    return mapping_table, stages, materialize(con, per_deal, "voronka_deal_summary")
