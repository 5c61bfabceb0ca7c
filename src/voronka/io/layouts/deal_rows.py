"""A table with one row per deal turned into events: the snapshot shape, stage-dated columns, the
wide layout.

**Events of a deal row** (:mod:`voronka.io.layouts.columns` says which column dates what):

1. each column dating a stage gives an event of that stage at its date (``engage_date`` →
   ``Engaging``; in the wide layout every such column);
2. a closed deal (its current stage reads as won or lost, or its status says so) gets an event
   of its outcome stage at the closing date;
3. the deal's current stage, when no column above dated it, gets an event by the snapshot rule of
   CRM exports: at the closing date for an outcome, else at the date the file gives for the row
   (``entered_at``), else the creation date, else the latest of the deal's stage dates.

A row that yields no dated event is rejected (``missing_value``). The result's
``rows_read == table.num_rows + rejects.num_rows`` counts candidate events, as for exports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from voronka.io.dates import parse_dates
from voronka.io.layouts.columns import DateColumn, classify, describe_mapping, looks_dated
from voronka.io.readers import MESSAGES
from voronka.io.result import REJECTS_SCHEMA, ReadResult, derived_events_name
from voronka.io.status import status_of

EVENTS_SCHEMA = pa.schema([
    ("deal_id", pa.string()),
    ("stage", pa.string()),
    ("entered_at", pa.timestamp("us")),
    ("_row", pa.int64()),
])

MIN_DATE_SHARE = 0.8
"""Share of a text column's non-empty cells that must read as dates for it to be a date column."""


@dataclass(frozen=True)
class DealRowsEvents:
    """Events made from a one-row-per-deal table.

    Attributes:
        events: the events, a read named ``<file>#events``.
        columns: what each date column was taken to date.
        mapping: the mapping in words (``Engaging ← engage_date; Won, Lost ← close_date``).
        stage_dated: whether any column dated a stage (else: a plain snapshot).
    """

    events: ReadResult
    columns: tuple[DateColumn, ...]
    mapping: str
    stage_dated: bool


def one_row_per_deal(ids: pa.ChunkedArray | pa.Array, *, min_rows: int = 2) -> bool:
    """Whether every deal id occurs once (the snapshot shape), on at least ``min_rows`` rows."""
    filled = pc.drop_null(ids)
    return len(filled) >= min_rows and len(pc.unique(filled)) == len(filled)


def date_columns(read: ReadResult) -> dict[str, pa.ChunkedArray]:
    """The read's date columns by header as written: the canonical ones the reader parsed
    (``entered_at``, ``created_at``, ``closed_at``) and extra text columns whose header says
    *date* and whose cells read as dates."""
    table = read.table
    out: dict[str, pa.ChunkedArray] = {}
    for canonical in ("entered_at", "created_at", "closed_at"):
        if canonical in table.column_names and canonical in read.column_mapping:
            out[read.column_mapping[canonical]] = table.column(canonical)
    known = set(read.column_mapping.values())
    for name in table.column_names:
        if name.startswith("_") or name in read.column_mapping or name in known:
            continue
        col = table.column(name)
        if not pa.types.is_string(col.type) or not looks_dated(name):
            continue
        parsed = parse_dates(col)
        filled = len(col) - col.null_count
        if filled and (len(parsed) - parsed.null_count) >= MIN_DATE_SHARE * filled:
            out[name] = parsed
    return out


def deal_rows_events(
    read: ReadResult,
    *,
    stage: str | None,
    status: str | None = None,
    file_date: str | None = None,
    dates: Mapping[str, pa.ChunkedArray] | None = None,
) -> DealRowsEvents:
    """Events from ``read`` (one row per deal), see the module docstring.

    Args:
        read: the table as read (deals or events reader): ``deal_id``, ``_row`` and its columns.
        stage: the column of ``read.table`` holding each deal's current stage, or None (wide).
        status: the column holding ``won``/``lost``/``open``, if any.
        file_date: the header of the date the file gives for a row's current stage
            (``entered_at`` of an events file), if any.
        dates: the date columns by header (default: :func:`date_columns` of ``read``).
    """
    table = read.table
    dates = dict(dates) if dates is not None else date_columns(read)
    stages = None
    if stage is not None:
        stages = [str(s) for s in pc.unique(table.column(stage)).to_pylist() if s]
    mapping = read.column_mapping
    columns = classify(list(dates), stages, closed=mapping.get("closed_at"),
                       created=mapping.get("created_at"))
    ids = pd.Series(table.column("deal_id").to_numpy(zero_copy_only=False), dtype=object)
    rows = table.column("_row").to_numpy()
    n = len(ids)
    frame: dict[str, pd.Series] = {h: dates[h].to_pandas() for h in dates}
    current = (pd.Series(table.column(stage).to_numpy(zero_copy_only=False), dtype=object)
               if stage is not None else pd.Series([None] * n, dtype=object))
    outcome = current.map(lambda s: _outcome(s) if isinstance(s, str) else None)
    if status is not None and status in table.column_names:
        given = pd.Series(table.column(status).to_numpy(zero_copy_only=False), dtype=object)
        outcome = outcome.where(outcome.notna(), given.where(given.isin(["won", "lost"])))
    parts: list[pd.DataFrame] = []
    dated = np.zeros(n, bool)  # the current stage already has its event
    latest = pd.Series(pd.NaT, index=range(n), dtype="datetime64[us]")
    for c in columns:
        if c.role != "stage":
            continue
        when = frame[c.header].astype("datetime64[us]")
        ok = when.notna().to_numpy()
        parts.append(pd.DataFrame({"deal_id": ids[ok], "stage": c.stage, "entered_at": when[ok],
                                   "_row": rows[ok]}))
        dated |= ok & (current == c.stage).to_numpy()
        latest = latest.where(latest.notna() & (latest >= when), when)
    closed_col = next((c.header for c in columns if c.role == "closed"), None)
    created_col = next((c.header for c in columns if c.role == "created"), None)
    outcome_names: list[str] = []
    if closed_col is not None:
        closed_at = frame[closed_col].astype("datetime64[us]")
        name = current.where(outcome.notna() & current.notna(),
                             outcome.map({"won": "Won", "lost": "Lost"}))
        ok = (outcome.notna() & closed_at.notna() & name.notna()).to_numpy()
        parts.append(pd.DataFrame({"deal_id": ids[ok], "stage": name[ok],
                                   "entered_at": closed_at[ok], "_row": rows[ok]}))
        dated |= ok
        outcome_names = sorted({str(x) for x in name[ok].unique()})
    else:
        closed_at = pd.Series(pd.NaT, index=range(n), dtype="datetime64[us]")
    # The current stage of rows no column dated: the snapshot rule.
    fallback = pd.Series(pd.NaT, index=range(n), dtype="datetime64[us]")
    stage_headers = {c.header for c in columns if c.role == "stage"}
    candidates = []
    if file_date is not None and file_date in frame and file_date not in stage_headers:
        candidates.append(frame[file_date].astype("datetime64[us]"))
    if created_col is not None:
        candidates.append(frame[created_col].astype("datetime64[us]"))
    candidates.append(latest)
    for cand in candidates:
        fallback = fallback.where(fallback.notna(), cand)
    need = current.notna().to_numpy() & ~dated
    ok = need & fallback.notna().to_numpy()
    parts.append(pd.DataFrame({"deal_id": ids[ok], "stage": current[ok],
                               "entered_at": fallback[ok], "_row": rows[ok]}))
    events = pd.concat([p for p in parts if not p.empty] or [pd.DataFrame(
        columns=EVENTS_SCHEMA.names)], ignore_index=True)
    has_event = np.zeros(n, bool)
    if not events.empty:
        has_event = pd.Series(rows).isin(events["_row"]).to_numpy()
    missing = ~has_event | (need & ~ok)
    events = events.sort_values(["_row", "entered_at"], kind="stable")
    accepted = pa.table({
        "deal_id": pa.array(events["deal_id"].to_numpy(dtype=object), pa.string()),
        "stage": pa.array(events["stage"].astype(object).to_numpy(), pa.string()),
        "entered_at": pa.array(pd.to_datetime(events["entered_at"]).to_numpy(
            dtype="datetime64[us]"), pa.timestamp("us")),
        "_row": pa.array(events["_row"].to_numpy(dtype=np.int64), pa.int64()),
    }, schema=EVENTS_SCHEMA)
    column = stage or next(iter(dates), "deal_id")
    date_header = closed_col or created_col or file_date or next(iter(stage_headers), column)
    k = int(missing.sum())
    rejects = pa.concat_tables([read.rejects, pa.table({
        "row": pa.array(rows[missing], pa.int64()),
        "column": pa.array([date_header] * k, pa.string()),
        "reason": pa.array(["missing_value"] * k, pa.string()),
        "value": pa.nulls(k, pa.string()),
        "message": pa.array([MESSAGES["missing_value"]] * k, pa.string()),
    }, schema=REJECTS_SCHEMA)]).sort_by("row")
    shown_mapping = {"deal_id": mapping.get("deal_id", "deal_id")}
    if stage is not None:
        shown_mapping["stage"] = mapping.get("stage", stage)
    totals = None
    if read.reject_totals is not None:  # the reader kept only some of its rejects
        totals = dict(read.reject_totals)
        totals["missing_value"] = totals.get("missing_value", 0) + k
    result = ReadResult(
        file=derived_events_name(read.file),
        table=accepted,
        rows_read=accepted.num_rows + read.rows_rejected + k,
        rejects=rejects,
        reject_totals=totals,
        column_mapping=shown_mapping,
        format=read.format,
        encoding=read.encoding,
        delimiter=read.delimiter,
    )
    return DealRowsEvents(
        events=result,
        columns=columns,
        mapping=describe_mapping(columns, outcome_names),
        stage_dated=bool(stage_headers),
    )


def _outcome(stage: str) -> str | None:
    found = status_of(stage)
    return found if found in ("won", "lost") else None


def deals_of(read: ReadResult, drop: Sequence[str] = ("stage", "entered_at")) -> ReadResult:
    """The deal columns of a one-row-per-deal read (for the engine's deals table)."""
    keep = [c for c in read.table.column_names if c not in drop]
    return dataclasses.replace(
        read, table=read.table.select(keep),
        column_mapping={k: v for k, v in read.column_mapping.items() if k not in drop},
    )


def rename_stage_column(mapping: Mapping[str, str], headers: Sequence[str]) -> str | None:
    """The header among ``headers`` that the stage aliases (or ``--map stage=``) name."""
    from voronka.io.aliases import COLUMN_ALIASES, normalize_header

    if "stage" in mapping and mapping["stage"] in headers:
        return mapping["stage"]
    normalized = {normalize_header(h): h for h in headers}
    for alias in COLUMN_ALIASES["stage"]:
        if normalize_header(alias) in normalized:
            return normalized[normalize_header(alias)]
    return None
