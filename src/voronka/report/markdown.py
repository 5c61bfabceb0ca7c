"""The Markdown report (``--format md``): the findings and the main tables, for a wiki or a chat.

Text from the input is escaped so that it shows literally in any Markdown renderer: pipes cannot
break a table, and ``<`` ``>`` ``&`` become HTML entities so a stage named ``<script>`` stays text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from voronka.i18n import t
from voronka.report.findings import select_findings
from voronka.report.format import format_datetime, format_int, format_money
from voronka.report.names import build_labels
from voronka.report.tables import Table, format_cell
from voronka.report.tabulate import (
    anomalies_table,
    forecast_table,
    funnel_table,
    leaks_table,
    sources_table,
    statuses_table,
    stuck_stages_table,
)

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.funnel import Funnel

_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def escape_md(text: str) -> str:
    """``text`` shown literally in Markdown, on one line (safe in a table cell)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SPECIAL.sub(r"\\\1", text)
    return " ".join(text.split())


def markdown_table(table: Table, lang: str) -> str:
    """``table`` as a pipe table; numeric columns right-aligned."""
    header = "| " + " | ".join(escape_md(c.header(lang)) for c in table.columns) + " |"
    rule = "|" + "|".join("---:" if c.numeric else "---" for c in table.columns) + "|"
    rows = [
        "| "
        + " | ".join(
            escape_md(format_cell(v, c.kind, lang)) for v, c in zip(row, table.columns, strict=True)
        )
        + " |"
        for row in table.rows
    ]
    return "\n".join([header, rule, *rows])


def render_markdown(
    result: AuditResult, *, lang: str | None = None, funnel: Funnel | None = None
) -> str:
    """The Markdown report: title, headline numbers, findings, then the main tables."""
    labels = build_labels(result, lang, funnel)
    code = labels.lang
    fr = result.funnel
    title = t("report.title", code) + (f" — {escape_md(fr.name)}" if fr.name else "")
    out = [
        f"# {title}",
        "",
        escape_md(t("report.as_of", code, date=format_datetime(result.as_of, code))),
    ]
    numbers = [
        f"{t('report.summary.deals', code)}: **{format_int(fr.deals, code)}**",
        f"{t('report.summary.won', code)}: **{format_int(fr.won, code)}**",
        f"{t('report.summary.lost', code)}: **{format_int(fr.lost, code)}**",
        f"{t('report.summary.open', code)}: **{format_int(fr.open, code)}**",
    ]
    if fr.won_amount is not None:
        numbers.append(
            f"{t('report.summary.won_amount', code)}: **{format_money(fr.won_amount, code)}**"
        )
    out += ["", " · ".join(numbers), "", f"## {t('report.findings.title', code)}", ""]
    findings = select_findings(result, labels)
    if findings:
        out += [f"- **{escape_md(f.headline)}**. {escape_md(f.detail)}" for f in findings]
    else:
        out.append(escape_md(t("report.findings.none", code)))
    for table, key in (
        (funnel_table(result, labels), "funnel"),
        (leaks_table(result, labels), "leaks"),
        (anomalies_table(result, labels), "anomalies"),
        (sources_table(result, labels), "sources"),
        (statuses_table(result, labels), "statuses"),
        (stuck_stages_table(result, labels), "stuck"),
        (forecast_table(result, labels), "forecast"),
    ):
        if table.rows:
            out += [
                "",
                f"## {t(f'report.section.{key}.title', code)}",
                "",
                markdown_table(table, code),
            ]
    return "\n".join(out) + "\n"
