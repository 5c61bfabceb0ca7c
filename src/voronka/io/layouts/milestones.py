"""One table per milestone: several tables of the same deals, each dating one step.

Olist's marketing funnel is the example: a leads table (``mql_id``, ``first_contact_date``, the
lead's origin) and a closed-deals table (``mql_id``, ``won_date``, the seller's segment …). Each
table has one row per deal and at least one date column; their deal ids overlap (the later
milestone's deals are, mostly, among the earlier one's). They are joined on the deal id, the
table with the most deals first, and the joined table is read as the wide layout
(:mod:`voronka.io.layouts.deal_rows`): each date column a stage named after its header, in the
order of the tables (``First contact`` → ``Won``).

The deal attributes (source, manager, amount …) are taken from the first table that has them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from voronka.errors import InputError, Msg
from voronka.io.layouts.deal_rows import DealRowsEvents, date_columns, deal_rows_events
from voronka.io.result import ReadResult

MIN_OVERLAP = 0.5
"""Share of a later table's deal ids that must be in the first table for them to be milestones
of the same deals."""

CANONICAL = ("created_at", "closed_at", "amount", "status", "source", "manager", "lost_reason",
             "campaign")


@dataclass(frozen=True)
class Milestones:
    """Tables of milestones joined into events and deals.

    Attributes:
        events: the events (``<first> + <second> …#events``).
        deals: one row per deal with the attributes of every table.
        tables: the tables' own reads, largest first (their rejects, for the row accounting).
        layout: how the events were made (date columns → stages).
    """

    events: ReadResult
    deals: ReadResult
    tables: tuple[ReadResult, ...]
    layout: DealRowsEvents


def are_milestones(reads: Sequence[ReadResult]) -> bool:
    """Whether ``reads`` look like one table per milestone: at least two, each one row per deal
    with a date column, the later tables' ids mostly in the largest one."""
    if len(reads) < 2:
        return False
    ordered = sorted(reads, key=lambda r: -r.table.num_rows)
    first = pc.unique(ordered[0].table.column("deal_id"))
    for read in ordered:
        ids = pc.drop_null(read.table.column("deal_id"))
        if not len(ids) or len(pc.unique(ids)) != len(ids) or not date_columns(read):
            return False
    for read in ordered[1:]:
        ids = read.table.column("deal_id")
        inside = pc.sum(pc.is_in(ids, value_set=first)).as_py() or 0
        if inside < MIN_OVERLAP * len(ids):
            return False
    return True


def join_milestones(reads: Sequence[ReadResult]) -> Milestones:
    """Join the milestone tables ``reads`` into events and deals (module docstring).

    Raises:
        InputError: the tables are not milestones of the same deals (:func:`are_milestones`).
    """
    if not are_milestones(reads):
        raise InputError(
            Msg("errors.raised.the_tables_are_not_milestones_of"),
            file=", ".join(r.file for r in reads),
            expected=Msg("errors.expected.tables_with_one_row_per_deal"),
        )
    ordered = sorted(reads, key=lambda r: -r.table.num_rows)
    merged: pd.DataFrame | None = None
    dates_order: list[str] = []
    mapping: dict[str, str] = {"deal_id": ordered[0].column_mapping.get("deal_id", "deal_id")}
    for read in ordered:
        frame = read.table.to_pandas(types_mapper=None)
        frame["deal_id"] = frame["deal_id"].astype(object)
        dates = date_columns(read)
        renames: dict[str, str] = {}
        for header in dates:
            canonical = next((k for k, v in read.column_mapping.items() if v == header), None)
            source = canonical if canonical is not None and canonical in frame.columns else header
            renames[source] = f"@date:{header}"
            dates_order.append(header)
        frame = frame.rename(columns=renames)
        for header in dates:
            frame[f"@date:{header}"] = dates[header].to_pandas().astype("datetime64[us]")
        frame = frame.rename(columns={"_row": f"_row@{read.file}"})
        if merged is None:
            merged = frame
            for k, v in read.column_mapping.items():
                if k in CANONICAL and k in frame.columns:
                    mapping[k] = v
            continue
        take = [c for c in frame.columns
                if c == "deal_id" or c.startswith(("@date:", "_row@")) or c not in merged.columns]
        for k, v in read.column_mapping.items():
            if k in CANONICAL and k in frame.columns and k not in merged.columns:
                mapping[k] = v
        merged = merged.merge(frame[take], on="deal_id", how="outer")
    assert merged is not None
    rows = merged[f"_row@{ordered[0].file}"]
    offset = int(rows.max()) if rows.notna().any() else 0
    extra = rows.isna()
    merged["_row"] = rows.fillna(pd.Series(range(offset + 1, offset + 1 + int(extra.sum())),
                                           index=merged.index[extra])).astype("int64")
    merged = merged.drop(columns=[c for c in merged.columns if c.startswith("_row@")])
    date_cols = {h: pa.chunked_array([pa.array(merged[f"@date:{h}"].to_numpy(
        dtype="datetime64[us]"), pa.timestamp("us"))]) for h in dates_order}
    attrs = merged.drop(columns=[f"@date:{h}" for h in dates_order])
    table = pa.Table.from_pandas(attrs, preserve_index=False)
    name = " + ".join(r.file for r in ordered)
    deals = ReadResult(file=name, table=table, rows_read=table.num_rows,
                       column_mapping=mapping, format=ordered[0].format)
    layout = deal_rows_events(deals, stage=None, status="status" if "status" in mapping else None,
                              dates=date_cols)
    return Milestones(events=layout.events, deals=deals, tables=tuple(ordered), layout=layout)
