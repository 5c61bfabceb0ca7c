"""The terminal's own layout of the report's sections (:mod:`voronka.report.text`): the funnel
with its bars, leaks with marks instead of a column, shifts as sentences, stuck deals, the
forecast and the reverse funnel — each a few compact tables or lines, or nothing to show."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from voronka.i18n import has, t
from voronka.report.findings import anomaly_rank_key
from voronka.report.format import (
    format_date,
    format_days,
    format_deals,
    format_int,
    format_interval,
    format_limit_days,
    format_number,
    format_percent,
    format_signed_percent,
)
from voronka.report.names import Labels
from voronka.report.tables import Table, format_cell
from voronka.report.tabulate import forecast_table
from voronka.report.text_blocks import (
    BAR_WIDTH,
    MAX_ROWS,
    Cell,
    Spec,
    compact_table,
    money,
    month,
    prose,
    wrap,
)
from voronka.report.words import anomaly_sentence, anomaly_series, reverse_sentence

if TYPE_CHECKING:
    from voronka.audit import AuditResult


def funnel_part(result: AuditResult, labels: Labels, wide: bool) -> RichTable:
    lang = labels.lang
    cols: list[Spec] = [
        (t("report.col.stage", lang), False),
        (t("report.col.reached", lang), True),
        (t("report.col.conversion", lang), True),
    ]
    if wide:
        cols.append(("", True))
    cols += [(t("report.col.conversion_ci", lang), True), (t("report.col.open", lang), True)]
    rows = []
    for s in result.funnel.stages:
        row: list[Cell] = [
            labels.stage(s.id),
            format_int(s.reached, lang),
            format_percent(s.conversion, lang),
        ]
        if wide:
            # The bar is only a picture of the conversion column (a fraction of the bar's width).
            cells = round(BAR_WIDTH * s.conversion) if s.conversion is not None else 0
            bar = "█" * cells + "░" * (BAR_WIDTH - cells) if s.conversion is not None else ""
            row.append(Text(bar, style="blue"))
        row += [format_interval(s.conversion_ci, lang), format_int(s.open, lang)]
        rows.append(row)
    return compact_table(t("report.section.funnel.title", lang), cols, rows, limit=None)


def leaks_part(result: AuditResult, labels: Labels, wide: bool) -> RichTable | None:
    if not result.leaks:
        return None
    lang = labels.lang
    cols: list[Spec] = [
        (t("report.col.step_segment", lang), False),
        (t("report.col.n", lang), True),
        (t("report.col.conversion", lang), True),
        (t("report.col.expected", lang), True),
        (t("report.col.lost_deals", lang), True),
        (t("report.col.lost_revenue", lang), True),
    ]
    rows = []
    for lk in result.leaks:
        # A mark instead of a "significant" column: at 80 columns the column would push the
        # table past the edge. Segment rows are nested under their stage row ("↳").
        mark = "✱ " if lk.significant else ""
        if lk.segment is None:
            what = mark + labels.step(lk.stage, lk.next_stage)
        else:
            what = f"  ↳ {mark}{labels.segment(lk.segment)}"
        rows.append(
            [
                what,
                format_int(lk.n, lang) if lk.n else None,
                format_percent(lk.conversion, lang),
                format_percent(lk.expected, lang),
                format_deals(lk.lost_deals, lang),
                money(lk.lost_revenue, lang, wide),
            ]
        )
    table = compact_table(t("report.section.leaks.title", lang), cols, rows, min_text=18)
    table.caption = Text(t("report.text.significant_mark", lang))
    table.caption_justify = "left"
    return table


def anomalies_parts(result: AuditResult, labels: Labels, width: int) -> list[RenderableType]:
    shifts = sorted((a for a in result.anomalies if a.significant), key=anomaly_rank_key)
    if not shifts:
        return []
    lang = labels.lang
    out: list[RenderableType] = [
        Text(t("report.section.anomalies.title", lang), style="bold"),
    ]
    for a in shifts[:MAX_ROWS]:
        mark = "▲" if a.direction == "up" else "▼"
        line = wrap(f"{mark} {anomaly_sentence(a, labels)}", width, "  ")
        text = Text(mark, style="green" if a.direction == "up" else "red")
        text.append(line[1:])
        out.append(text)
        series = anomaly_series(a, labels)
        if series is not None:
            spark, words = series
            out.append(Text("  " + spark, style="cyan", no_wrap=True, overflow="crop"))
            out.append(Text(wrap("  " + words, width, "  "), style="dim"))
    if len(shifts) > MAX_ROWS:
        out.append(
            Text(t("report.text.more", lang, count=format_int(len(shifts) - MAX_ROWS, lang)))
        )
    return [Group(*out), Text("")]


def sources_part(result: AuditResult, labels: Labels, wide: bool) -> RichTable | None:
    if not result.sources:
        return None
    lang = labels.lang
    cols: list[Spec] = [
        (t("report.col.source", lang), False),
        (t("report.col.leads", lang), True),
        (t("report.col.spend", lang), True),
        (t("report.col.won", lang), True),
        (t("report.col.revenue", lang), True),
        (t("report.col.cac", lang), True),
        (t("report.col.romi", lang), True),
    ]
    rows = [
        [
            s.source,
            format_int(s.leads, lang),
            money(s.spend, lang, wide),
            format_int(s.won, lang),
            money(s.revenue, lang, wide),
            money(s.cac, lang, wide),
            format_signed_percent(s.romi, lang),
        ]
        for s in result.sources
    ]
    return compact_table(t("report.section.sources.title", lang), cols, rows, min_text=12)


def plain_table(table: Table, key: str, labels: Labels, title: str | None = None) -> RichTable | None:
    """A section's table as it is (every column formatted by its kind), None when empty;
    titled by the section ``key`` unless ``title`` is given."""
    if not table.rows:
        return None
    lang = labels.lang
    cols: list[Spec] = [(c.header(lang), c.numeric) for c in table.columns]
    rows = [
        [format_cell(v, c.kind, lang) for v, c in zip(row, table.columns, strict=True)]
        for row in table.rows
    ]
    return compact_table(title or t(f"report.section.{key}.title", lang), cols, rows, min_text=12)


def statuses_part(result: AuditResult, labels: Labels) -> RichTable | None:
    """Only the stage names judged not a result: the terminal has no room for the good ones."""
    lang = labels.lang
    bad = [v for v in result.statuses if v.verdict != "result"]
    if not bad:
        return None
    cols: list[Spec] = [
        (t("report.col.name", lang), False),
        (t("report.col.verdict", lang), False),
        (t("report.col.suggestion", lang), False),
        (t("report.col.reason", lang), False),
    ]
    rows = []
    for v in bad:
        key = f"report.verdict.{v.verdict}"
        rows.append([v.name, t(key, lang) if has(key) else v.verdict, v.suggestion, v.reason])
    return compact_table(t("report.section.statuses.title", lang), cols, rows, min_text=10)


def stuck_parts(result: AuditResult, labels: Labels) -> list[RenderableType]:
    lang = labels.lang
    stuck = result.stuck
    stages = [s for s in stuck.stages if s.stuck > 0]
    if not stages:
        return []
    cols: list[Spec] = [
        (t("report.col.stage", lang), False),
        (t("report.col.open", lang), True),
        (t("report.col.stuck", lang), True),
        (t("report.col.max_days", lang), True),
        (t("report.col.key_task", lang), False),
    ]
    rows = [
        [
            labels.stage(s.stage),
            format_int(s.open, lang),
            format_int(s.stuck, lang),
            format_limit_days(s.max_days, lang),
            labels.key_tasks.get(s.stage) or _deal_task(result, s.stage),
        ]
        for s in stages
    ]
    out: list[RenderableType] = [compact_table(t("report.section.stuck.title", lang), cols, rows)]
    managers = sorted((m for m in stuck.by_manager if m.stuck > 0), key=lambda m: -m.stuck)
    if managers:
        out.append(
            compact_table(
                t("report.text.stuck_by_manager", lang),
                [
                    (t("report.dimension.manager", lang), False),
                    (t("report.col.open", lang), True),
                    (t("report.col.stuck", lang), True),
                ],
                [
                    [
                        m.manager or t("report.segment.blank", lang),
                        format_int(m.open, lang),
                        format_int(m.stuck, lang),
                    ]
                    for m in managers
                ],
            )
        )
    if stuck.deals:
        out.append(
            compact_table(
                t("report.text.stuck_worst", lang),
                [
                    (t("report.col.deal_id", lang), False),
                    (t("report.col.stage", lang), False),
                    (t("report.col.days", lang), True),
                    (t("report.dimension.manager", lang), False),
                ],
                [
                    [d.deal_id, labels.stage(d.stage), format_days(d.days, lang, 0), d.manager]
                    for d in stuck.deals
                ],
                min_text=10,
            )
        )
    return out


def _deal_task(result: AuditResult, stage: str) -> str | None:
    return next((d.key_task for d in result.stuck.deals if d.stage == stage and d.key_task), None)


def pileups_part(result: AuditResult, labels: Labels) -> RichTable | None:
    lang = labels.lang
    rows: list[list[Cell]] = [
        [
            Text(("⚠ " if p.flagged else "") + labels.stage(p.stage)),
            format_int(p.open, lang),
            format_number(p.weekly_throughput, lang, 1),
            format_days(p.residence_days, lang, 0),
        ]
        for p in sorted(
            (p for p in result.pileups if p.open > 0),
            key=lambda p: -(p.residence_days if p.residence_days is not None else 0.0),
        )
    ]
    if not rows:
        return None
    cols: list[Spec] = [
        (t("report.col.stage", lang), False),
        (t("report.col.open", lang), True),
        (t("report.col.weekly_throughput", lang), True),
        (t("report.col.residence_days", lang), True),
    ]
    return compact_table(t("report.text.pileups", lang), cols, rows)


def forecast_parts(result: AuditResult, labels: Labels) -> list[RenderableType]:
    fc = result.forecast
    if fc is None:
        return []
    lang = labels.lang
    summary = plain_table(forecast_table(result, labels), "forecast", labels)
    out: list[RenderableType] = [summary] if summary is not None else []
    if fc.backtest:
        cols: list[Spec] = [
            (t("report.col.month", lang), True),
            (t("report.col.expected", lang), True),
            (t("report.col.range80", lang), True),
            (t("report.col.actual", lang), True),
            (t("report.col.inside", lang), True),
        ]
        rows = [
            [
                month(m.month, lang),
                format_number(m.expected, lang, 0),
                f"{format_number(m.p10, lang, 0)}–{format_number(m.p90, lang, 0)}",
                format_int(m.actual, lang),
                t("report.yes" if m.inside else "report.no", lang),
            ]
            for m in fc.backtest
        ]
        out.append(compact_table(t("forecast.backtest.title", lang), cols, rows))
    return out


def reverse_parts(result: AuditResult, labels: Labels, width: int) -> list[RenderableType]:
    lang = labels.lang
    out: list[RenderableType] = []
    detail = result.reverse_funnel_detail
    if result.forecast is not None and detail is not None and detail.rows:
        cols: list[Spec] = [
            (t("report.col.stage", lang), False),
            (t("report.col.needed", lang), True),
            (t("report.col.current_flow", lang), True),
            (t("report.col.shortfall", lang), True),
            (t("report.col.still_needed", lang), True),
            (t("report.col.needed_by", lang), False),
            (t("report.col.in_pipeline", lang), True),
            (t("report.col.monthly_flow", lang), True),
        ]
        rows = [
            [
                labels.stage(r.stage),
                format_number(r.needed, lang, 0),
                format_number(r.current, lang, 0),
                format_number(r.shortfall, lang, 0)
                if r.shortfall is not None and r.shortfall > 0.5
                else "—",
                format_number(r.still_needed, lang, 0) if r.still_needed is not None else "—",
                format_date(r.needed_by, lang) if r.needed_by is not None else "—",
                format_int(r.in_pipeline, lang) if r.in_pipeline is not None else "—",
                format_number(r.monthly_flow, lang, 0) if r.monthly_flow is not None else "—",
            ]
            for r in detail.rows
        ]
        table = compact_table(t("report.section.reverse.title", lang), cols, rows, limit=None)
        out += [table, prose(reverse_sentence(result, labels), width), Text("")]
    return out

