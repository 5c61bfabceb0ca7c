"""A series of snapshots: several exports of the same CRM taken on different dates, turned into a
stage history.

**The date of a snapshot** is read from its file name — ``2025-02-01``, ``2025_02_01``,
``20250201`` or ``01.02.2025`` anywhere in it (the last such date when there are several), taken as
the end of that day (23:59:59: the export may have been made at any time of it) — else it is the
file's modification time (which copying a file may change: name your exports by date).

**Events.** The snapshots are taken in date order. A deal's first appearance gives the events of
the snapshot rule (:mod:`voronka.io.exports.snapshot`: its current stage at its last stage change,
close or creation date; ``approximate`` false). Then, between consecutive snapshots, a deal whose
stage changed gets an event of its new stage dated at the later snapshot, with ``approximate`` true:
it entered the stage at some moment between the two exports. When the later export itself dates
the change inside that interval (Pipedrive's ``Last stage change``; the close date of a deal that
moved to a won or lost stage) that date is used and the event is exact. In Pipedrive, where won and
lost are a status, a status change to won or lost gives a ``Won`` / ``Lost`` event the same way.
A deal missing from a later snapshot keeps its last known stage; a deal whose stage is empty in a
snapshot is taken as unchanged.

The deals are the latest snapshot's rows (the current attributes of each deal); deals no longer in
it keep their events and are reported by the engine as events without a deal. Every earlier
snapshot is a read of its own in :attr:`SnapshotSeries.earlier`, so the data-quality section
accounts for all its rows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from voronka.errors import Msg, UsageError
from voronka.funnel import Funnel, normalize_stage_name
from voronka.io.exports import OUTCOME_STAGES, ExportRead, fitting_funnel, read_export
from voronka.io.exports.profiles import ExportFormat
from voronka.io.exports.snapshot import EVENTS_SCHEMA
from voronka.io.result import (
    REJECTS_SCHEMA,
    Progress,
    RawTable,
    ReadResult,
    derived_events_name,
)

DateSource = Literal["name", "mtime"]

_ISO = re.compile(r"(?<!\d)(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)")
_DMY = re.compile(r"(?<!\d)(\d{2})[-_.](\d{2})[-_.](\d{4})(?!\d)")


@dataclass(frozen=True)
class Snapshot:
    """One export of the series.

    Attributes:
        path: the file.
        taken_at: when the export was taken (the end of the day named in the file name, else the
            file's modification time).
        date_source: ``"name"`` or ``"mtime"``.
        export: the export as read.
    """

    path: Path
    taken_at: datetime
    date_source: DateSource
    export: ExportRead


@dataclass(frozen=True)
class SnapshotSeries:
    """Exports of one CRM on different dates, as one stage history.

    Attributes:
        snapshots: the snapshots in date order.
        events: the events (``approximate`` true for stage changes dated by a snapshot).
        deals: the latest snapshot's deals.
        earlier: the reads of the earlier snapshots (for the row accounting).
        crm: the CRM.
        funnel: the CRM's default pipeline when it recognises the stage names, else None.
        changes: the number of events made from changes between snapshots.
        approximate: how many of them are dated by a snapshot (approximate).
    """

    snapshots: tuple[Snapshot, ...]
    events: ReadResult
    deals: ReadResult
    earlier: tuple[ReadResult, ...]
    crm: str
    funnel: Funnel | None
    changes: int
    approximate: int

    @property
    def dates_from_mtime(self) -> bool:
        """Whether any snapshot was dated by its file's modification time."""
        return any(s.date_source == "mtime" for s in self.snapshots)


def snapshot_date(path: str | os.PathLike[str]) -> tuple[datetime, DateSource]:
    """When the export ``path`` was taken: the date in its name, else its modification time."""
    name = Path(path).name
    found: list[datetime] = []
    for m in _ISO.finditer(name):
        found.extend(_date(int(m[1]), int(m[2]), int(m[3])))
    for m in _DMY.finditer(name):
        found.extend(_date(int(m[3]), int(m[2]), int(m[1])))
    if found:
        return max(found), "name"
    return datetime.fromtimestamp(Path(path).stat().st_mtime).replace(microsecond=0), "mtime"


def _date(year: int, month: int, day: int) -> list[datetime]:
    try:
        return [datetime(year, month, day, 23, 59, 59)] if 1990 <= year <= 2100 else []
    except ValueError:
        return []


def read_snapshots(
    paths: Sequence[str | os.PathLike[str]],
    *,
    column_map: Mapping[str, str] | None = None,
    strict: bool = False,
    progress: Callable[[str], Progress | None] | None = None,
    loaded: Mapping[str, tuple[RawTable, ExportFormat | None]] | None = None,
) -> SnapshotSeries:
    """Read exports of one CRM taken on different dates into one history (module docstring).

    Args:
        paths: the exports, in any order.
        column_map: ``--map`` entries for every export.
        strict: stop at the first bad row.
        progress: gives the byte-progress callback of a file.
        loaded: files already read (path → :func:`voronka.io.exports.load_export`).

    Raises:
        UsageError: the files are exports of different CRMs, or two have the same date.
        InputError: a file is not an export or cannot be used.
    """
    snaps = []
    for path in paths:
        export = read_export(
            path, column_map=column_map, strict=strict,
            progress=progress(str(path)) if progress else None,
            loaded=(loaded or {}).get(str(path)),
        )
        taken_at, source = snapshot_date(path)
        snaps.append(Snapshot(Path(path), taken_at, source, export))
    crms = sorted({s.export.crm for s in snaps})
    if len(crms) > 1:
        raise UsageError(
            Msg("errors.raised.the_files_are_exports_of_different", value=', '.join(crms)),
            expected=Msg("errors.expected.several_exports_of_one_crm_taken"),
        )
    snaps.sort(key=lambda s: s.taken_at)
    for a, b in zip(snaps, snaps[1:], strict=False):
        if a.taken_at == b.taken_at:
            raise UsageError(
                Msg(
                    "errors.raised.the_exports_and_have_the_same",
                    name=a.path.name,
                    name2=b.path.name,
                    taken_at=format(a.taken_at, "%Y-%m-%d"),
                ),
                expected=Msg("errors.expected.snapshots_taken_on_different_dates_named"),
            )
    events, changes, approx = _series_events(snaps)
    counts = events.table.column("stage").value_counts().to_pylist()
    funnel = fitting_funnel(crms[0], {str(v["values"]): int(v["counts"]) for v in counts})
    return SnapshotSeries(
        snapshots=tuple(snaps),
        events=events,
        deals=snaps[-1].export.deals.read,
        earlier=tuple(s.export.deals.read for s in snaps[:-1]),
        crm=crms[0],
        funnel=funnel,
        changes=changes,
        approximate=approx,
    )


def _state(snap: Snapshot) -> pd.DataFrame:
    """One row per deal of a snapshot (its first row): stage, status and exact change dates."""
    export = snap.export
    table = export.deals.read.table
    frame = pd.DataFrame({
        # Object columns: pandas' isin/merge on Arrow-backed strings are many times slower.
        "deal_id": _objects(table.column("deal_id")),
        "stage": _objects(export.deals.stage),
        "status": table.column("status").to_pandas(),
        "closed_at": table.column("closed_at").to_pandas(),
        "changed_at": (export.deals.stage_changed_at.to_pandas()
                       if export.deals.stage_changed_at is not None
                       else pd.Series(pd.NaT, index=range(table.num_rows), dtype="datetime64[us]")),
        "_row": table.column("_row").to_pandas(),
    })
    keys = {s: normalize_stage_name(s) for s in frame["stage"].dropna().unique()}
    frame["key"] = frame["stage"].map(keys)  # one normalisation per distinct name
    return frame.drop_duplicates("deal_id", keep="first")


def _series_events(snaps: Sequence[Snapshot]) -> tuple[ReadResult, int, int]:
    parts: list[pd.DataFrame] = []
    rejects: list[pa.Table] = []
    known = pd.DataFrame(columns=["deal_id", "key", "status"])
    prev_at: datetime | None = None
    changes = approx = 0
    crm = snaps[0].export.crm
    outcome_names = OUTCOME_STAGES.get(crm)
    for snap in snaps:
        state = _state(snap)
        export_events = snap.export.events
        merged = state.merge(known, on="deal_id", how="left", suffixes=("", "_prev"),
                             indicator=True)
        new_ids = merged.loc[merged["_merge"] == "left_only", "deal_id"].to_numpy()
        new_rows = merged.loc[merged["_merge"] == "left_only", "_row"].to_numpy()
        ev = export_events.table.to_pandas()
        ev["deal_id"] = _objects(export_events.table.column("deal_id"))
        ev["stage"] = _objects(export_events.table.column("stage"))
        parts.append(ev[ev["deal_id"].isin(new_ids)])
        rej = export_events.rejects
        if rej.num_rows:
            mask = pa.array(rej.column("row").to_pandas().isin(new_rows).to_numpy())
            rejects.append(_label(rej.filter(mask), snap.path.name))
        seen = merged[merged["_merge"] == "both"]
        if prev_at is not None and not seen.empty:
            window = (prev_at, snap.taken_at)
            moved = seen[seen["key"].notna() & (seen["key"] != seen["key_prev"])]
            stage_events = _dated(moved, moved["stage"], window, closing=True,
                                  status_from_stage=snap.export.deals.format.profile
                                  .status_from_stage)
            parts.append(stage_events)
            changes += len(stage_events)
            approx += int(stage_events["approximate"].sum())
            if outcome_names is not None:
                for word, label in zip(("won", "lost"), outcome_names, strict=True):
                    closed = seen[(seen["status"] == word) & (seen["status_prev"] != word)]
                    out = _dated(closed, pd.Series(label, index=closed.index), window,
                                 closing=True, status_from_stage=True, use_changed=False)
                    parts.append(out)
                    changes += len(out)
                    approx += int(out["approximate"].sum())
        known = pd.concat([
            known[~known["deal_id"].isin(state["deal_id"])],
            state.loc[state["key"].notna(), ["deal_id", "key", "status"]],
            known[known["deal_id"].isin(state.loc[state["key"].isna(), "deal_id"])],
        ], ignore_index=True)
        prev_at = snap.taken_at
    frame = pd.concat([p for p in parts if not p.empty] or [pd.DataFrame(
        columns=list(EVENTS_SCHEMA.names))], ignore_index=True)
    frame = frame.sort_values(["entered_at", "deal_id"], kind="stable")
    table = pa.Table.from_pandas(frame[list(EVENTS_SCHEMA.names)], schema=EVENTS_SCHEMA,
                                 preserve_index=False)
    rejected = (pa.concat_tables([r for r in rejects if r.num_rows]).sort_by("row")
                if any(r.num_rows for r in rejects) else REJECTS_SCHEMA.empty_table())
    first, last = snaps[0].path, snaps[-1].path
    read = ReadResult(
        file=derived_events_name(f"{first} … {last}"),
        table=table,
        rows_read=table.num_rows + rejected.num_rows,
        rejects=rejected,
        column_mapping=dict(snaps[-1].export.events.column_mapping),
        format=snaps[-1].export.events.format,
    )
    return read, changes, approx


def _dated(
    rows: pd.DataFrame,
    stage: pd.Series,
    window: tuple[datetime, datetime],
    *,
    closing: bool,
    status_from_stage: bool,
    use_changed: bool = True,
) -> pd.DataFrame:
    """Change events for ``rows``: at an exact date inside (previous, this snapshot] when the
    export gives one (stage change, or close of a closed deal), else at the snapshot, approximate."""
    since, until = window
    lo, hi = pd.Timestamp(since), pd.Timestamp(until)
    exact = pd.Series(pd.NaT, index=rows.index, dtype="datetime64[us]")
    if use_changed:
        changed = rows["changed_at"].astype("datetime64[us]")
        exact = exact.where(exact.notna(), changed.where((changed > lo) & (changed <= hi)))
    if closing and status_from_stage:
        is_closed = rows["status"].isin(["won", "lost"])
        closed = rows["closed_at"].astype("datetime64[us]")
        ok = is_closed & (closed > lo) & (closed <= hi)
        exact = exact.where(exact.notna(), closed.where(ok))
    return pd.DataFrame({
        "deal_id": rows["deal_id"],
        "stage": stage,
        "entered_at": exact.fillna(hi).astype("datetime64[us]"),
        "approximate": exact.isna().to_numpy(dtype=bool),
        "_row": rows["_row"].astype(np.int64),
    })


def _objects(col: pa.ChunkedArray) -> pd.Series:
    return pd.Series(col.to_numpy(zero_copy_only=False), dtype=object)


def _label(rejects: pa.Table, name: str) -> pa.Table:
    """Rejects of one snapshot, their message naming the snapshot's file."""
    messages = [f"{name}: {m}" for m in rejects.column("message").to_pylist()]
    return rejects.set_column(rejects.schema.get_field_index("message"), "message",
                              pa.array(messages, pa.string()))
