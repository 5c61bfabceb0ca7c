"""The Python API: load an export into the engine, audit it. The CLI is a thin shell over this."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from voronka.audit import AuditResult
from voronka.audit.options import AuditOptions
from voronka.audit.run import run_audit
from voronka.engine import EventLog
from voronka.errors import UsageError
from voronka.funnel import Funnel, choose_template, infer_funnel, load_funnel
from voronka.io import ReadResult, read_deals, read_events, read_spend

Progress = Callable[[str, int, int], None]
"""``progress(file, done_bytes, total_bytes)``: called while large files are read."""

PathLike = str | Path


@dataclass(frozen=True)
class Inputs:
    """What was read from the user's files.

    Attributes:
        events: the events file as read (accepted rows and rejects).
        deals: the deals file, when given.
        spend: the ad-spend file, when given.
    """

    events: ReadResult
    deals: ReadResult | None = None
    spend: ReadResult | None = None

    @property
    def reads(self) -> dict[str, ReadResult]:
        """Every file read: ``{"events": …, "deals": …, "spend": …}`` (those given)."""
        found = {"events": self.events, "deals": self.deals, "spend": self.spend}
        return {kind: read for kind, read in found.items() if read is not None}


def read_inputs(
    events: PathLike,
    *,
    deals: PathLike | None = None,
    spend: PathLike | None = None,
    column_map: Mapping[str, str] | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> Inputs:
    """Read the events, deals and spend files (lenient unless ``strict``)."""

    def bar(path: PathLike) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        name = str(path)
        return lambda done, total: progress(name, done, total)

    kwargs: dict[str, Any] = {"column_map": dict(column_map or {}), "strict": strict}
    return Inputs(
        events=read_events(events, progress=bar(events), **kwargs),
        deals=read_deals(deals, progress=bar(deals), **kwargs) if deals else None,
        spend=read_spend(spend, progress=bar(spend), **kwargs) if spend else None,
    )


def resolve_funnel(log: EventLog, funnel: Funnel | PathLike | None) -> Funnel:
    """The funnel to audit with: the one given, else a built-in template that fits the data's
    stage names, else one inferred from the order of events (``funnel.origin`` says which)."""
    if isinstance(funnel, Funnel):
        return funnel
    if funnel is not None:
        return load_funnel(funnel)
    template = choose_template(log.stage_name_counts())
    if template is not None:
        return template
    return infer_funnel(log.stage_name_stats())


def _parse_as_of(as_of: datetime | date | str | None) -> datetime | None:
    if as_of is None or isinstance(as_of, datetime):
        return as_of
    if isinstance(as_of, date):
        return datetime(as_of.year, as_of.month, as_of.day)
    try:
        return datetime.fromisoformat(as_of)
    except ValueError:
        raise UsageError(
            f"--as-of {as_of!r} is not a date", expected="an ISO date such as 2025-06-30"
        ) from None


def load(
    events: PathLike,
    *,
    deals: PathLike | None = None,
    funnel: Funnel | PathLike | None = None,
    column_map: Mapping[str, str] | None = None,
    strict: bool = False,
    as_of: datetime | date | str | None = None,
    backend: Any = None,
    progress: Progress | None = None,
) -> EventLog:
    """Read an export and put it on the engine (DuckDB in memory unless ``backend`` is an Ibis
    connection), with its stages mapped to the funnel (given, a fitting template, or inferred)."""
    inputs = read_inputs(events, deals=deals, column_map=column_map, strict=strict,
                         progress=progress)
    return _log_from_inputs(inputs, funnel, as_of=_parse_as_of(as_of), backend=backend)


def _log_from_inputs(
    inputs: Inputs, funnel: Funnel | PathLike | None, *, as_of: datetime | None, backend: Any
) -> EventLog:
    log = EventLog.build(
        inputs.events.table,
        inputs.deals.table if inputs.deals is not None else None,
        backend=backend,
        as_of=as_of,
    )
    return log.with_funnel(resolve_funnel(log, funnel))


def audit(
    events: PathLike,
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
) -> AuditResult:
    """Audit an export: read the files, aggregate in the engine, compute every section.

    Returns the :class:`~voronka.audit.AuditResult`; ``result.to_dict()`` is the JSON contract.
    """
    if plan is not None and plan_revenue is not None:
        raise UsageError("give either --plan or --plan-revenue, not both")
    inputs = read_inputs(events, deals=deals, spend=spend, column_map=column_map, strict=strict,
                         progress=progress)
    log = _log_from_inputs(inputs, funnel, as_of=_parse_as_of(as_of), backend=backend)
    options = AuditOptions(
        by=tuple(by) if by else None,
        plan=plan,
        plan_revenue=plan_revenue,
        plan_from=plan_from,
        plan_until=plan_until,
        language=lang,
        seed=seed,
    )
    return run_audit(log, inputs.reads, options=options)
