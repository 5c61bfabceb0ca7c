"""How each layout of input is read with the options of one run (:class:`Opener`): an events file
(or a table with one row per deal, made into events), the tables of milestones, one CRM export or
a series of snapshots; then the deals and spend files and the notes of what the inputs cannot give
(:meth:`Opener.finish`). Which layout the user gave is decided by :func:`voronka.io.inputs.
open_inputs`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from voronka.errors import InputError, Msg, UsageError, either
from voronka.funnel import Funnel
from voronka.i18n import note
from voronka.io.crm.profiles import REGISTRY
from voronka.io.encodings import MIXED
from voronka.io.exports import ExportFormat, custom_stages, read_export
from voronka.io.folder import Peek
from voronka.io.input_notes import (
    export_limitations,
    layout_notes,
    one_time_zone,
    series_limitations,
)
from voronka.io.input_set import FastReader, FileProgress, InputKind, InputSet, PathLike
from voronka.io.layouts import (
    are_milestones,
    deal_rows_events,
    deals_of,
    join_milestones,
    one_row_per_deal,
    rename_stage_column,
)
from voronka.io.left_out import column_notes, drops_columns
from voronka.io.prefetch import Prefetch
from voronka.io.readers import read_deals, read_events, read_spend
from voronka.io.result import Progress, RawTable, ReadResult
from voronka.io.snapshots import read_snapshots


@dataclass(frozen=True)
class MainPart:
    """The part of the inputs that gives the events."""

    events: ReadResult
    deals: ReadResult | None = None
    funnel: Funnel | None = None
    crm: str | None = None
    limitations: tuple[str, ...] = ()
    earlier: tuple[ReadResult, ...] = ()
    history: bool = True
    tables: tuple[ReadResult, ...] = ()


class Opener:
    """Reads files with the options of one run."""

    def __init__(
        self, column_map: Mapping[str, str], strict: bool, progress: FileProgress | None,
        fast: FastReader | None = None,
    ) -> None:
        self.column_map = dict(column_map)
        self.strict = strict
        self.progress = progress
        self.fast = fast
        self.ahead = Prefetch()

    def read(self, path: PathLike, kind: str) -> ReadResult:
        """An events or deals file: by the fast reader when it takes it, else in Python (also a
        very wide file, whose unused columns the Python readers never convert); a file read
        ahead (:meth:`read_ahead`) is taken as read."""
        ahead = self.ahead.take(path, kind, self.bar(path))
        if ahead is not None:
            return ahead
        return self._read(path, kind, self.bar(path))

    def read_ahead(self, path: PathLike, kind: str) -> None:
        """Start reading ``path`` in a worker thread (:mod:`voronka.io.prefetch`)."""
        self.ahead.start(self._read, path, kind)

    def _read(self, path: PathLike, kind: str, progress: Progress | None) -> ReadResult:
        if self.fast is not None and not drops_columns(path, kind, self.column_map):
            read = self.fast(path, kind, column_map=self.column_map, strict=self.strict,
                             progress=progress)
            if read is not None:
                return read
        reader = read_events if kind == "events" else read_deals
        return reader(path, column_map=self.column_map, strict=self.strict, progress=progress)

    def bar(self, path: PathLike) -> Progress | None:
        if self.progress is None:
            return None
        report, name = self.progress, str(path)
        return lambda done, total: report(name, done, total)

    def events_file(self, path: Path, peek: Peek | None) -> MainPart:
        """An events file; or a table with one row per deal (the snapshot shape, stage-dated
        columns, the wide layout: :mod:`voronka.io.layouts`), said in the notes."""
        try:
            events = self.read(path, "events")
        except InputError as exc:
            if exc.column not in ("stage", "entered_at") or exc.row is not None:
                raise
            deals = self._deal_rows(path, peek)
            if deals is None:
                raise
            stage = rename_stage_column(self.column_map, deals.table.column_names)
            layout = deal_rows_events(deals, stage=stage,
                                      status="status" if "status" in deals.column_mapping
                                      else None)
            if not layout.events.rows_used:
                raise
            return MainPart(events=layout.events, deals=deals, limitations=layout_notes(layout),
                         history=layout.stage_dated)
        ids = events.table.column("deal_id")
        if _repeats_early(ids) or not one_row_per_deal(ids, min_rows=MIN_SNAPSHOT_ROWS):
            return MainPart(events=events)
        layout = deal_rows_events(
            events, stage="stage", status="status" if "status" in events.column_mapping else None,
            file_date=events.column_mapping.get("entered_at"),
        )
        return MainPart(events=layout.events, deals=deals_of(events),
                     limitations=layout_notes(layout), history=layout.stage_dated)

    def _deal_rows(self, path: Path, peek: Peek | None) -> ReadResult | None:
        """``path`` read as deals when it has one row per deal and a date column, else None."""
        try:
            deals = read_deals(path, column_map=self.column_map, strict=self.strict,
                               progress=self.bar(path))
        except InputError:
            return None
        del peek
        if not one_row_per_deal(deals.table.column("deal_id")):
            return None
        return deals

    def milestones(self, paths: Sequence[Path], folder: Path | None = None) -> MainPart:
        """Several tables of the same deals, one per funnel step (:mod:`.layouts.milestones`)."""
        reads = [read_deals(p, column_map=self.column_map, strict=self.strict,
                            progress=self.bar(p)) for p in paths]
        if not are_milestones(reads) and folder is not None:
            which = either(f"--deals {p}" for p in paths[:3])
            raise InputError(
                Msg(
                    "errors.raised.the_folder_has_several_deals_files",
                    value=", ".join(p.name for p in paths),
                ),
                file=str(folder),
                expected=Msg("errors.expected.an_events_file_beside_one_deals", which=which),
            )
        if not are_milestones(reads):
            raise UsageError(
                Msg(
                    "errors.raised.several_inputs_are_given_but_is_2",
                    value=", ".join(p.name for p in paths),
                ),
                expected=Msg("errors.expected.one_events_file_with_deals_spend_2"),
            )
        joined = join_milestones(reads)
        notes = (note("layouts.milestones", files=", ".join(Path(r.file).name
                                                             for r in joined.tables)),
                 note("layouts.mapping", mapping=joined.layout.mapping))
        return MainPart(events=joined.events, deals=joined.deals, limitations=notes,
                     tables=joined.tables)

    def exports(self, paths: Sequence[Path], peeks: Mapping[Path, Peek]) -> MainPart:
        loaded: dict[str, tuple[RawTable, ExportFormat | None]] = {}
        for p in paths:
            raw = peeks[p].raw if p in peeks else None
            if raw is not None:
                loaded[str(p)] = (raw, peeks[p].export)
        if len(paths) == 1:
            export = read_export(paths[0], column_map=self.column_map, strict=self.strict,
                                 progress=self.bar(paths[0]), loaded=loaded.get(str(paths[0])))
            return MainPart(
                events=export.events, deals=export.deals.read, funnel=export.funnel,
                crm=export.crm, limitations=export_limitations(export),
                history=export.has_history,
            )
        series = read_snapshots(paths, column_map=self.column_map, strict=self.strict,
                                progress=self.bar, loaded=loaded)
        return MainPart(
            events=series.events, deals=series.deals, funnel=series.funnel, crm=series.crm,
            limitations=series_limitations(series), earlier=series.earlier, history=False,
        )

    def finish(
        self,
        main: MainPart,
        *,
        kind: InputKind,
        deals: PathLike | None,
        spend: PathLike | None,
        funnel_path: Path | None,
        funnel_given: bool,
    ) -> InputSet:
        kw = {"column_map": self.column_map, "strict": self.strict}
        deals_read = self.read(deals, "deals") if deals is not None else main.deals
        spend_read = (read_spend(spend, progress=self.bar(spend), **kw)  # type: ignore[arg-type]
                      if spend is not None else None)
        limitations = list(main.limitations)
        if (main.crm is not None and main.funnel is None and not funnel_given
                and funnel_path is None):
            # A pipeline of its own: the funnel comes from the export, not the CRM's default.
            custom = custom_stages(main.crm, _name_counts(main.events))
            if custom:
                limitations.append(note("layouts.custom_stages", crm=CRM_TITLES.get(
                    main.crm, main.crm), stages=", ".join(f"«{s}»" for s in custom[:8])))
            if not main.history:
                limitations.append("exports.limit.stage_order_unknown")
        events_read, deals_read, zoned = one_time_zone(main.events, deals_read)
        if zoned:
            limitations.append("inputs.note.time_zone")
        reads = [r for r in (events_read, deals_read, spend_read, *main.earlier, *main.tables)
                 if r is not None]
        if any(r.encoding == MIXED for r in reads):
            limitations.append("inputs.note.mixed_encoding")
        limitations += column_notes(reads)
        return InputSet(
            events=events_read,
            deals=deals_read,
            spend=spend_read,
            funnel_path=funnel_path,
            funnel=main.funnel,
            kind=kind,
            crm=main.crm,
            limitations=tuple(dict.fromkeys(limitations)),
            earlier=main.earlier,
            tables=main.tables,
        )


CRM_TITLES = {p.id: p.title for p in REGISTRY.values()}

MIN_SNAPSHOT_ROWS = 10
"""An events file of at least this many rows, one per deal, is read as a snapshot."""


_PREFIX_ROWS = 65_536


def _repeats_early(ids: pa.ChunkedArray) -> bool:
    """Whether a deal id repeats within the first rows: an event log's ids repeat soon, so the
    full uniqueness check over millions of ids is needed only for a one-row-per-deal table."""
    head = pc.drop_null(ids.slice(0, _PREFIX_ROWS))
    return len(pc.unique(head)) < len(head)


def _name_counts(events: ReadResult) -> dict[str, int]:
    counts = events.table.column("stage").value_counts().to_pylist()
    return {str(v["values"]): int(v["counts"]) for v in counts if v["values"] is not None}
