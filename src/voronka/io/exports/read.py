"""Reading one CRM deal export: recognise it, read its deals, make its events."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from voronka.errors import InputError, Msg
from voronka.funnel import Funnel, normalize_stage_name
from voronka.io.exports.convert import ExportDeals, convert_export
from voronka.io.exports.outcomes import fitting_funnel, stage_outcomes
from voronka.io.exports.profiles import ExportFormat, recognize_export
from voronka.io.exports.snapshot import export_events, history_columns
from voronka.io.raw import read_raw
from voronka.io.result import Progress, RawTable, ReadResult


@dataclass(frozen=True)
class ExportRead:
    """A CRM deal export as read.

    Attributes:
        deals: the deals (canonical columns, rejects) with the stage of each.
        events: the events made from it (see :mod:`voronka.io.exports.snapshot`).
        has_history: whether the export dates stage entries (HubSpot ``Date entered`` columns), so
            its events are stage history rather than a snapshot.
        funnel: the CRM's default pipeline when it recognises the export's stage names, else None.
        lost_stage_unknown: lost deals whose stage the export does not keep (the CRM replaced it by
            the lost status): counted as lost, in no stage's reach.
        pipelines: the distinct pipeline names in the export (empty when it has no such column).
    """

    deals: ExportDeals
    events: ReadResult
    has_history: bool
    funnel: Funnel | None
    lost_stage_unknown: int
    pipelines: tuple[str, ...]

    @property
    def crm(self) -> str:
        """The CRM that wrote the export."""
        return self.deals.format.crm


def load_export(
    path: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
) -> tuple[RawTable, ExportFormat | None]:
    """The file as read and its export format (None when it is not a known CRM export)."""
    raw = read_raw(path, progress=progress, choose_sheet=lambda h: recognize_export(h) is not None)
    return raw, recognize_export(raw.headers)


def read_export(
    path: str | os.PathLike[str],
    *,
    column_map: Mapping[str, str] | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    loaded: tuple[RawTable, ExportFormat | None] | None = None,
) -> ExportRead:
    """Read a CRM deal export (amoCRM/Kommo, Bitrix24, HubSpot, Pipedrive; CSV, XLSX or Parquet),
    recognised by its headers, into deals and events without ``--map``.

    Args:
        path: the export.
        column_map: ``--map`` entries, which override the recognised headers.
        strict: stop at the first bad row.
        progress: ``progress(done_bytes, total_bytes)`` while reading.
        loaded: the result of :func:`load_export` when the file was already read.

    Raises:
        InputError: the file is not a recognised export, or cannot be used.
    """
    raw, fmt = loaded if loaded is not None else load_export(path, progress=progress)
    if fmt is None:
        raise InputError(
            Msg("errors.raised.the_file_is_not_a_deal"),
            file=raw.file,
            expected=Msg("errors.expected.the_export_s_own_headers_e"),
        )
    if raw.rows_read == 0:
        raise InputError(Msg("errors.msg.export_no_deals"), file=raw.file,
                         expected=Msg("errors.expected.rows_of_deals_under_the_header"))
    deals = convert_export(raw, fmt, column_map=column_map, strict=strict)
    events = export_events(deals, raw)
    counts = _name_counts(events)
    lost_unknown = _lost_stage_unknown(deals, events)
    pipelines: tuple[str, ...] = ()
    if deals.pipeline is not None:
        pipelines = tuple(sorted(str(v) for v in pc.unique(deals.pipeline).to_pylist()
                                 if v is not None))
    return ExportRead(
        deals=deals,
        events=events,
        has_history=bool(history_columns(raw.headers)),
        funnel=fitting_funnel(fmt.crm, counts),
        lost_stage_unknown=lost_unknown,
        pipelines=pipelines,
    )


def _lost_stage_unknown(deals: ExportDeals, events: ReadResult) -> int:
    """Lost deals none of whose events is a stage other than a lost one."""
    _, lost_keys = stage_outcomes(deals.format.crm)
    table = deals.read.table
    lost_ids = pc.filter(table.column("deal_id"), pc.equal(table.column("status"), "lost"))
    if len(lost_ids) == 0:
        return 0
    ev = events.table
    names = pc.unique(ev.column("stage")).to_pylist()
    staged = [n for n in names if n is not None and normalize_stage_name(n) not in lost_keys]
    known = pc.filter(ev.column("deal_id"), pc.is_in(ev.column("stage"), pa.array(staged,
                                                                                     pa.string())))
    unknown = pc.invert(pc.is_in(lost_ids, value_set=pc.unique(known)))
    return len(pc.unique(pc.filter(lost_ids, unknown)))


def _name_counts(events: ReadResult) -> dict[str, int]:
    counts = events.table.column("stage").value_counts()
    return {str(v["values"]): int(v["counts"]) for v in counts.to_pylist() if v["values"]}
