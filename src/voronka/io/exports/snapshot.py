"""Events from a deal export: the current stage of each deal (a snapshot), and the stage history
where the export has one (HubSpot's ``Date entered "<stage>"`` columns).

**The snapshot rule.** A file export of amoCRM, Bitrix24 or Pipedrive has each deal's current stage
only. Each deal becomes one event: its current stage, entered at

* the last stage change, when the export has that column (Pipedrive ``Last stage change``,
  HubSpot ``Date entered current stage``);
* else, for a deal whose stage is its outcome (won or lost in amoCRM, Bitrix24, HubSpot), its close
  date;
* else its creation date.

In Pipedrive won and lost are a status beside the stage, so a closed deal gets a second event, the
outcome (``Won`` / ``Lost``), at its won or lost time. The engine then counts an open or won deal as
having reached every stage up to its current one (a won deal reached them all), and a lost deal of
amoCRM, Bitrix24 or HubSpot, whose stage the CRM replaced by the lost status, as lost but in no
stage's reach: it is counted apart. The notes of :mod:`voronka.io.inputs` say so in the report.

**History.** A HubSpot export with ``Date entered "<stage> (<pipeline>)"`` columns (or the internal
``hs_v2_date_entered_<stage id>`` / ``hs_date_entered_<stage id>``) gives one event per filled
cell: real stage history. A deal whose current stage has no such cell also gets its snapshot event.

The events are a :class:`~voronka.io.ReadResult` named ``<export>#events``: one candidate event per
deal (or per filled history cell), ``rows_read == table.num_rows + rejects.num_rows``; a candidate
without a stage or a date is rejected (``missing_value``), a history cell that is not a date too
(``bad_date``). ``_row`` is the deal's row in the export. The column ``approximate`` is false here
(the snapshot's limits are stated by notes); events between snapshots are approximate
(:mod:`voronka.io.snapshots`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from voronka.errors import InputError, Msg
from voronka.funnel import normalize_stage_name
from voronka.io.dates import parse_dates
from voronka.io.exports.convert import ExportDeals
from voronka.io.exports.outcomes import OUTCOME_STAGES
from voronka.io.numbers import as_chunked, blank_mask
from voronka.io.readers import MESSAGES
from voronka.io.result import REJECTS_SCHEMA, RawTable, ReadResult, derived_events_name

EVENTS_SCHEMA = pa.schema([
    ("deal_id", pa.string()),
    ("stage", pa.string()),
    ("entered_at", pa.timestamp("us")),
    ("approximate", pa.bool_()),
    ("_row", pa.int64()),
])
"""Columns of the events made from exports."""

_DATE_ENTERED = re.compile(
    r"^\s*date\s+entered\s+[\"“'«](?P<inner>.+?)[\"”'»]\s*(?:\((?P<pipeline>[^()]*)\))?\s*$",
    re.IGNORECASE,
)
_HS_INTERNAL = re.compile(r"^\s*hs_(?:v2_)?date_entered_(?P<stage>[A-Za-z0-9_-]+)\s*$")
_TRAILING_PIPELINE = re.compile(r"^(?P<stage>.*\S)\s*\((?P<pipeline>[^()]*)\)$")


@dataclass(frozen=True)
class HistoryColumn:
    """A column of an export that dates entries into one stage.

    Attributes:
        header: the header as written.
        stage: the stage name (or HubSpot stage id) it dates.
        pipeline: the pipeline named in the header, when one is.
    """

    header: str
    stage: str
    pipeline: str | None = None


def history_columns(headers: Sequence[str]) -> tuple[HistoryColumn, ...]:
    """The stage-entry date columns among ``headers``: ``Date entered "Stage (Pipeline)"``,
    ``Date entered "Stage" (Pipeline)``, ``hs_v2_date_entered_<id>``, ``hs_date_entered_<id>``."""
    found: list[HistoryColumn] = []
    for header in headers:
        m = _DATE_ENTERED.match(header)
        if m:
            inner, pipeline = m.group("inner").strip(), m.group("pipeline")
            if pipeline is None:
                tail = _TRAILING_PIPELINE.match(inner)
                if tail:
                    inner, pipeline = tail.group("stage"), tail.group("pipeline")
            found.append(HistoryColumn(header, inner, pipeline.strip() if pipeline else None))
            continue
        m = _HS_INTERNAL.match(header)
        if m and m.group("stage") != "current_stage":
            found.append(HistoryColumn(header, m.group("stage")))
    return tuple(found)


def snapshot_dates(deals: ExportDeals) -> tuple[pa.ChunkedArray, str | None]:
    """When each deal entered its current stage by the snapshot rule (module docstring), and the
    header of the date column mostly used (for messages)."""
    table = deals.read.table
    created = table.column("created_at")
    closed = table.column("closed_at")
    status = table.column("status")
    profile = deals.format.profile
    candidates: list[pa.ChunkedArray] = []
    if deals.stage_changed_at is not None:
        candidates.append(deals.stage_changed_at)
    if profile.status_from_stage:
        is_closed = pc.is_in(status, value_set=pa.array(["won", "lost"]))
        candidates.append(as_chunked(pc.if_else(is_closed, closed, pa.scalar(None, closed.type))))
    candidates.append(created)
    when = as_chunked(pc.coalesce(*candidates))
    mapping = deals.format.mapping
    header = mapping.get("stage_changed_at") or mapping.get("created_at") or mapping.get(
        "closed_at")
    return when, header


def export_events(deals: ExportDeals, raw: RawTable) -> ReadResult:
    """The events of an export read as ``deals`` (``raw``: the file as read), see the module
    docstring.

    Raises:
        InputError: the export has no column that dates anything (created, closed, stage change)
            and no history columns.
    """
    fmt = deals.format
    history = history_columns(raw.headers)
    dated = any(k in fmt.mapping for k in ("created_at", "closed_at", "stage_changed_at"))
    if not dated and not history:
        raise InputError(
            Msg("errors.raised.the_export_has_no_date_column"),
            file=raw.file,
            expected=Msg("errors.expected.the_export_with_its_creation_date"),
        )
    table = deals.read.table
    ids = table.column("deal_id").to_pandas()
    rows = table.column("_row").to_numpy()
    stage = deals.stage.to_pandas()
    when, date_header = snapshot_dates(deals)
    parts: list[pd.DataFrame] = []
    rejects: list[pa.Table] = []

    hist = _history_events(raw, history, table)
    if hist is not None:
        events, bad = hist
        parts.append(events)
        rejects.append(bad)
        keyed = stage.map({s: normalize_stage_name(s) for s in stage.dropna().unique()})
        have = set(zip(events["deal_id"], events["stage"].map(normalize_stage_name), strict=True))
        need = np.array([(d, k) not in have for d, k in zip(ids, keyed, strict=True)], bool)
    else:
        need = np.ones(len(ids), bool)

    snap = pd.DataFrame({
        "deal_id": ids, "stage": stage, "entered_at": when.to_pandas(), "approximate": False,
        "_row": rows,
    })[need]
    ok = snap["stage"].notna() & snap["entered_at"].notna()
    bad_snap = snap[~ok]
    rejects.append(_missing(bad_snap, fmt.mapping["stage"], date_header or fmt.mapping["stage"]))
    parts.append(snap[ok])

    outcome = OUTCOME_STAGES.get(fmt.crm)
    if outcome is not None:
        status = table.column("status").to_pandas()[need][ok.to_numpy()]
        closed = table.column("closed_at").to_pandas()[need][ok.to_numpy()]
        base = snap[ok]
        for word, label in zip(("won", "lost"), outcome, strict=True):
            sel = (status == word).to_numpy()
            extra = base[sel].copy()
            extra["stage"] = label
            at = closed[sel].to_numpy()
            extra["entered_at"] = np.where(pd.isna(at), extra["entered_at"].to_numpy(), at)
            parts.append(extra)

    frame = pd.concat(parts, ignore_index=True).sort_values(["_row", "entered_at"], kind="stable")
    accepted = _to_table(frame)
    rejected = pa.concat_tables([r for r in rejects if r.num_rows] or [REJECTS_SCHEMA.empty_table()])
    mapping = {"deal_id": fmt.mapping["deal_id"], "stage": fmt.mapping["stage"]}
    if date_header:
        mapping["entered_at"] = date_header
    return ReadResult(
        file=derived_events_name(raw.file),
        table=accepted,
        rows_read=accepted.num_rows + rejected.num_rows,
        rejects=rejected.sort_by("row"),
        column_mapping=mapping,
        format=raw.format,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
    )


def _history_events(
    raw: RawTable, history: Sequence[HistoryColumn], deals: pa.Table
) -> tuple[pd.DataFrame, pa.Table] | None:
    """Events from the history columns of the accepted deals, and the bad-date rejects."""
    if not history:
        return None
    accepted_rows = deals.column("_row").to_numpy()
    position = pd.Index(raw.table.column("_row").to_numpy()).get_indexer(accepted_rows)
    ids = deals.column("deal_id").to_pandas().to_numpy()
    frames = []
    bad_parts = []
    for col in history:
        cells = raw.table.column(col.header).take(pa.array(position))
        parsed = parse_dates(cells).to_pandas()
        blank = np.asarray(blank_mask(cells).to_numpy(zero_copy_only=False), bool)
        good = parsed.notna().to_numpy()
        frames.append(pd.DataFrame({
            "deal_id": ids[good], "stage": col.stage, "entered_at": parsed[good].to_numpy(),
            "approximate": False, "_row": accepted_rows[good],
        }))
        bad = ~good & ~blank
        if bad.any():
            k = int(bad.sum())
            bad_parts.append(pa.table({
                "row": pa.array(accepted_rows[bad], pa.int64()),
                "column": pa.array([col.header] * k, pa.string()),
                "reason": pa.array(["bad_date"] * k, pa.string()),
                "value": cells.filter(pa.array(bad)).cast(pa.string()),
                "message": pa.array([MESSAGES["bad_date"]] * k, pa.string()),
            }, schema=REJECTS_SCHEMA))
    events = pd.concat(frames, ignore_index=True)
    bad_table = pa.concat_tables(bad_parts) if bad_parts else REJECTS_SCHEMA.empty_table()
    return events, bad_table


def _missing(frame: pd.DataFrame, stage_header: str, date_header: str) -> pa.Table:
    """``missing_value`` rejects for snapshot events without a stage or a date."""
    if frame.empty:
        return REJECTS_SCHEMA.empty_table()
    no_stage = frame["stage"].isna().to_numpy()
    return pa.table({
        "row": pa.array(frame["_row"].to_numpy(), pa.int64()),
        "column": pa.array(np.where(no_stage, stage_header, date_header).tolist(), pa.string()),
        "reason": pa.array(["missing_value"] * len(frame), pa.string()),
        "value": pa.nulls(len(frame), pa.string()),
        "message": pa.array([MESSAGES["missing_value"]] * len(frame), pa.string()),
    }, schema=REJECTS_SCHEMA)


def _to_table(frame: pd.DataFrame) -> pa.Table:
    return pa.table({
        "deal_id": pa.array(frame["deal_id"].to_numpy(dtype=object), pa.string()),
        "stage": pa.array(frame["stage"].to_numpy(dtype=object), pa.string()),
        "entered_at": pa.array(pd.to_datetime(frame["entered_at"]).to_numpy(
            dtype="datetime64[us]"), pa.timestamp("us")),
        "approximate": pa.array(frame["approximate"].to_numpy(dtype=bool), pa.bool_()),
        "_row": pa.array(frame["_row"].to_numpy(dtype=np.int64), pa.int64()),
    }, schema=EVENTS_SCHEMA)
