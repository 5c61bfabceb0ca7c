"""The Excel report (``--format xlsx``): one sheet per section, typed cells, a native funnel chart.

Every cell is written with an explicit type: text with ``write_string`` (so a source named
``=HYPERLINK(...)`` stays text and is never a formula), numbers with a number format, dates as
dates. Each sheet freezes its header row and has an autofilter.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from voronka.i18n import t
from voronka.report.findings import select_findings
from voronka.report.format import format_datetime
from voronka.report.names import Labels, build_labels
from voronka.report.sections import SECTIONS
from voronka.report.tables import Column, Kind, Shown, Table
from voronka.report.tabulate import (
    backtest_table,
    forecast_table,
    funnel_table,
    issues_table,
    stuck_deals_table,
    stuck_managers_table,
)
from voronka.report.words import forecast_absence

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.funnel import Funnel

NUMBER_FORMATS: dict[str, str] = {
    "int": "#,##0",
    "number": "#,##0.0",
    "percent": "0.0%",
    "money": "#,##0",
    "days": "0.0",
    "romi": "+0%;-0%;0%",
    "q": "0.000",
}
"""Excel number formats by column kind (Excel shows them with the reader's separators)."""

DATE_FORMATS = {"ru": "dd.mm.yyyy", "en": "d mmm yyyy"}
"""Excel date formats by report language."""

MAX_WIDTH = 60
"""Widest column, in characters."""


def sheet_name(title: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name from ``title`` (≤ 31 characters, no ``[]:*?/\\``)."""
    name = "".join(" " if c in "[]:*?/\\" else c for c in title).strip()[:31] or "Sheet"
    base, n = name, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


class _Writer:
    """Formats and sheet names of one workbook."""

    def __init__(self, book: Workbook, lang: str) -> None:
        self.book = book
        self.lang = lang
        self.used: set[str] = set()
        self.header = book.add_format(
            {"bold": True, "bg_color": "#E8EDF3", "bottom": 1, "text_wrap": True, "valign": "top"}
        )
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.bold = book.add_format({"bold": True})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.formats: dict[str, Format] = {
            kind: book.add_format({"num_format": fmt, "valign": "top"})
            for kind, fmt in NUMBER_FORMATS.items()
        }
        self.formats["date"] = book.add_format({"num_format": DATE_FORMATS[lang], "valign": "top"})

    def add_sheet(self, title: str) -> Worksheet:
        return self.book.add_worksheet(sheet_name(title, self.used))

    def cell(self, sheet: Worksheet, row: int, col: int, value: Any, kind: Kind) -> int:
        """Write one cell; returns its display width in characters."""
        if isinstance(value, Shown):
            value, kind = value.value, value.kind
        if value is None:
            sheet.write_blank(row, col, None)
            return 1
        if kind == "bool":
            text = t("report.yes" if value else "report.no", self.lang)
            sheet.write_string(row, col, text)
            return len(text)
        if kind == "date" and isinstance(value, date):
            moment = value if isinstance(value, datetime) else datetime(*value.timetuple()[:3])
            sheet.write_datetime(row, col, moment, self.formats["date"])
            return 12
        if kind in NUMBER_FORMATS and isinstance(value, int | float):
            sheet.write_number(row, col, float(value), self.formats[kind])
            return len(f"{float(value):,.1f}") + 1
        text = str(value)
        sheet.write_string(row, col, text, self.wrap)
        return len(text)

    def table(self, title: str, table: Table, *, first_row: int = 0) -> Worksheet:
        """A sheet holding ``table`` (the interval column split into low and high)."""
        sheet = self.add_sheet(title)
        columns: list[Column] = []
        for c in table.columns:
            if c.kind == "interval":
                columns += [
                    Column("conversion_low", "percent"),
                    Column("conversion_high", "percent"),
                ]
            else:
                columns.append(c)
        widths = [len(c.header(self.lang)) + 2 for c in columns]
        for j, c in enumerate(columns):
            sheet.write_string(first_row, j, c.header(self.lang), self.header)
        for i, row in enumerate(table.rows, start=first_row + 1):
            values: list[tuple[Any, Kind]] = []
            for v, c in zip(row, table.columns, strict=True):
                if c.kind == "interval":
                    low, high = v if v is not None else (None, None)
                    values += [(low, "percent"), (high, "percent")]
                else:
                    values.append((v, c.kind))
            for j, (v, kind) in enumerate(values):
                widths[j] = max(widths[j], self.cell(sheet, i, j, v, kind) + 2)
        for j, w in enumerate(widths):
            sheet.set_column(j, j, min(w, MAX_WIDTH))
        sheet.freeze_panes(first_row + 1, 0)
        sheet.autofilter(first_row, 0, first_row + max(len(table.rows), 1), len(columns) - 1)
        if not table.rows:
            sheet.write_string(first_row + 2, 0, t("report.empty", self.lang))
        return sheet


def _summary(w: _Writer, result: AuditResult, labels: Labels) -> None:
    lang = labels.lang
    sheet = w.add_sheet(t("report.findings.title", lang))
    title = t("report.title", lang) + (f" — {result.funnel.name}" if result.funnel.name else "")
    sheet.write_string(0, 0, title, w.title)
    sheet.write_string(1, 0, t("report.as_of", lang, date=format_datetime(result.as_of, lang)))
    fr = result.funnel
    numbers: list[tuple[str, Any, Kind]] = [
        ("report.summary.deals", fr.deals, "int"),
        ("report.summary.won", fr.won, "int"),
        ("report.summary.lost", fr.lost, "int"),
        ("report.summary.open", fr.open, "int"),
        ("report.summary.won_amount", fr.won_amount, "money"),
    ]
    if result.forecast is not None:
        numbers.append(("report.summary.plan", result.forecast.p_plan, "percent"))
    for i, (key, value, kind) in enumerate(numbers, start=3):
        sheet.write_string(i, 0, t(key, lang), w.bold)
        w.cell(sheet, i, 1, value, kind)
    top = 4 + len(numbers)
    headers = ("severity", "finding", "detail")
    for j, key in enumerate(headers):
        sheet.write_string(top, j, t(f"report.col.{key}", lang), w.header)
    findings = select_findings(result, labels)
    for i, f in enumerate(findings, start=top + 1):
        sheet.write_string(i, 0, t(f"report.severity.{f.severity}", lang))
        sheet.write_string(i, 1, f.headline, w.wrap)
        sheet.write_string(i, 2, f.detail, w.wrap)
    if not findings:
        sheet.write_string(top + 1, 1, t("report.findings.none", lang))
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 50)
    sheet.set_column(2, 2, 90)
    sheet.freeze_panes(top + 1, 0)
    sheet.autofilter(top, 0, top + max(len(findings), 1), len(headers) - 1)


def _funnel_chart(w: _Writer, sheet: Worksheet, result: AuditResult, labels: Labels) -> None:
    """A native bar chart of the deals reaching each stage, next to the funnel table."""
    n = len(result.funnel.stages)
    if n == 0:
        return
    name = sheet.get_name()
    chart = w.book.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": t("report.chart.reached", labels.lang),
            "categories": [name, 1, 0, n, 0],
            "values": [name, 1, 1, n, 1],
            "fill": {"color": "#2F6DB3"},
            "data_labels": {"value": True},
        }
    )
    chart.set_title({"name": t("report.section.funnel.title", labels.lang)})
    chart.set_y_axis({"reverse": True})  # first stage on top, like a funnel
    chart.set_legend({"none": True})
    chart.set_size({"width": 640, "height": 60 + 40 * n})
    sheet.insert_chart(n + 3, 0, chart)


def _forecast(w: _Writer, result: AuditResult, labels: Labels) -> None:
    lang = labels.lang
    fc = result.forecast
    sheet = w.add_sheet(t("report.section.forecast.title", lang))
    sheet.write_string(0, 0, t("report.col.metric", lang), w.header)
    sheet.write_string(0, 1, t("report.col.value", lang), w.header)
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 1, 16)
    if fc is None:
        sheet.write_string(1, 0, forecast_absence(result, lang))
        sheet.autofilter(0, 0, 1, 1)
        return
    rows: list[tuple[str, Any, Kind]] = [
        ("report.forecast.plan", fc.plan, "int"),
        ("report.forecast.period", fc.period_start, "date"),
        ("report.forecast.period", fc.period_end, "date"),
        ("report.forecast.won_so_far", fc.won_so_far, "int"),
        ("report.forecast.expected", fc.expected, "number"),
        ("report.forecast.p10", fc.p10, "number"),
        ("report.forecast.p90", fc.p90, "number"),
        ("report.forecast.p_plan", fc.p_plan, "percent"),
    ]
    if fc.revenue is not None:
        rows += [
            ("report.forecast.revenue_expected", fc.revenue.expected, "money"),
            ("report.forecast.revenue_p10", fc.revenue.p10, "money"),
            ("report.forecast.revenue_p90", fc.revenue.p90, "money"),
            ("report.forecast.revenue_p_plan", fc.revenue.p_plan, "percent"),
        ]
    for i, (key, value, kind) in enumerate(rows, start=1):
        sheet.write_string(i, 0, t(key, lang))
        w.cell(sheet, i, 1, value, kind)
    sheet.autofilter(0, 0, len(rows), 1)


_SHEETS = {
    stuck_managers_table: "report.sheet.stuck_managers",
    stuck_deals_table: "report.sheet.stuck_deals",
    backtest_table: "report.sheet.backtest",
    issues_table: "report.sheet.issues",
}
"""Sheet titles of the tables that are not a section's first (the first has the section's
title). The sections come from the registry (:mod:`voronka.report.sections`); a section with no
table (the flow chart) has no sheet, its numbers being the funnel sheet's."""


def render_xlsx(
    result: AuditResult, *, lang: str | None = None, funnel: Funnel | None = None
) -> bytes:
    """The Excel workbook of ``result`` as bytes."""
    labels = build_labels(result, lang, funnel)
    code = labels.lang
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    w = _Writer(book, code)

    def title(key: str) -> str:
        return t(f"report.section.{key}.title", code)

    _summary(w, result, labels)
    for spec in SECTIONS:
        if spec.id == "forecast":
            _forecast(w, result, labels)  # measures as numbers, a sheet even without a plan
        for i, (make, table) in enumerate(
            zip(spec.tables, spec.make_tables(result, labels), strict=True)
        ):
            if make is forecast_table:
                continue
            sheet_title = t(_SHEETS[make], code) if i and make in _SHEETS else title(spec.id)
            sheet = w.table(sheet_title, table)
            if make is funnel_table:
                _funnel_chart(w, sheet, result, labels)
    book.close()
    return buffer.getvalue()
