"""The HTML report: one self-contained file that works offline.

plotly.js (from the installed plotly package), the stylesheet and the small table-sorting script
are inlined once; nothing refers to a URL. Text from the input is escaped by jinja2's autoescape;
chart data travels as JSON in a ``<script type="application/json">`` element with ``<``, ``>``
and ``&`` written as ``\\u003c`` … so that a stage named ``</script>`` cannot end the element.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import jinja2

from voronka.i18n import has, note_text, t
from voronka.report.charts import Chart, build_charts
from voronka.report.finding import Finding
from voronka.report.findings import forecast_honesty, select_findings
from voronka.report.format import (
    format_datetime,
    format_int,
    format_money_short,
    format_percent,
    separators,
)
from voronka.report.names import Labels, build_labels
from voronka.report.sections import SECTIONS
from voronka.report.tables import Table, format_cell, sort_value
from voronka.report.words import forecast_absence, funnel_reconciliation

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.funnel import Funnel


@dataclass(frozen=True)
class Cell:
    """A rendered table cell.

    Attributes:
        text: what the reader sees.
        sort: the value the sorter compares (a raw number or ISO date; empty when missing).
        numeric: whether the column is numeric (right-aligned, sorted as numbers).
        nowrap: whether the cell stays on one line (numbers, dates, intervals).
    """

    text: str
    sort: str
    numeric: bool
    nowrap: bool = False


@dataclass(frozen=True)
class TableView:
    """A table ready for the template.

    Attributes:
        name: the table's name (used as a CSS class).
        headers: ``(header text, numeric)`` per column.
        rows: rendered cells.
    """

    name: str
    headers: list[tuple[str, bool]]
    rows: list[list[Cell]]
    more: list[list[Cell]] = field(default_factory=list)


LEAKS_SHOWN = 10
"""Rows of the leaks table shown before "show all" (the rest behind a ``<details>``)."""

NESTED = "↳"
"""First cell of a segment row of the leaks table (nested under its stage row)."""


def split_leaks(view: TableView, shown: int = LEAKS_SHOWN) -> TableView:
    """The leaks table's first ``shown`` rows in the audit's order (most costly first), extended
    to the end of a stage's group so a segment row is never cut from its stage row; the rest go to
    ``more`` (rendered behind "show all")."""
    cut = min(shown, len(view.rows))
    while cut < len(view.rows) and view.rows[cut][0].text == NESTED:
        cut += 1
    return TableView(view.name, view.headers, view.rows[:cut], view.rows[cut:])


@dataclass(frozen=True)
class Section:
    """One part of the report.

    Attributes:
        id: its anchor.
        title: its heading.
        intro: one sentence on what it shows.
        charts: ids of its charts.
        tables: its tables.
        note: a sentence shown instead of empty content (e.g. no plan was given).
    """

    id: str
    title: str
    intro: str
    charts: list[str] = field(default_factory=list)
    tables: list[TableView] = field(default_factory=list)
    note: str | None = None


def table_view(table: Table, lang: str) -> TableView:
    """``table`` with every cell formatted for ``lang``."""
    headers = [(c.header(lang), c.numeric) for c in table.columns]
    rows = [
        [
            Cell(format_cell(v, c.kind, lang), sort_value(v, c.kind), c.numeric, c.nowrap)
            for v, c in zip(row, table.columns, strict=True)
        ]
        for row in table.rows
    ]
    return TableView(table.name, headers, rows)


def safe_json(data: Any) -> str:
    """JSON that can sit inside a ``<script>`` element: no ``<``, ``>``, ``&`` or line separators."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


def _sections(result: AuditResult, labels: Labels, charts: list[Chart]) -> list[Section]:
    lang = labels.lang
    by_section: dict[str, list[str]] = {}
    for chart in charts:
        by_section.setdefault(chart.section, []).append(chart.id)

    def section(
        sid: str, key: str, *tables: Table, note: str | None = None, **params: Any
    ) -> Section:
        views = [table_view(tb, lang) for tb in tables if tb.rows]
        views = [split_leaks(v) if v.name == "leaks" else v for v in views]
        ids = by_section.get(sid, [])
        if not views and not ids and note is None:
            note = t("report.empty", lang)
        return Section(
            id=sid,
            title=t(f"report.section.{key}.title", lang),
            intro=t(f"report.section.{key}.intro", lang, **params),
            charts=ids,
            tables=views,
            note=note,
        )

    ks = result.key_stage
    key_params = (
        {
            "stage": labels.stage(ks.stage),
            "method": t(f"report.key_stage.method.{ks.method}", lang)
            if has(f"report.key_stage.method.{ks.method}")
            else ks.method,
        }
        if ks
        else None
    )
    fc = result.forecast
    params: dict[str, dict[str, Any]] = {"key_stage": key_params or {}}
    notes: dict[str, str | None] = {
        "funnel": funnel_reconciliation(result, labels),
        "forecast": _coverage(result, labels),
    }
    if fc is not None:
        params["forecast"] = {
            "start": format_cell(fc.period_start, "date", lang),
            "end": format_cell(fc.period_end, "date", lang),
        }
    out = []
    for spec in SECTIONS:
        if spec.shown(result):
            out.append(
                section(
                    spec.id,
                    spec.id,
                    *spec.make_tables(result, labels),
                    note=notes.get(spec.id),
                    **params.get(spec.id, {}),
                )
            )
        elif spec.id == "forecast":
            out.append(
                Section(
                    id="forecast",
                    title=t("report.section.forecast.title", lang),
                    intro="",
                    note=forecast_absence(result, lang),
                )
            )
    return out


def _coverage(result: AuditResult, labels: Labels) -> str | None:
    """The backtest in words: coverage with its interval, Brier scores, the widening, or why the
    forecast could not be backtested (the findings' wording)."""
    fc = result.forecast
    if fc is None:
        return None
    words = forecast_honesty(result, labels).strip()
    if words:
        return words
    if fc.backtest_coverage is None:
        return None
    return t(
        "report.forecast.backtest_coverage",
        labels.lang,
        share=format_percent(fc.backtest_coverage, labels.lang, 0),
    )


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("voronka.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _asset(name: str) -> str:
    return resources.files("voronka.report").joinpath("templates", name).read_text("utf-8")


@cache
def plotly_js() -> str:
    """The plotly.js bundle of the installed plotly package (inlined once per report)."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def _summary(result: AuditResult, lang: str) -> list[tuple[str, str, str]]:
    fr = result.funnel
    cards = [
        ("deals", t("report.summary.deals", lang), format_int(fr.deals, lang)),
        ("won", t("report.summary.won", lang), format_int(fr.won, lang)),
        ("lost", t("report.summary.lost", lang), format_int(fr.lost, lang)),
        ("open", t("report.summary.open", lang), format_int(fr.open, lang)),
    ]
    if fr.won_amount is not None:
        cards.append(
            (
                "won_amount",
                t("report.summary.won_amount", lang),
                format_money_short(fr.won_amount, lang),
            )
        )
    costly = [lk for lk in result.leaks[:1] if lk.significant]  # the leaks table's first row
    if costly and costly[0].lost_revenue is not None:
        cards.append(
            (
                "leak",
                t("report.summary.top_leak", lang),
                format_money_short(costly[0].lost_revenue, lang),
            )
        )
    if result.forecast is not None and result.forecast.p_plan is not None:
        cards.append(
            (
                "plan",
                t("report.summary.plan", lang),
                format_percent(result.forecast.p_plan, lang, 0),
            )
        )
    return cards


def report_context(
    result: AuditResult, *, lang: str | None = None, funnel: Funnel | None = None
) -> dict[str, Any]:
    """Everything the report's templates need (``report.html.j2`` and its body,
    ``_report_body.html.j2``, which the web dashboard includes too), assets excepted."""
    labels = build_labels(result, lang, funnel)
    code = labels.lang
    charts = build_charts(result, labels, funnel)
    findings: tuple[Finding, ...] = select_findings(result, labels)
    fr = result.funnel
    origin_key = f"report.origin.{fr.origin}"
    origin = (
        t(origin_key, code, template=fr.template or "")
        if fr.origin in ("file", "template", "inferred")
        else ""
    )
    thousands, decimal = separators(code)
    return {
        "lang": code,
        "t": lambda key, **params: t(key, code, **params),
        "title": t("report.title", code),
        "funnel_name": fr.name,
        "as_of": t("report.as_of", code, date=format_datetime(result.as_of, code)),
        "origin": origin,
        "summary": _summary(result, code),
        "notes_title": t("exports.notes.title", code),
        "notes": [shown for n in result.data_quality.notes if (shown := note_text(n, code))],
        "findings": findings,
        "sections": _sections(result, labels, charts),
        "charts_json": safe_json({c.id: c.figure for c in charts}),
        "decimal": decimal,
        "thousands": thousands,
    }


def report_asset(name: str) -> str:
    """A file of the report's templates folder (``report.css``, ``report.js``) as text."""
    return _asset(name)


def report_templates() -> jinja2.BaseLoader:
    """The loader of the report's templates (for an environment that includes them)."""
    return jinja2.PackageLoader("voronka.report", "templates")


def render_html(
    result: AuditResult, *, lang: str | None = None, funnel: Funnel | None = None
) -> str:
    """The HTML report of ``result`` in ``lang`` (default: the result's language)."""
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            **report_context(result, lang=lang, funnel=funnel),
            css=_asset("report.css"),
            app_js=_asset("report.js"),
            plotly_js=plotly_js(),
        )
    )
