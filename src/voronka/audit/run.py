"""One audit run: every section computed from the engine's aggregates."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from voronka.audit.anomalies import build_anomalies
from voronka.audit.entry import build_entry_criteria
from voronka.audit.funnel_section import build_funnel_report
from voronka.audit.leaks import build_leaks
from voronka.audit.maturity import build_maturity
from voronka.audit.options import AuditOptions
from voronka.audit.quality_section import build_data_quality
from voronka.audit.pileups import build_pileups
from voronka.audit.result import AuditResult
from voronka.audit.sources import build_sources
from voronka.audit.statuses import build_statuses
from voronka.audit.stuck import build_stuck
from voronka.engine import EventLog
from voronka.i18n import normalize_language
from voronka.io import ReadResult


def run_audit(
    log: EventLog,
    reads: Mapping[str, ReadResult],
    *,
    options: AuditOptions | None = None,
    notes: Sequence[str] = (),
) -> AuditResult:
    """Compute the audit of ``log`` (an event log with its funnel) and the reads that made it:
    ``{"events": …, "deals": …, "spend": …}`` (deals and spend only when given). ``notes``:
    message keys of what the inputs cannot give (``voronka.io.inputs.InputSet.limitations``),
    added to ``data_quality.notes``."""
    options = options or AuditOptions()
    funnel = log.funnel
    lang = normalize_language(options.language or funnel.language)
    funnel_report = build_funnel_report(
        funnel, log.reach(), log.outcomes(), log.time_in_stage(), lang=lang
    )
    quality = build_data_quality(reads, log)
    if notes:
        quality = dataclasses.replace(quality, notes=(*quality.notes, *notes))
    statuses = build_statuses(funnel, lang)
    maturity = build_maturity(log)
    spend = reads.get("spend")
    return AuditResult(
        as_of=log.as_of,
        funnel=funnel_report,
        data_quality=quality,
        leaks=build_leaks(log, by=options.by, maturity=maturity, lang=lang),
        anomalies=build_anomalies(log, by=options.by, maturity=maturity, seed=options.seed),
        sources=build_sources(log, spend.table if spend is not None else None, seed=options.seed),
        statuses=statuses,
        stuck=build_stuck(log, lang),
        pileups=build_pileups(log, statuses),
        entry_criteria=build_entry_criteria(log),
        language=lang,
        maturity=maturity,
    )
