"""The terminal report (``--format text``, the default): findings first, then compact tables.

Everything from the input goes through :class:`rich.text.Text`, never through rich markup, so a
stage named ``[bold]`` or ``<script>`` prints as written. Colours appear only when the console is a
terminal (rich decides); :func:`render_text` returns plain text.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from voronka.i18n import has, t
from voronka.report.findings import Finding, select_findings
from voronka.report.format import format_datetime, format_int, format_money, format_percent
from voronka.report.names import Labels, build_labels
from voronka.report.tables import Table, format_cell
from voronka.report.tabulate import (
    anomalies_table,
    forecast_table,
    leaks_table,
    sources_table,
    statuses_table,
    stuck_deals_table,
)

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.funnel import Funnel

BAR_WIDTH = 10
"""Width in characters of a 100% conversion bar in the funnel table."""

STAGE_WIDTH = 16
"""The least width of the stage column (long names wrap below it)."""

MAX_ROWS = 10
"""Rows shown per table in the terminal (the HTML and XLSX reports have them all)."""

_STYLES = {"alert": "bold red", "warning": "yellow", "info": "cyan", "good": "green"}


def _finding(finding: Finding, lang: str) -> Text:
    marker = t(f"report.severity.{finding.severity}", lang)
    text = Text()
    text.append(f"● {marker}: ", style=_STYLES[finding.severity])
    text.append(finding.headline, style="bold")
    text.append("\n  ")
    text.append(finding.detail)
    return text


def _rich_table(table: Table, lang: str, title: str) -> RichTable:
    out = RichTable(title=Text(title, style="bold"), box=box.SIMPLE_HEAD, title_justify="left")
    for col in table.columns:
        out.add_column(
            Text(col.header(lang)), justify="right" if col.numeric else "left", no_wrap=col.nowrap
        )
    for row in table.rows[:MAX_ROWS]:
        out.add_row(
            *(Text(format_cell(v, c.kind, lang)) for v, c in zip(row, table.columns, strict=True))
        )
    return out


def _funnel(result: AuditResult, labels: Labels) -> RichTable:
    lang = labels.lang
    out = RichTable(
        title=Text(t("report.section.funnel.title", lang), style="bold"),
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    out.add_column(Text(t("report.col.stage", lang)), min_width=STAGE_WIDTH)
    out.add_column(Text(t("report.col.reached", lang)), justify="right", no_wrap=True)
    out.add_column(Text(t("report.col.conversion", lang)), justify="right", no_wrap=True)
    out.add_column("", no_wrap=True, min_width=BAR_WIDTH)
    out.add_column(Text(t("report.col.conversion_ci", lang)), justify="right", no_wrap=True)
    out.add_column(Text(t("report.col.open", lang)), justify="right", no_wrap=True)
    for s in result.funnel.stages:
        # The bar is only a picture of the conversion column (a fraction of the bar's width).
        cells = round(BAR_WIDTH * s.conversion) if s.conversion is not None else 0
        out.add_row(
            Text(labels.stage(s.id)),
            Text(format_int(s.reached, lang)),
            Text(format_percent(s.conversion, lang)),
            Text(
                "█" * cells + "░" * (BAR_WIDTH - cells) if s.conversion is not None else "",
                style="blue",
            ),
            Text(format_cell(s.conversion_ci, "interval", lang)),
            Text(format_int(s.open, lang)),
        )
    return out


def _problem_names(table: Table, result: AuditResult) -> Table:
    """Only the stage names judged not a result: the terminal has no room for the good ones."""
    keep = tuple(
        row
        for row, verdict in zip(table.rows, result.statuses, strict=True)
        if verdict.verdict != "result"
    )
    return Table(table.name, table.columns, keep)


def text_renderables(
    result: AuditResult, lang: str | None = None, funnel: Funnel | None = None
) -> list[RenderableType]:
    """The terminal report as rich renderables: header, findings, then the main tables."""
    labels = build_labels(result, lang, funnel)
    code = labels.lang
    fr = result.funnel
    header = Text()
    header.append(t("report.title", code), style="bold")
    if fr.name:
        header.append(f" — {fr.name}")
    header.append("\n" + t("report.as_of", code, date=format_datetime(result.as_of, code)))
    summary = [
        f"{t('report.summary.deals', code)}: {format_int(fr.deals, code)}",
        f"{t('report.summary.won', code)}: {format_int(fr.won, code)}",
        f"{t('report.summary.lost', code)}: {format_int(fr.lost, code)}",
        f"{t('report.summary.open', code)}: {format_int(fr.open, code)}",
    ]
    if fr.won_amount is not None:
        summary.append(
            f"{t('report.summary.won_amount', code)}: {format_money(fr.won_amount, code)}"
        )
    header.append("\n" + " · ".join(summary))
    parts: list[RenderableType] = [header, Text("")]

    parts.append(Text(t("report.findings.title", code), style="bold underline"))
    findings = select_findings(result, labels)
    if findings:
        parts.extend(_finding(f, code) for f in findings)
    else:
        parts.append(Text(t("report.findings.none", code)))
    parts.append(Text(""))
    # What the input cannot give (a snapshot export, a series of snapshots): message keys.
    notes = [n for n in result.data_quality.notes if has(n)]
    if notes:
        parts.append(Text(t("exports.notes.title", code), style="bold underline"))
        parts.extend(Text(f"• {t(n, code)}") for n in notes)
        parts.append(Text(""))
    parts.append(_funnel(result, labels))

    for table, key in (
        (leaks_table(result, labels), "leaks"),
        (anomalies_table(result, labels), "anomalies"),
        (sources_table(result, labels), "sources"),
        (_problem_names(statuses_table(result, labels), result), "statuses"),
        (stuck_deals_table(result, labels), "stuck"),
        (forecast_table(result, labels), "forecast"),
    ):
        if table.rows:
            parts.append(_rich_table(table, code, t(f"report.section.{key}.title", code)))
    return parts


def print_text(
    result: AuditResult, console: Console, lang: str | None = None, funnel: Funnel | None = None
) -> None:
    """Print the terminal report on ``console`` (colours when it is a terminal)."""
    console.print(Group(*text_renderables(result, lang, funnel)))


def render_text(
    result: AuditResult, *, lang: str | None = None, funnel: Funnel | None = None, width: int = 100
) -> str:
    """The terminal report as plain text, without colour codes."""
    console = Console(
        file=io.StringIO(), width=width, force_terminal=False, color_system=None, no_color=True
    )
    with console.capture() as capture:
        print_text(result, console, lang, funnel)
    return capture.get()
