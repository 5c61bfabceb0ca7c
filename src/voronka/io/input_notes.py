"""What the inputs cannot give (message keys for ``data_quality.notes``) and the one rule for
time zones across the input files; used by :mod:`voronka.io.inputs`."""

from __future__ import annotations

from dataclasses import replace

from voronka.i18n import note
from voronka.io.exports import ExportRead
from voronka.io.layouts import DealRowsEvents
from voronka.io.result import ReadResult
from voronka.io.snapshots import SnapshotSeries
from voronka.io.time_zones import shift_minutes

SNAPSHOT_LIMITS = (
    "exports.limit.snapshot",
    "exports.limit.no_time_in_stage",
    "exports.limit.no_skipped_stages",
    "exports.limit.reach_from_current",
)
"""What a single snapshot export cannot give, always stated for one."""


def layout_notes(layout: DealRowsEvents) -> tuple[str, ...]:
    """The notes of a one-row-per-deal table: which layout, and which column dated what."""
    if not layout.stage_dated:
        return (*SNAPSHOT_LIMITS, "layouts.snapshot_file")
    wide = all(c.role != "stage" or c.header for c in layout.columns) and not any(
        c.role == "closed" for c in layout.columns) and "stage" not in layout.events.column_mapping
    key = "layouts.wide" if wide else "layouts.deal_rows"
    return (key, note("layouts.mapping", mapping=layout.mapping))


def export_limitations(export: ExportRead) -> tuple[str, ...]:
    """What one export cannot give, as message keys (``exports.limit.*``)."""
    out: list[str] = []
    if export.has_history:
        out.append("exports.limit.history_columns")
    else:
        out.extend(SNAPSHOT_LIMITS)
    if export.lost_stage_unknown and not export.has_history:
        out.append("exports.limit.lost_stage_unknown")
    if len(export.pipelines) > 1:
        out.append("exports.limit.several_pipelines")
    out.append(f"exports.limit.pull.{export.crm}")
    return tuple(out)


def series_limitations(series: SnapshotSeries) -> tuple[str, ...]:
    """What a series of snapshots cannot give, as message keys (``exports.limit.*``)."""
    out = ["exports.limit.series", "exports.limit.approximate_dates", "exports.limit.series_first"]
    if series.dates_from_mtime:
        out.append("exports.limit.dates_from_mtime")
    if series.snapshots[0].export.lost_stage_unknown:
        out.append("exports.limit.lost_stage_unknown")
    if any(len(s.export.pipelines) > 1 for s in series.snapshots):
        out.append("exports.limit.several_pipelines")
    out.append(f"exports.limit.pull.{series.crm}")
    return tuple(out)


_DATE_COLUMNS = ("entered_at", "created_at", "closed_at")


def one_time_zone(
    events: ReadResult, deals: ReadResult | None
) -> tuple[ReadResult, ReadResult | None, bool]:
    """The rule for time zones, the same in every file: a timestamp written with an offset is
    converted to UTC; a naive one is taken to be at the offset most zoned columns of the inputs
    use (and converted the same way). Without any offset nothing changes (naive is kept as UTC).
    Returns the reads and whether naive columns were moved."""
    found = [z for r in (events, deals) if r is not None for z in r.zones.values()]
    if not found:
        return events, deals, False
    offset = max(set(found), key=lambda z: (found.count(z), z == events.zones.get("entered_at")))
    moved = False

    def normalise(read: ReadResult) -> ReadResult:
        nonlocal moved
        table = read.table
        for name in _DATE_COLUMNS:
            if name in table.column_names and name not in read.zones and offset:
                i = table.column_names.index(name)
                table = table.set_column(i, name, shift_minutes(table.column(name), offset))
                moved = True
        return replace(read, table=table) if table is not read.table else read

    return normalise(events), normalise(deals) if deals is not None else None, moved
