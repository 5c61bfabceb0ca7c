"""One entry point for whatever the user gives ``voronka audit``: an events file, a folder, one CRM
export (a snapshot) or several (a series of snapshots).

::

    from voronka.io.inputs import open_inputs
    inputs = open_inputs(["export-2025-01-01.csv", "export-2025-02-01.csv"])
    inputs.kind           # "snapshots"
    inputs.crm            # "amocrm"
    inputs.limitations    # message keys: what these inputs cannot give
    inputs.reads          # every file read, for the data-quality section

``limitations`` are message keys of ``src/voronka/i18n/messages/exports.toml``; the audit puts
them into ``data_quality.notes`` and the report prints them.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from voronka.errors import InputError, Msg, UsageError, either
from voronka.funnel import Funnel
from voronka.i18n import note
from voronka.io.crm.profiles import REGISTRY
from voronka.io.csvfile import MIXED
from voronka.io.exports import ExportFormat, custom_stages, read_export
from voronka.io.folder import Peek, peek_table, scan_folder, unreadable_reason
from voronka.io.input_notes import (
    export_limitations,
    layout_notes,
    one_time_zone,
    series_limitations,
)
from voronka.io.layouts import (
    are_milestones,
    deal_rows_events,
    deals_of,
    join_milestones,
    one_row_per_deal,
    rename_stage_column,
)
from voronka.io.left_out import column_notes, drops_columns, with_unreadable
from voronka.io.prefetch import Prefetch
from voronka.io.readers import read_deals, read_events, read_spend
from voronka.io.result import Progress, RawTable, ReadResult
from voronka.io.snapshots import read_snapshots

InputKind = Literal["events", "folder", "export", "snapshots", "milestones"]

FileProgress = Callable[[str, int, int], None]
"""``progress(file, done_bytes, total_bytes)``, called while files are read."""

PathLike = str | os.PathLike[str]

FastReader = Callable[..., ReadResult | None]
"""``fast(path, kind, column_map=…, strict=…, progress=…)``: the file read by the engine's
backend (``voronka.engine.read.read_fast``), or None when the Python readers must read it."""

@dataclass(frozen=True)
class InputSet:
    """Everything read from the user's inputs.

    Attributes:
        events: the events (read from an events file, or made from CRM exports).
        deals: the deals, when there are any (a deals file, or the export's deals).
        spend: the ad-spend file, when given or found.
        funnel_path: the funnel file found in the folder (None when given on the command line or
            absent).
        funnel: a funnel the inputs imply: the detected CRM's default pipeline when the export's
            stage names match it.
        kind: ``events`` (an events file), ``folder``, ``export`` (one CRM export) or
            ``snapshots`` (several exports of one CRM on different dates).
        crm: the CRM whose export was read, else None.
        limitations: message keys of what these inputs cannot give (``exports.limit.*``).
        earlier: reads of the earlier snapshots of a series (for the row accounting).
    """

    events: ReadResult
    deals: ReadResult | None = None
    spend: ReadResult | None = None
    funnel_path: Path | None = None
    funnel: Funnel | None = None
    kind: InputKind = "events"
    crm: str | None = None
    limitations: tuple[str, ...] = ()
    earlier: tuple[ReadResult, ...] = field(default=())
    tables: tuple[ReadResult, ...] = field(default=())

    @property
    def reads(self) -> dict[str, ReadResult]:
        """Every file read: ``{"events": …, "deals": …, "spend": …}`` (those present), then
        ``"snapshot:<file>"`` for the earlier snapshots of a series, ``"table:<file>"`` for the
        tables of milestones joined into one."""
        found = {"events": self.events, "deals": self.deals, "spend": self.spend}
        out = {kind: read for kind, read in found.items() if read is not None}
        for read in self.earlier:
            out[f"snapshot:{read.file}"] = read
        for read in self.tables:
            out[f"table:{read.file}"] = read
        return out


def open_inputs(
    paths: PathLike | Sequence[PathLike],
    *,
    deals: PathLike | None = None,
    spend: PathLike | None = None,
    funnel: PathLike | None = None,
    column_map: Mapping[str, str] | None = None,
    strict: bool = False,
    progress: FileProgress | None = None,
    fast: FastReader | None = None,
) -> InputSet:
    """Read what the user gave: an events file, a folder, or one or more CRM exports.

    Args:
        paths: the positional inputs of ``voronka audit``.
        deals: a deals file (``--deals``); wins over one found in a folder or an export's deals.
        spend: an ad-spend file (``--spend``); wins over one found in a folder.
        funnel: the funnel file given (``--funnel``); when given, no funnel file is looked for.
        column_map: ``--map`` entries.
        strict: stop at the first bad row.
        progress: ``progress(file, done_bytes, total_bytes)`` while reading.
        fast: a reader tried first for an events file and a deals file (:data:`FastReader`).

    Raises:
        UsageError: several inputs that are not exports of one CRM, or a folder among several.
        InputError: a file or folder that cannot be used (exit status 2 in the CLI).
    """
    items = [Path(p) for p in ([paths] if isinstance(paths, str | os.PathLike) else paths)]
    if not items:
        raise UsageError(
            Msg("errors.msg.no_input"), expected=Msg("errors.expected.an_events_file_a_folder_or")
        )
    opener = _Opener(column_map or {}, strict, progress, fast)
    try:
        return _open(opener, items, deals=deals, spend=spend, funnel=funnel)
    finally:
        opener.ahead.close()


def _open(opener: _Opener, items: list[Path], *, deals: PathLike | None,
          spend: PathLike | None, funnel: PathLike | None) -> InputSet:
    """:func:`open_inputs` with its opener; the deals file of an events file is read alongside
    it."""
    if len(items) == 1 and items[0].is_dir():
        contents = scan_folder(items[0], need_funnel=funnel is None, need_deals=deals is None,
                               strict=opener.strict)
        if contents.events is not None:
            deals_path = deals or contents.deals
            if deals_path is not None:
                opener.read_ahead(deals_path, "deals")
            main = opener.events_file(contents.events, contents.peeks.get(contents.events))
        elif contents.exports:
            main = opener.exports(list(contents.exports), contents.peeks)
        elif len(contents.milestones) > 1:
            main = opener.milestones(list(contents.milestones), folder=items[0])
        else:
            main = opener.events_file(contents.milestones[0], None)

        return with_unreadable(opener.finish(
            main, kind="folder",
            deals=deals or contents.deals, spend=spend or contents.spend,
            funnel_path=contents.funnel, funnel_given=funnel is not None,
        ), contents.unreadable)
    if any(p.is_dir() for p in items):
        raise UsageError(
            Msg("errors.raised.a_folder_must_be_the_only"),
            expected=Msg("errors.expected.voronka_audit_dir_or_voronka_audit"),
        )
    peeks = {p: _peek(p) for p in items}
    if len(items) == 1:
        peek = peeks[items[0]]
        if peek.export is None and deals is not None:
            opener.read_ahead(deals, "deals")
        main = (opener.exports(items, peeks) if peek.export is not None
                else opener.events_file(items[0], peek))
        return opener.finish(main, kind="export" if peek.export else "events", deals=deals,
                             spend=spend, funnel_path=None, funnel_given=funnel is not None)
    not_exports = [p.name for p in items if peeks[p].export is None]
    if len(not_exports) == len(items):
        main = opener.milestones(items)
        return opener.finish(main, kind="milestones", deals=deals, spend=spend, funnel_path=None,
                             funnel_given=funnel is not None)
    if not_exports:
        raise UsageError(
            Msg("errors.raised.several_inputs_are_given_but_is", value=', '.join(not_exports)),
            expected=Msg("errors.expected.one_events_file_with_deals_spend"),
        )
    main = opener.exports(items, peeks)
    return opener.finish(main, kind="snapshots", deals=deals, spend=spend, funnel_path=None,
                         funnel_given=funnel is not None)


@dataclass(frozen=True)
class _Main:
    """The part of the inputs that gives the events."""

    events: ReadResult
    deals: ReadResult | None = None
    funnel: Funnel | None = None
    crm: str | None = None
    limitations: tuple[str, ...] = ()
    earlier: tuple[ReadResult, ...] = ()
    history: bool = True
    tables: tuple[ReadResult, ...] = ()


class _Opener:
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

    def events_file(self, path: Path, peek: Peek | None) -> _Main:
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
            return _Main(events=layout.events, deals=deals, limitations=layout_notes(layout),
                         history=layout.stage_dated)
        ids = events.table.column("deal_id")
        if _repeats_early(ids) or not one_row_per_deal(ids, min_rows=MIN_SNAPSHOT_ROWS):
            return _Main(events=events)
        layout = deal_rows_events(
            events, stage="stage", status="status" if "status" in events.column_mapping else None,
            file_date=events.column_mapping.get("entered_at"),
        )
        return _Main(events=layout.events, deals=deals_of(events),
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

    def milestones(self, paths: Sequence[Path], folder: Path | None = None) -> _Main:
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
        return _Main(events=joined.events, deals=joined.deals, limitations=notes,
                     tables=joined.tables)

    def exports(self, paths: Sequence[Path], peeks: Mapping[Path, Peek]) -> _Main:
        loaded: dict[str, tuple[RawTable, ExportFormat | None]] = {}
        for p in paths:
            raw = peeks[p].raw if p in peeks else None
            if raw is not None:
                loaded[str(p)] = (raw, peeks[p].export)
        if len(paths) == 1:
            export = read_export(paths[0], column_map=self.column_map, strict=self.strict,
                                 progress=self.bar(paths[0]), loaded=loaded.get(str(paths[0])))
            return _Main(
                events=export.events, deals=export.deals.read, funnel=export.funnel,
                crm=export.crm, limitations=export_limitations(export),
                history=export.has_history,
            )
        series = read_snapshots(paths, column_map=self.column_map, strict=self.strict,
                                progress=self.bar, loaded=loaded)
        return _Main(
            events=series.events, deals=series.deals, funnel=series.funnel, crm=series.crm,
            limitations=series_limitations(series), earlier=series.earlier, history=False,
        )

    def finish(
        self,
        main: _Main,
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


def _peek(path: Path) -> Peek:
    """:func:`peek_table`, with a compressed file cut short or a file that cannot be opened
    named as an input error."""
    try:
        return peek_table(path)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(
            Msg("errors.raised.cannot_read_the_file_a_truncated", exc=exc), file=str(path)
        ) from None
    except OSError as exc:
        raise InputError(
            Msg("errors.raised.the_file_cannot_be_read", value=unreadable_reason(exc)),
            file=str(path),
            expected=Msg("errors.expected.a_file_the_user_running_voronka"),
        ) from None
