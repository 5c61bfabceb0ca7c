"""The Python API: load an export into the engine, audit it. The CLI is a thin shell over this.

Which funnel an audit uses (given, found, a template or inferred) is chosen by
:mod:`voronka.api_funnel`; its public names are importable from here too."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voronka.api_funnel import PathLike, funnel_of, given_path, order_notes, resolve_funnel
from voronka.audit.options import AuditOptions
from voronka.engine import DealFilter, EventLog, apply_filter
from voronka.engine.prepare import prepare_inputs
from voronka.engine.read import read_fast
from voronka.errors import InputError, Msg, UsageError, any_of
from voronka.funnel import Funnel
from voronka.io.inputs import InputSet, open_inputs
from voronka.io.readers import KEEP_COLUMNS
from voronka.io.result import ReadResult
from voronka.lazy import Preload

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.audit.what_if import WhatIf

__all__ = [
    "Inputs", "PathLike", "Progress", "audit", "audit_log", "deal_filter", "load", "log_of",
    "order_notes", "read_inputs", "resolve_funnel", "run_audit", "what_if",
]

Progress = Callable[[str, int, int], None]
"""``progress(file, done_bytes, total_bytes)``: called while large files are read."""

Inputs = InputSet
"""What was read from the user's inputs (:class:`voronka.io.inputs.InputSet`)."""


def read_inputs(
    events: PathLike | Sequence[PathLike],
    *,
    deals: PathLike | None = None,
    spend: PathLike | None = None,
    column_map: Mapping[str, str] | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    funnel: PathLike | None = None,
    backend_reader: bool = True,
) -> Inputs:
    """Read the inputs (lenient unless ``strict``): an events file, a folder, or one or more CRM
    exports (see :func:`voronka.io.inputs.open_inputs`; ``funnel``: the funnel file the user
    gave, so that none is looked for in a folder). Events and deals files that DuckDB can read
    with the readers' exact result are read and validated by DuckDB
    (:mod:`voronka.engine.read`) unless ``backend_reader`` is False."""
    return open_inputs(events, deals=deals, spend=spend, funnel=funnel, column_map=column_map,
                       strict=strict, progress=progress,
                       fast=read_fast if backend_reader else None)


def _parse_as_of(as_of: datetime | date | str | None) -> datetime | None:
    if as_of is None or isinstance(as_of, datetime):
        return as_of
    if isinstance(as_of, date):
        return datetime(as_of.year, as_of.month, as_of.day)
    try:
        parsed = datetime.fromisoformat(as_of)
    except ValueError:
        raise UsageError(
            Msg("errors.raised.as_of_is_not_a_date", as_of=repr(as_of)),
            expected=Msg("errors.expected.an_iso_date_such_as_2025"),
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    if not datetime(1971, 1, 1) <= parsed <= datetime(2200, 1, 1):
        raise UsageError(Msg("errors.raised.as_of_is_out_of_range", as_of=repr(as_of)),
                         expected=Msg("errors.expected.a_date_between_1971_and_2200"))
    return parsed


def load(
    events: PathLike | Sequence[PathLike],
    *,
    deals: PathLike | None = None,
    funnel: Funnel | PathLike | None = None,
    column_map: Mapping[str, str] | None = None,
    strict: bool = False,
    as_of: datetime | date | str | None = None,
    backend: Any = None,
    progress: Progress | None = None,
    engine: Any = None,
) -> EventLog:
    """Read an export and put it on the engine (DuckDB in memory unless ``backend`` is an Ibis
    connection), with its stages mapped to the funnel (given, a fitting template, or inferred).
    With ``engine`` (a connection URL or an Ibis connection), ``events`` and ``deals`` are tables
    or Parquet folders on it, as in :func:`audit`."""
    if engine is not None:
        log, _ = _log_on_engine(engine, events, deals=deals, spend=None, funnel=funnel,
                                column_map=column_map, strict=strict, as_of=as_of)
        return log
    inputs = read_inputs(events, deals=deals, column_map=column_map, strict=strict,
                         progress=progress, funnel=given_path(funnel))
    inputs = prepare_inputs(inputs, as_of=_parse_as_of(as_of))
    return _log_from_inputs(inputs, funnel_of(inputs, funnel), as_of=_parse_as_of(as_of),
                            backend=backend)


def log_of(
    inputs: Inputs, funnel: Funnel | PathLike | None = None, *,
    as_of: datetime | date | str | None = None, backend: Any = None,
) -> EventLog:
    """The event log of read ``inputs`` on the engine, stages mapped to the funnel (given, the
    folder's, a fitting template, or inferred)."""
    return _log_from_inputs(inputs, funnel_of(inputs, funnel), as_of=_parse_as_of(as_of),
                            backend=backend)


def _log_from_inputs(
    inputs: Inputs, funnel: Funnel | PathLike | None, *, as_of: datetime | None, backend: Any
) -> EventLog:
    log = EventLog.build(
        inputs.events.table,
        inputs.deals.table if inputs.deals is not None else None,
        backend=backend,
        as_of=as_of,
    )
    custom = inputs.crm is not None and inputs.funnel is None
    log = log.with_funnel(resolve_funnel(log, funnel, templates=not custom))
    if not any(index >= 0 for index in log.stage_mapping.values()):
        names = ", ".join(repr(n) for n in list(log.stage_name_counts())[:5])
        raise InputError(
            Msg("errors.raised.no_event_has_a_stage_of", names=names),
            file=inputs.events.file,
            expected=Msg("errors.expected.stage_names_of_the_funnel_file"),
        )
    return log


def audit(
    events: PathLike | Sequence[PathLike],
    *,
    deals: PathLike | None = None,
    spend: PathLike | None = None,
    funnel: Funnel | PathLike | None = None,
    column_map: Mapping[str, str] | None = None,
    strict: bool = False,
    as_of: datetime | date | str | None = None,
    by: Sequence[str] | None = None,
    plan: float | None = None,
    plan_revenue: float | None = None,
    plan_from: date | None = None,
    plan_until: date | None = None,
    lang: str | None = None,
    backend: Any = None,
    progress: Progress | None = None,
    seed: int = 0,
    engine: Any = None,
    created_from: date | str | None = None,
    created_to: date | str | None = None,
    where: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
) -> AuditResult:
    """Audit an export: read the files, aggregate in the engine, compute every section.

    With ``engine`` (an Ibis connection URL such as ``duckdb:///crm.db``,
    ``postgres://user:password@host/db``, ``pyspark://``, or an Ibis connection), ``events``,
    ``deals`` and ``spend`` are table names or Parquet folders on that engine, read and
    validated there (docs/scale.md).

    ``created_from`` / ``created_to`` / ``where`` audit only the deals created in that period
    (days inclusive) whose columns have the given values (:func:`deal_filter`).

    Returns the :class:`~voronka.audit.AuditResult`; ``result.to_dict()`` is the JSON contract.
    """
    if plan is not None and plan_revenue is not None:
        raise UsageError(Msg("errors.msg.plan_both"))
    for option, value in (("--plan", plan), ("--plan-revenue", plan_revenue)):
        if value is not None and not (0 < value < 1e15):
            raise UsageError(
                Msg("errors.raised.is_not_a_plan", option=option, value=format(value, "g")),
                expected=Msg("errors.expected.a_positive_number"),
            )
    notes: tuple[str, ...] = ()
    if engine is not None:
        log, reads = _log_on_engine(engine, events, deals=deals, spend=spend, funnel=funnel,
                                    column_map=column_map, strict=strict, as_of=as_of)
    else:
        preload = _preload_audit(funnel)
        try:
            token = KEEP_COLUMNS.set(tuple(by or ()))
            try:
                inputs = read_inputs(events, deals=deals, spend=spend, column_map=column_map,
                                     strict=strict, progress=progress, funnel=given_path(funnel))
            finally:
                KEEP_COLUMNS.reset(token)
            inputs = prepare_inputs(inputs, as_of=_parse_as_of(as_of))
        finally:
            preload.join()
        log = _log_from_inputs(inputs, funnel_of(inputs, funnel), as_of=_parse_as_of(as_of),
                               backend=backend)
        reads, notes = inputs.reads, (*inputs.limitations, *order_notes(log, inputs.limitations))
    return audit_log(
        log, reads, notes=notes, flt=deal_filter(created_from, created_to, where), by=by,
        plan=plan, plan_revenue=plan_revenue, plan_from=plan_from, plan_until=plan_until,
        lang=lang, seed=seed,
    )


_AUDIT_MODULES = (
    "voronka.audit.run",  # the sections: pandas' rest, scipy.special and .optimize, the stats
    "ibis.backends.duckdb",  # the engine's default backend (voronka.engine.ibis_compilers)
)
"""What an audit imports after reading, preloaded while the files are read."""


def _preload_audit(funnel: Funnel | PathLike | None) -> Preload:
    """:data:`_AUDIT_MODULES` imported, and the Russian morphology's dictionaries loaded when
    the stage names may be Russian (the ``statuses`` section judges them), in a background
    thread: reading the files is mostly DuckDB's native code, which leaves a core to the
    interpreter. The caller joins it before auditing."""
    calls = [_load_morphology] if _may_be_russian(funnel) else []
    return Preload(_AUDIT_MODULES, calls)


def _may_be_russian(funnel: Funnel | PathLike | None) -> bool:
    """Whether the funnel's stage names may be Russian: a funnel (or funnel file) with a Cyrillic
    letter, or no funnel given (a template or the data's own names, not known before reading)."""
    if funnel is None:
        return True
    if isinstance(funnel, Funnel):
        names = " ".join(s.name for s in funnel.stages)
    else:
        try:
            names = Path(funnel).read_bytes().decode("utf-8", "replace")
        except OSError:
            return False  # reading the funnel says why, later
    return any("а" <= c.lower() <= "я" or c.lower() == "ё" for c in names)


def _load_morphology() -> None:
    from voronka.lang.ru_morph import morph

    morph()


def run_audit(log: EventLog, reads: Mapping[str, ReadResult], **options: Any) -> AuditResult:
    """:func:`voronka.audit.run.run_audit`, imported on first use (the statistics stack)."""
    from voronka.audit.run import run_audit as run

    return run(log, reads, **options)


def _parse_day(value: date | str | None, option: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(
            Msg("errors.raised.is_not_a_date", option=option, value=repr(value)),
            expected=Msg("errors.expected.yyyy_mm_dd"),
        ) from None


def deal_filter(
    created_from: date | str | None = None,
    created_to: date | str | None = None,
    where: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
) -> DealFilter:
    """The :class:`~voronka.engine.DealFilter` of a period (ISO dates) and column values."""
    pairs = list(where.items()) if isinstance(where, Mapping) else list(where or [])
    return DealFilter(
        created_from=_parse_day(created_from, "--from"),
        created_to=_parse_day(created_to, "--to"),
        where=tuple((str(c), str(v)) for c, v in pairs),
    )


def audit_log(
    log: EventLog,
    reads: Mapping[str, ReadResult],
    *,
    notes: Sequence[str] = (),
    flt: DealFilter | None = None,
    by: Sequence[str] | None = None,
    plan: float | None = None,
    plan_revenue: float | None = None,
    plan_from: date | None = None,
    plan_until: date | None = None,
    lang: str | None = None,
    seed: int = 0,
    sections: Collection[str] | None = None,
) -> AuditResult:
    """The audit of an already loaded ``log`` (with its funnel) and the ``reads`` that made it,
    restricted to the deals ``flt`` keeps — what :func:`audit` does after reading; the web server
    keeps the log between requests. ``notes``: what the inputs cannot give.

    ``sections``: the sections to compute (names of ``voronka.audit.run.SECTIONS``, e.g.
    ``voronka.audit.run.FIRST_SCREEN`` for a fast first screen); default all. Sections not asked
    for keep their empty defaults (see :func:`voronka.audit.run.run_audit`)."""
    if plan is not None and plan_revenue is not None:
        raise UsageError(Msg("errors.msg.plan_both"))
    if flt is not None and not flt.empty:
        log = apply_filter(log, flt)
    for column in by or ():
        if column not in log.deal_columns():
            raise UsageError(
                Msg("errors.raised.there_is_no_deal_column_to", by=repr(column)),
                column=column,
                expected=any_of(log.segment_columns(), "errors.expected.a_deal_column"),
            )
    options = AuditOptions(
        by=tuple(by) if by else None,
        plan=plan,
        plan_revenue=plan_revenue,
        plan_from=plan_from,
        plan_until=plan_until,
        language=lang,
        seed=seed,
    )
    return run_audit(log, reads, options=options, notes=tuple(notes), sections=sections)


def _log_on_engine(
    engine: Any,
    events: PathLike | Sequence[PathLike],
    *,
    deals: PathLike | None,
    spend: PathLike | None,
    funnel: Funnel | PathLike | None,
    column_map: Mapping[str, str] | None,
    strict: bool,
    as_of: datetime | date | str | None,
) -> tuple[EventLog, dict[str, ReadResult]]:
    """The log over tables on ``engine`` (a URL or an Ibis connection), and their reads."""
    from voronka.engine.connect import connect
    from voronka.engine.sources import open_sources

    if not isinstance(events, str | Path):
        raise UsageError(
            Msg("errors.raised.engine_takes_one_events_table"),
            expected=Msg("errors.expected.a_table_name_or_a_folder"),
        )
    con = connect(engine) if isinstance(engine, str) else engine
    sources = open_sources(
        con, str(events), deals=None if deals is None else str(deals),
        spend=None if spend is None else str(spend), column_map=column_map, strict=strict,
    )
    sources = sources.prepared(_parse_as_of(as_of))  # the input checks the file path makes
    log = sources.log(_parse_as_of(as_of))
    return log.with_funnel(resolve_funnel(log, funnel)), sources.reads


def what_if(result: AuditResult, *, stage: str, rate: float) -> WhatIf:
    """The plan forecast of ``result`` if ``stage`` (a stage id of the funnel) converted at
    ``rate`` (0 … 1): expected wins, their range, the plan probability and revenue, from the same
    model and seed as the forecast (see :mod:`voronka.audit.what_if`). Fast: no data is read."""
    from voronka.audit.what_if import what_if as compute

    return compute(result, stage=stage, rate=rate)
