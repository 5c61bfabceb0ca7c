"""The tables of every section: typed columns and raw values taken from the audit result as is.

Each format formats a cell by its column's kind (:mod:`voronka.report.tables`); nothing is computed
here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from voronka.i18n import has, t
from voronka.report.format import (
    format_date,
    format_int,
    format_money,
    format_number,
    format_percent,
)
from voronka.report.names import Labels
from voronka.report.tables import Column, Kind, Shown, Table, format_cell

if TYPE_CHECKING:
    from voronka.audit import AuditResult


def _table(name: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> Table:
    return Table(name, tuple(columns), tuple(tuple(r) for r in rows))


def funnel_table(result: AuditResult, labels: Labels) -> Table:
    """Stages in funnel order: reach, conversion (open deals accounted for) with interval, the raw
    rate and the share of young open deals beside it, time in stage, open and lost."""
    cols = [
        Column("stage"),
        Column("reached", "int"),
        Column("conversion", "percent"),
        Column("conversion_ci", "interval"),
        Column("raw_conversion", "percent"),
        Column("immature_share", "percent"),
        Column("median_days", "days"),
        Column("p90_days", "days"),
        Column("open", "int"),
        Column("lost_here", "int"),
    ]
    rows = [
        (
            labels.stage(s.id),
            s.reached,
            s.conversion,
            s.conversion_ci,
            s.raw_conversion,
            s.immature_share,
            s.median_days,
            s.p90_days,
            s.open,
            s.lost_here,
        )
        for s in result.funnel.stages
    ]
    return _table("funnel", cols, rows)


def leaks_table(result: AuditResult, labels: Labels) -> Table:
    """Every leak in the audit's order: stage rows, each followed by its segment rows (marked
    "↳", nested, never added to it). Money is the one price; ``dropped`` is the method's view."""
    cols = [
        Column("step"),
        Column("segment"),
        Column("n", "int"),
        Column("conversion", "percent"),
        Column("raw_conversion", "percent"),
        Column("expected", "percent"),
        Column("target_source"),
        Column("lost_deals", "int"),
        Column("lost_revenue", "money"),
        Column("lost_revenue_ci", "text"),
        Column("dropped", "int"),
        Column("dropped_revenue", "money"),
        Column("cause"),
        Column("significant", "bool"),
    ]
    lang = labels.lang
    rows = []
    for lk in result.leaks:
        ci = lk.lost_revenue_ci
        rows.append(
            (
                labels.step(lk.stage, lk.next_stage) if lk.segment is None else "↳",
                labels.segment(lk.segment),
                lk.n or None,
                lk.conversion,
                lk.raw_conversion,
                lk.expected,
                _target(lk.target_source, lk.capped, lang),
                round(lk.lost_deals),
                lk.lost_revenue,
                None if ci is None else f"{format_money(ci[0], lang)} – {format_money(ci[1], lang)}",
                None if lk.dropped is None else round(lk.dropped),
                lk.dropped_revenue,
                t(f"report.cause.{lk.cause}", lang) if lk.cause else None,
                lk.significant,
            )
        )
    return _table("leaks", cols, rows)


def _target(source: str | None, capped: bool, lang: str) -> str | None:
    if not source:
        return None
    return t("report.target.peers_capped" if capped else f"report.target.{source}", lang)


def anomalies_table(result: AuditResult, labels: Labels) -> Table:
    """Every anomaly; conversion levels as percentages, volume levels as numbers."""
    cols = [
        Column("step"),
        Column("segment"),
        Column("direction"),
        Column("since", "date"),
        Column("before", "shown"),
        Column("after", "shown"),
        Column("q_value", "q"),
        Column("significant", "bool"),
    ]
    rows = []
    for a in result.anomalies:
        volume = a.kind == "volume" or a.next_stage is None
        kind: Kind = "number" if volume else "percent"
        rows.append(
            (
                labels.step(a.stage, a.next_stage),
                labels.segment(a.segment),
                t(f"report.direction.{'up' if a.direction == 'up' else 'down'}", labels.lang),
                a.since,
                Shown(format_cell(a.before, kind, labels.lang), a.before, kind),
                Shown(format_cell(a.after, kind, labels.lang), a.after, kind),
                a.q_value,
                a.significant,
            )
        )
    return _table("anomalies", cols, rows)


def lost_reasons_table(result: AuditResult, labels: Labels) -> Table:
    """Lost reasons per stage where deals were lost: deals, share, recent vs before, change."""
    cols = [
        Column("stage"),
        Column("lost_reason"),
        Column("lost_deals_count", "int"),
        Column("share", "percent"),
        Column("share_before", "percent"),
        Column("share_recent", "percent"),
        Column("q_value", "q"),
        Column("significant", "bool"),
    ]
    none = t("report.lost_reason.none", labels.lang)
    rows = [
        (
            labels.stage(r.stage) if r.stage else none,
            r.reason if r.reason is not None else none,
            r.deals,
            r.share,
            r.share_before,
            r.share_recent,
            r.q_value,
            r.significant,
        )
        for r in result.lost_reasons
    ]
    return _table("lost_reasons", cols, rows)


def campaigns_table(result: AuditResult, labels: Labels) -> Table:
    """Per-campaign economics of the sources whose deals name campaigns."""
    cols = [
        Column("source"),
        Column("campaign"),
        Column("leads", "int"),
        Column("spend", "money"),
        Column("cpl", "money"),
        Column("won", "int"),
        Column("win_rate", "percent"),
        Column("revenue", "money"),
        Column("cac", "money"),
        Column("romi", "romi"),
    ]
    rows = [
        (s.source, c.campaign, c.leads, c.spend, c.cpl, c.won, c.win_rate, c.revenue, c.cac, c.romi)
        for s in result.sources
        for c in s.campaigns
    ]
    return _table("campaigns", cols, rows)


def sources_table(result: AuditResult, labels: Labels) -> Table:
    """Traffic-source economics, in the audit's rank (by ``romi_low``, shown last)."""
    cols = [
        Column("source"),
        Column("leads", "int"),
        Column("spend", "money"),
        Column("cpl", "money"),
        Column("won", "int"),
        Column("win_rate", "percent"),
        Column("revenue", "money"),
        Column("cac", "money"),
        Column("romi", "romi"),
        Column("open_share", "percent"),
        Column("final_win_rate", "percent"),
        Column("final_romi", "romi"),
        Column("romi_low", "romi"),
    ]
    rows = [
        (
            s.source, s.leads, s.spend, s.cpl, s.won, s.win_rate, s.revenue, s.cac, s.romi,
            s.open_share, s.final_win_rate, s.final_romi, s.romi_low,
        )
        for s in result.sources
    ]
    return _table("sources", cols, rows)


def statuses_table(result: AuditResult, labels: Labels) -> Table:
    """The verdict on each stage name."""
    cols = [Column("name"), Column("verdict"), Column("reason"), Column("suggestion")]
    rows = []
    for v in result.statuses:
        key = f"report.verdict.{v.verdict}"
        verdict = t(key, labels.lang) if has(key) else v.verdict
        rows.append((v.name, verdict, v.reason, v.suggestion))
    return _table("statuses", cols, rows)


def stuck_stages_table(result: AuditResult, labels: Labels) -> Table:
    """Stuck-deal counts per stage."""
    cols = [
        Column("stage"),
        Column("open", "int"),
        Column("stuck", "int"),
        Column("max_days", "days"),
    ]
    rows = [(labels.stage(s.stage), s.open, s.stuck, s.max_days) for s in result.stuck.stages]
    return _table("stuck", cols, rows)


def stuck_managers_table(result: AuditResult, labels: Labels) -> Table:
    """Open and stuck deals per manager, the most stuck first."""
    cols = [Column("manager"), Column("open", "int"), Column("stuck", "int")]
    blank = t("report.segment.blank", labels.lang)
    rows = [
        (m.manager if m.manager is not None else blank, m.open, m.stuck)
        for m in sorted(result.stuck.by_manager, key=lambda m: -m.stuck)
    ]
    return _table("stuck_managers", cols, rows)


def stuck_deals_table(result: AuditResult, labels: Labels) -> Table:
    """The worst stuck deals with what to do next."""
    cols = [
        Column("deal_id"),
        Column("stage"),
        Column("days", "days"),
        Column("manager"),
        Column("key_task"),
    ]
    rows = [
        (
            d.deal_id,
            labels.stage(d.stage),
            d.days,
            d.manager,
            labels.key_tasks.get(d.stage) or d.key_task,
        )
        for d in result.stuck.deals
    ]
    return _table("stuck_deals", cols, rows)


def pileups_table(result: AuditResult, labels: Labels) -> Table:
    """Open deals, throughput and queue length per stage."""
    cols = [
        Column("stage"),
        Column("open", "int"),
        Column("weekly_throughput", "number"),
        Column("residence_days", "days"),
    ]
    rows = [
        (labels.stage(p.stage), p.open, p.weekly_throughput, p.residence_days)
        for p in result.pileups
    ]
    return _table("pileups", cols, rows)


def entry_table(result: AuditResult, labels: Labels) -> Table:
    """Entry-criteria violations per stage."""
    cols = [Column("stage"), Column("violations", "int"), Column("fields")]
    rows = [
        (
            labels.stage(e.stage),
            e.violations,
            ", ".join(f"{name}: {format_int(n, labels.lang)}" for name, n in e.by_field.items()),
        )
        for e in result.entry_criteria
    ]
    return _table("entry_criteria", cols, rows)


def key_stage_table(result: AuditResult, labels: Labels) -> Table:
    """The key-stage ranking with its evidence: the share of the cohorts' wins each stage explains
    and the wins a deal reaching it brings."""
    cols = [
        Column("stage"),
        Column("score", "q"),
        Column("explained", "percent"),
        Column("downstream_rate", "q"),
    ]
    ranking = result.key_stage.ranking if result.key_stage else ()
    return _table(
        "key_stage",
        cols,
        [
            (
                labels.stage(r.stage),
                r.score,
                getattr(r, "explained", None),
                getattr(r, "downstream_rate", None),
            )
            for r in ranking
        ],
    )


def forecast_table(result: AuditResult, labels: Labels) -> Table:
    """The forecast's measures as name–value rows."""
    fc = result.forecast
    cols = [Column("metric"), Column("value")]
    if fc is None:
        return _table("forecast", cols, [])
    lang = labels.lang
    rows = [
        (t("report.forecast.plan", lang), format_number(fc.plan, lang, 0)),
        (
            t("report.forecast.period", lang),
            f"{format_date(fc.period_start, lang)} — {format_date(fc.period_end, lang)}",
        ),
        (t("report.forecast.won_so_far", lang), format_int(fc.won_so_far, lang)),
        (t("report.forecast.expected", lang), format_number(fc.expected, lang, 1)),
        (t("report.forecast.p10", lang), format_number(fc.p10, lang, 0)),
        (t("report.forecast.p90", lang), format_number(fc.p90, lang, 0)),
        (t("report.forecast.p_plan", lang), format_percent(fc.p_plan, lang, 0)),
    ]
    revenue = fc.revenue
    if revenue is not None:
        rows += [
            (t("report.forecast.revenue_expected", lang), format_money(revenue.expected, lang)),
            (t("report.forecast.revenue_p10", lang), format_money(revenue.p10, lang)),
            (t("report.forecast.revenue_p90", lang), format_money(revenue.p90, lang)),
        ]
        if revenue.p_plan is not None:
            rows.append(
                (
                    t("report.forecast.revenue_p_plan", lang),
                    format_percent(revenue.p_plan, lang, 0),
                )
            )
    return _table("forecast", cols, rows)


def backtest_table(result: AuditResult, labels: Labels) -> Table:
    """Past months forecast from their middle against what happened."""
    cols = [
        Column("month", "date"),
        Column("expected", "number"),
        Column("p10", "number"),
        Column("p90", "number"),
        Column("actual", "int"),
        Column("inside", "bool"),
        Column("p_plan", "percent"),
    ]
    months = result.forecast.backtest if result.forecast else ()
    rows = [
        (m.month, m.expected, m.p10, m.p90, m.actual, m.inside, getattr(m, "p_plan", None))
        for m in months
    ]
    return _table("backtest", cols, rows)


def reverse_table(result: AuditResult, labels: Labels) -> Table:
    """Deals each stage needs for the plan: in the period, and still by when, beside what the
    pipeline holds now and the usual monthly flow (every number labelled with what it is)."""
    cols = [
        Column("stage"),
        Column("needed", "int"),
        Column("current_flow", "int"),
        Column("shortfall", "int"),
        Column("still_needed", "int"),
        Column("needed_by", "date"),
        Column("in_pipeline", "int"),
        Column("pipeline_wins", "number"),
        Column("monthly_flow", "int"),
    ]
    rows = [
        (
            labels.stage(r.stage),
            r.needed,
            r.current,
            r.shortfall if r.shortfall is not None and r.shortfall > 0 else None,
            getattr(r, "still_needed", None),
            getattr(r, "needed_by", None),
            getattr(r, "in_pipeline", None),
            getattr(r, "pipeline_wins", None),
            getattr(r, "monthly_flow", None),
        )
        for r in result.reverse_funnel or ()
    ]
    return _table("reverse_funnel", cols, rows)


def files_table(result: AuditResult, labels: Labels) -> Table:
    """Rows read, used and rejected per input file."""
    dq = result.data_quality
    cols = [
        Column("file"),
        Column("rows_read", "int"),
        Column("rows_used", "int"),
        Column("rows_rejected", "int"),
    ]
    rows = [(f, n, dq.rows_used.get(f), dq.rows_rejected.get(f)) for f, n in dq.rows_read.items()]
    return _table("files", cols, rows)


def issue_kind(kind: str, lang: str) -> str:
    """A data-quality issue code in words (the code itself when the catalogue lacks it)."""
    key = f"report.quality.kind.{kind}"
    return t(key, lang) if has(key) else kind


def issues_table(result: AuditResult, labels: Labels) -> Table:
    """Data-quality issues by kind."""
    cols = [
        Column("kind"),
        Column("file"),
        Column("count", "int"),
        Column("excluded", "bool"),
        Column("examples"),
    ]
    rows = [
        (
            issue_kind(i.kind, labels.lang),
            i.file,
            i.count,
            i.excluded,
            ", ".join(i.examples),
        )
        for i in result.data_quality.issues
    ]
    return _table("issues", cols, rows)
