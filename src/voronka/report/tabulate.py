"""The tables of every section: typed columns and raw values taken from the audit result as is.

Each format formats a cell by its column's kind (:mod:`voronka.report.tables`); nothing is computed
here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from voronka.i18n import has, t
from voronka.io.result import derived_from
from voronka.report.format import (
    format_date,
    format_deals,
    format_int,
    format_money,
    format_number,
    format_percent,
    shown_deals,
)
from voronka.report.names import Labels
from voronka.report.tables import Column, Kind, Shown, Table, format_cell

if TYPE_CHECKING:
    from voronka.audit import AuditResult


def _table(name: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> Table:
    return Table(name, tuple(columns), tuple(tuple(r) for r in rows))


@dataclass(frozen=True)
class _Col:
    """A column with the function that takes its value from one item of the section."""

    column: Column
    get: Callable[[Any], Any]


def _col(key: str, kind: Kind = "text", get: Callable[[Any], Any] | None = None) -> _Col:
    """A column ``key`` of ``kind``; its value is the item's attribute ``key`` unless ``get``."""
    return _Col(Column(key, kind), get or attrgetter(key))


def _optional(key: str) -> Callable[[Any], Any]:
    """The item's attribute ``key``, None on a result written before the field existed."""
    return lambda item: getattr(item, key, None)


def _table_of(name: str, items: Iterable[Any], cols: Sequence[_Col]) -> Table:
    """One row per item, one cell per column (the column beside the value it shows)."""
    rows = tuple(tuple(c.get(item) for c in cols) for item in items)
    return Table(name, tuple(c.column for c in cols), rows)


def funnel_table(result: AuditResult, labels: Labels) -> Table:
    """Stages in funnel order: reach, conversion (open deals accounted for) with interval, the raw
    rate and the share of young open deals beside it, time in stage, open and lost."""
    return _table_of("funnel", result.funnel.stages, [
        _col("stage", get=lambda s: labels.stage(s.id)),
        _col("reached", "int"),
        _col("conversion", "percent"),
        _col("conversion_ci", "interval"),
        _col("raw_conversion", "percent"),
        _col("immature_share", "percent"),
        _col("median_days", "days"),
        _col("p90_days", "days"),
        _col("open", "int"),
        _col("lost_here", "int"),
    ])


def leaks_table(result: AuditResult, labels: Labels) -> Table:
    """Every leak in the audit's order: stage rows, each followed by its segment rows (marked
    "↳", nested, never added to it). Money is the one price; ``dropped`` is the method's view."""
    lang = labels.lang

    def money_range(lk: Any) -> str | None:
        ci = lk.lost_revenue_ci
        return None if ci is None else f"{format_money(ci[0], lang)} – {format_money(ci[1], lang)}"

    return _table_of("leaks", result.leaks, [
        _col("step", get=lambda lk: labels.step(lk.stage, lk.next_stage)
             if lk.segment is None else "↳"),
        _col("segment", get=lambda lk: labels.segment(lk.segment)),
        _col("n", "int", get=lambda lk: lk.n or None),
        _col("conversion", "percent"),
        _col("raw_conversion", "percent"),
        _col("expected", "percent"),
        _col("target_source", get=lambda lk: _target(lk.target_source, lk.capped, lang)),
        _col("lost_deals", "shown", get=lambda lk: Shown(
            format_deals(lk.lost_deals, lang), shown_deals(lk.lost_deals),
            "int" if shown_deals(lk.lost_deals).is_integer() else "number")),
        _col("lost_revenue", "money"),
        _col("lost_revenue_ci", "text", get=money_range),
        _col("dropped", "int", get=lambda lk: None if lk.dropped is None else round(lk.dropped)),
        _col("dropped_revenue", "money"),
        _col("cause", get=lambda lk: t(f"report.cause.{lk.cause}", lang) if lk.cause else None),
        _col("significant", "bool"),
    ])


def _target(source: str | None, capped: bool, lang: str) -> str | None:
    if not source:
        return None
    return t("report.target.peers_capped" if capped else f"report.target.{source}", lang)


def anomalies_table(result: AuditResult, labels: Labels) -> Table:
    """Every anomaly; conversion levels as percentages, volume levels as numbers."""
    lang = labels.lang

    def level(which: str) -> Callable[[Any], Shown]:
        def shown(a: Any) -> Shown:
            kind: Kind = "number" if a.kind == "volume" or a.next_stage is None else "percent"
            value = getattr(a, which)
            return Shown(format_cell(value, kind, lang), value, kind)

        return shown

    return _table_of("anomalies", result.anomalies, [
        _col("step", get=lambda a: labels.step(a.stage, a.next_stage)),
        _col("segment", get=lambda a: labels.segment(a.segment)),
        _col("direction", get=lambda a: t(
            f"report.direction.{'up' if a.direction == 'up' else 'down'}", lang)),
        _col("since", "date"),
        _col("before", "shown", get=level("before")),
        _col("after", "shown", get=level("after")),
        _col("q_value", "q"),
        _col("significant", "bool"),
    ])


def lost_reasons_table(result: AuditResult, labels: Labels) -> Table:
    """Lost reasons per stage where deals were lost: deals, share, recent vs before, change."""
    none = t("report.lost_reason.none", labels.lang)
    return _table_of("lost_reasons", result.lost_reasons, [
        _col("stage", get=lambda r: labels.stage(r.stage) if r.stage else none),
        _col("lost_reason", get=lambda r: r.reason if r.reason is not None else none),
        _col("lost_deals_count", "int", get=attrgetter("deals")),
        _col("share", "percent"),
        _col("share_before", "percent"),
        _col("share_recent", "percent"),
        _col("q_value", "q"),
        _col("significant", "bool"),
    ])


_ECONOMICS: tuple[tuple[str, Kind], ...] = (
    ("leads", "int"), ("spend", "money"), ("cpl", "money"), ("won", "int"),
    ("win_rate", "percent"), ("revenue", "money"), ("cac", "money"), ("romi", "romi"),
)
"""The columns a source and a campaign share, in order."""


def _of_campaign(key: str) -> Callable[[Any], Any]:
    return lambda source_campaign: getattr(source_campaign[1], key)


def campaigns_table(result: AuditResult, labels: Labels) -> Table:
    """Per-campaign economics of the sources whose deals name campaigns."""
    pairs = [(s, c) for s in result.sources for c in s.campaigns]
    return _table_of("campaigns", pairs, [
        _col("source", get=lambda sc: sc[0].source),
        _col("campaign", get=lambda sc: sc[1].campaign),
        *(_col(key, kind, get=_of_campaign(key)) for key, kind in _ECONOMICS),
    ])


def sources_table(result: AuditResult, labels: Labels) -> Table:
    """Traffic-source economics, in the audit's rank (by ``romi_low``, shown last)."""
    return _table_of("sources", result.sources, [
        _col("source"),
        *(_col(key, kind) for key, kind in _ECONOMICS),
        _col("open_share", "percent"),
        _col("final_win_rate", "percent"),
        _col("final_romi", "romi"),
        _col("romi_low", "romi"),
    ])


def statuses_table(result: AuditResult, labels: Labels) -> Table:
    """The verdict on each stage name."""

    def verdict(v: Any) -> str:
        key = f"report.verdict.{v.verdict}"
        return t(key, labels.lang) if has(key) else str(v.verdict)

    return _table_of("statuses", result.statuses, [
        _col("name"), _col("verdict", get=verdict), _col("reason"), _col("suggestion"),
    ])


def stuck_stages_table(result: AuditResult, labels: Labels) -> Table:
    """Stuck-deal counts per stage."""
    return _table_of("stuck", result.stuck.stages, [
        _col("stage", get=lambda s: labels.stage(s.stage)),
        _col("open", "int"),
        _col("stuck", "int"),
        _col("max_days", "days"),
    ])


def stuck_managers_table(result: AuditResult, labels: Labels) -> Table:
    """Open and stuck deals per manager, the most stuck first."""
    blank = t("report.segment.blank", labels.lang)
    managers = sorted(result.stuck.by_manager, key=lambda m: -m.stuck)
    return _table_of("stuck_managers", managers, [
        _col("manager", get=lambda m: m.manager if m.manager is not None else blank),
        _col("open", "int"),
        _col("stuck", "int"),
    ])


def stuck_deals_table(result: AuditResult, labels: Labels) -> Table:
    """The worst stuck deals with what to do next."""
    return _table_of("stuck_deals", result.stuck.deals, [
        _col("deal_id"),
        _col("stage", get=lambda d: labels.stage(d.stage)),
        _col("days", "days"),
        _col("manager"),
        _col("key_task", get=lambda d: labels.key_tasks.get(d.stage) or d.key_task),
    ])


def pileups_table(result: AuditResult, labels: Labels) -> Table:
    """Open deals, throughput and queue length per stage."""
    return _table_of("pileups", result.pileups, [
        _col("stage", get=lambda p: labels.stage(p.stage)),
        _col("open", "int"),
        _col("weekly_throughput", "number"),
        _col("residence_days", "days"),
    ])


def entry_table(result: AuditResult, labels: Labels) -> Table:
    """Entry-criteria violations per stage."""
    lang = labels.lang
    return _table_of("entry_criteria", result.entry_criteria, [
        _col("stage", get=lambda e: labels.stage(e.stage)),
        _col("violations", "int"),
        _col("fields", get=lambda e: ", ".join(
            f"{name}: {format_int(n, lang)}" for name, n in e.by_field.items())),
    ])


def key_stage_table(result: AuditResult, labels: Labels) -> Table:
    """The key-stage ranking with its evidence: the share of the cohorts' wins each stage explains
    and the wins a deal reaching it brings."""
    return _table_of("key_stage", result.key_stage.ranking if result.key_stage else (), [
        _col("stage", get=lambda r: labels.stage(r.stage) if r.candidate else t(
            "report.key_stage.not_candidate", labels.lang, stage=labels.stage(r.stage))),
        _col("score", "q"),
        _col("explained", "percent", get=_optional("explained")),
        _col("downstream_rate", "q", get=_optional("downstream_rate")),
    ])


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
    return _table_of("backtest", result.forecast.backtest if result.forecast else (), [
        _col("month", "date"),
        _col("expected", "number"),
        _col("p10", "number"),
        _col("p90", "number"),
        _col("actual", "int"),
        _col("inside", "bool"),
        _col("p_plan", "percent", get=_optional("p_plan")),
    ])


def reverse_table(result: AuditResult, labels: Labels) -> Table:
    """Deals each stage needs for the plan: in the period, and still by when, beside what the
    pipeline holds now and the usual monthly flow (every number labelled with what it is)."""
    return _table_of("reverse_funnel", result.reverse_funnel or (), [
        _col("stage", get=lambda r: labels.stage(r.stage)),
        _col("needed", "int"),
        _col("current_flow", "int", get=attrgetter("current")),
        _col("shortfall", "int", get=lambda r: r.shortfall
             if r.shortfall is not None and r.shortfall > 0 else None),
        _col("still_needed", "int", get=_optional("still_needed")),
        _col("needed_by", "date", get=_optional("needed_by")),
        _col("in_pipeline", "int", get=_optional("in_pipeline")),
        _col("pipeline_wins", "number", get=_optional("pipeline_wins")),
        _col("monthly_flow", "int", get=_optional("monthly_flow")),
    ])


def files_table(result: AuditResult, labels: Labels) -> Table:
    """Rows read, used and rejected per input file."""
    dq = result.data_quality
    return _table_of("files", dq.rows_read.items(), [
        _col("file", get=lambda fn: shown_file(fn[0], labels.lang)),
        _col("rows_read", "int", get=lambda fn: fn[1]),
        _col("rows_used", "int", get=lambda fn: dq.rows_used.get(fn[0])),
        _col("rows_rejected", "int", get=lambda fn: dq.rows_rejected.get(fn[0])),
    ])


def shown_file(name: str | None, lang: str | None = None) -> str | None:
    """An input file as a report names it: its name without the folders (a report is sent on,
    and the reader's folders are neither theirs to see nor room in a table; the JSON keeps the
    path). The events a layout made from a file (:func:`voronka.io.result.derived_events_name`)
    are named in words when ``lang`` is given."""
    if not name:
        return name
    base = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or name
    source = derived_from(base) if lang is not None else None
    if source is not None:
        return t("report.file.derived_events", lang, file=source)
    return base


def issue_kind(kind: str, lang: str) -> str:
    """A data-quality issue code in words (the code itself when the catalogue lacks it)."""
    key = f"report.quality.kind.{kind}"
    return t(key, lang) if has(key) else kind


def issues_table(result: AuditResult, labels: Labels) -> Table:
    """Data-quality issues by kind."""
    return _table_of("issues", result.data_quality.issues, [
        _col("kind", get=lambda i: issue_kind(i.kind, labels.lang)),
        _col("file", get=lambda i: shown_file(i.file, labels.lang)),
        _col("count", "int"),
        _col("excluded", "bool"),
        _col("examples", get=lambda i: ", ".join(i.examples)),
    ])
