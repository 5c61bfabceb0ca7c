"""One audit run: every section computed from the engine's aggregates.

``run_audit`` computes every section by default (the CLI, the API). The web app may ask for some
sections first and the rest later (``sections=``): a filtered re-audit of the funnel, data
quality, leaks and the lists of stuck deals is a fraction of the whole audit, because the
forecast's 12-month backtest, the anomaly scans and the key-stage bootstrap rerun their
statistics on every filter (bench/README.md, "Filtered re-audit").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence

from voronka.audit.anomalies import build_anomalies, build_conversion_series
from voronka.audit.backtest import build_forecast
from voronka.audit.censored import step_rates
from voronka.audit.entry import build_entry_criteria
from voronka.audit.funnel_section import build_funnel_report
from voronka.audit.history import filtered_history_note, short_history_note
from voronka.audit.key_stage import build_key_stage
from voronka.audit.lead_gap import lead_gap_note, lead_stop
from voronka.audit.leak_segments import strata_columns
from voronka.audit.leaks import build_leaks, default_breakdowns
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
from voronka.engine import (
    EventLog,
    ReadResult,
    deal_counts,
    prefetch_outcomes_and_months,
    spend_totals,
)
from voronka.i18n import normalize_language

SECTIONS = (
    "leaks",
    "anomalies",
    "sources",
    "statuses",
    "stuck",
    "pileups",
    "entry_criteria",
    "key_stage",
    "forecast",
    "reverse_funnel",
    "series",
    "lost_reasons",
    "what_if",
)
"""The sections ``run_audit(sections=…)`` may leave out: the fields of :class:`AuditResult` besides
``funnel``, ``data_quality`` and ``maturity``, which every run computes."""

FIRST_SCREEN = ("leaks", "statuses", "stuck", "pileups", "entry_criteria")
"""The sections a filtered re-audit can give fast (no Monte Carlo, no scans over periods)."""

_NEEDS = {"reverse_funnel": ("forecast",), "what_if": ("forecast", "leaks"), "pileups": ("statuses",)}


def _wanted(sections: Collection[str] | None) -> frozenset[str]:
    if sections is None:
        return frozenset(SECTIONS)
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown audit section {unknown[0]!r}: one of {', '.join(SECTIONS)}")
    wanted = set(sections)
    for name in list(wanted):
        wanted.update(_NEEDS.get(name, ()))
    return frozenset(wanted)


def run_audit(
    log: EventLog,
    reads: Mapping[str, ReadResult],
    *,
    options: AuditOptions | None = None,
    notes: Sequence[str] = (),
    sections: Collection[str] | None = None,
) -> AuditResult:
    """Compute the audit of ``log`` (an event log with its funnel) and the reads that made it:
    ``{"events": …, "deals": …, "spend": …}`` (deals and spend only when given). ``notes``:
    message keys of what the inputs cannot give (``voronka.io.inputs.InputSet.limitations``),
    added to ``data_quality.notes``.

    ``sections``: the names of :data:`SECTIONS` to compute (default: all, what the CLI and the
    JSON contract give); the funnel, data quality and maturity are always computed, and a section
    brings what it is derived from (``what_if`` the forecast and the leaks). A section not asked
    for keeps its empty default in the result (``()`` or None) — the caller that asked for a part
    must not read the rest as "nothing found". Every computed section is exactly what the whole
    audit gives.
    """
    options = options or AuditOptions()
    wanted = _wanted(sections)
    funnel = log.require_funnel()
    lang = normalize_language(options.language or funnel.language)
    maturity = build_maturity(log)
    # The leaks' breakdowns ride along the funnel-wide rates' engine queries.
    breakdowns = () if "leaks" not in wanted else (
        default_breakdowns(log) if options.by is None else tuple(options.by)
    )
    if breakdowns:
        # The step outcomes (the rates below, the leaks' segments), the leaks' mature months and
        # the anomalies' weekly cohorts of the same breakdowns: one join of the transitions with
        # the deal summary.
        settled = maturity.horizons(settled=True) if wanted & {"anomalies", "series"} else None
        prefetch_outcomes_and_months(
            log, [None, *breakdowns], maturity.horizons(), [[], *strata_columns(log, breakdowns)],
            cohorts=settled,
        )
    if "sources" in wanted and "source" in log.deal_columns():
        # The sources' deal counts (per source, per source × campaign) ride along the rates'.
        lists = [[b] for b in breakdowns]
        lists += [["source"]] + ([["source", "campaign"]] if "campaign" in log.deal_columns() else [])
        deal_counts(log, [], alongside=lists)
    rates = step_rates(log, maturity, alongside=breakdowns)[None]
    funnel_report = build_funnel_report(
        funnel, log.reach(), log.outcomes(), log.time_in_stage(), lang=lang,
        censored=rates.steps,
    )
    quality = build_data_quality(reads, log, lang)
    if notes:
        quality = dataclasses.replace(quality, notes=(*quality.notes, *notes))
    parts: dict[str, object] = {}
    statuses = build_statuses(funnel, lang) if "statuses" in wanted else ()
    if "statuses" in wanted:
        parts["statuses"] = statuses
    spend = reads.get("spend")
    # Summed by the engine; only the sources and the reverse funnel (after the forecast) read it.
    spend_table = (
        spend_totals(spend.table)
        if spend is not None and wanted & {"sources", "forecast"}
        else None
    )
    forecast = None
    no_forecast = (
        filtered_history_note(log, options.plan_from) or short_history_note(log)
        if "forecast" in wanted else None
    )
    if no_forecast is not None:
        quality = dataclasses.replace(quality, notes=(*quality.notes, no_forecast))
    if "forecast" in wanted and no_forecast is None:
        forecast = build_forecast(
            log, funnel, plan=options.plan, plan_revenue=options.plan_revenue,
            period_start=options.plan_from, period_end=options.plan_until, seed=options.seed,
        )
        parts["forecast"] = forecast
    if forecast is not None and (options.plan is not None or options.plan_revenue is not None):
        reverse = build_reverse_funnel(
            log, funnel, plan=options.plan, plan_revenue=options.plan_revenue,
            period_start=forecast.period_start, period_end=forecast.period_end,
            maturity=maturity, spend=spend_table,
        )
        parts["reverse_funnel"] = reverse.rows if reverse is not None else None
        parts["reverse_funnel_detail"] = reverse
    leaks = None
    if "leaks" in wanted:
        leaks = build_leaks(log, by=options.by, maturity=maturity, lang=lang)
        parts["leaks"] = leaks
    if "anomalies" in wanted:
        # New deals that stopped reaching the data end its lead volumes (a cut export).
        stop = lead_stop(log)
        parts["anomalies"] = build_anomalies(
            log, by=options.by, maturity=maturity, seed=options.seed, leads_until=stop
        )
        gap = lead_gap_note(log, stop)
        if gap is not None:
            quality = dataclasses.replace(quality, notes=(*quality.notes, gap))
    if "sources" in wanted:
        parts["sources"] = build_sources(log, spend_table, seed=options.seed)
    if "stuck" in wanted:
        parts["stuck"] = build_stuck(log, lang)
    if "pileups" in wanted:
        parts["pileups"] = build_pileups(log, statuses)
    if "entry_criteria" in wanted:
        parts["entry_criteria"] = build_entry_criteria(log)
    if "key_stage" in wanted:
        parts["key_stage"] = build_key_stage(log, funnel, maturity=maturity)
    if "series" in wanted:
        parts["series"] = build_conversion_series(log, maturity=maturity)
    if "lost_reasons" in wanted:
        parts["lost_reasons"] = build_lost_reasons(log)
    if "what_if" in wanted and forecast is not None and leaks is not None:
        parts["what_if"] = leak_what_ifs(forecast, leaks, tuple(s.id for s in funnel.line))
    return AuditResult(
        as_of=log.as_of,
        funnel=funnel_report,
        data_quality=quality,
        language=lang,
        maturity=maturity,
        **parts,  # type: ignore[arg-type]
    )
