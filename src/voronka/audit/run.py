"""One audit run: every section computed from the engine's aggregates."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from voronka.audit.anomalies import build_anomalies, build_conversion_series
from voronka.audit.backtest import build_forecast
from voronka.audit.censored import step_rates
from voronka.audit.entry import build_entry_criteria
from voronka.audit.funnel_section import build_funnel_report
from voronka.audit.key_stage import build_key_stage
from voronka.audit.leaks import build_leaks
from voronka.audit.lost_reasons import build_lost_reasons
from voronka.audit.maturity import build_maturity
from voronka.audit.options import AuditOptions
from voronka.audit.pileups import build_pileups
from voronka.audit.quality_section import build_data_quality
from voronka.audit.result import AuditResult
from voronka.audit.reverse import build_reverse_funnel
from voronka.audit.sources import build_sources
from voronka.audit.statuses import build_statuses
from voronka.audit.stuck import build_stuck
from voronka.audit.what_if import leak_what_ifs
from voronka.engine import EventLog, ReadResult, spend_totals
from voronka.i18n import normalize_language


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
    funnel = log.require_funnel()
    lang = normalize_language(options.language or funnel.language)
    maturity = build_maturity(log)
    rates = step_rates(log, maturity)[None]
    funnel_report = build_funnel_report(
        funnel, log.reach(), log.outcomes(), log.time_in_stage(), lang=lang,
        censored=rates.steps,
    )
    quality = build_data_quality(reads, log, lang)
    if notes:
        quality = dataclasses.replace(quality, notes=(*quality.notes, *notes))
    statuses = build_statuses(funnel, lang)
    spend = reads.get("spend")
    spend_table = spend_totals(spend.table) if spend is not None else None  # summed by the engine
    forecast = build_forecast(
        log, funnel, plan=options.plan, plan_revenue=options.plan_revenue,
        period_start=options.plan_from, period_end=options.plan_until, seed=options.seed,
    )
    reverse = None
    if options.plan is not None or options.plan_revenue is not None:
        reverse = build_reverse_funnel(
            log, funnel, plan=options.plan, plan_revenue=options.plan_revenue,
            period_start=forecast.period_start, period_end=forecast.period_end,
            maturity=maturity, spend=spend_table,
        )
    leaks = build_leaks(log, by=options.by, maturity=maturity, lang=lang)
    line_ids = tuple(s.id for s in funnel.line)
    return AuditResult(
        as_of=log.as_of,
        funnel=funnel_report,
        data_quality=quality,
        leaks=leaks,
        anomalies=build_anomalies(log, by=options.by, maturity=maturity, seed=options.seed),
        sources=build_sources(log, spend_table, seed=options.seed),
        statuses=statuses,
        stuck=build_stuck(log, lang),
        pileups=build_pileups(log, statuses),
        entry_criteria=build_entry_criteria(log),
        key_stage=build_key_stage(log, funnel, maturity=maturity),
        forecast=forecast,
        reverse_funnel=reverse.rows if reverse is not None else None,
        language=lang,
        maturity=maturity,
        reverse_funnel_detail=reverse,
        series=build_conversion_series(log, maturity=maturity),
        lost_reasons=build_lost_reasons(log),
        what_if=leak_what_ifs(forecast, leaks, line_ids),
    )
