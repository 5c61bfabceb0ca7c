"""The Markdown report (``--format md``): the findings and the main tables, for a wiki or a chat.

Text from the input is escaped so that it shows literally in any Markdown renderer: pipes cannot
break a table, and ``<`` ``>`` ``&`` become HTML entities so a stage named ``<script>`` stays text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from voronka.i18n import note_text, t
from voronka.report.findings import anomaly_rank_key, select_findings
from voronka.report.format import format_datetime, format_int, format_money
from voronka.report.names import build_labels
from voronka.report.sections import SECTIONS
from voronka.report.tables import Table, format_cell
from voronka.report.words import (
    anomaly_sentence,
    anomaly_series,
    forecast_absence,
    funnel_reconciliation,
    reverse_sentence,
)
from voronka.text_safety import safe_text

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.audit.anomalies import Anomaly
    from voronka.funnel import Funnel
    from voronka.report.names import Labels

_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def escape_md(text: str) -> str:
    """``text`` shown literally in Markdown, on one line (safe in a table cell); control
    characters shown (:func:`voronka.text_safety.safe_text`)."""
    text = safe_text(" ".join(text.split())).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
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
    out += ["", " · ".join(numbers)]
    # What the input cannot give comes first: it limits what every number below means.
    notes = [shown for n in result.data_quality.notes if (shown := note_text(n, code))]
    if notes:
        out += ["", f"> **⚠ {escape_md(t('exports.notes.title', code))}**", ">"]
        out += [f"> - {escape_md(n)}" for n in notes]
    out += ["", f"## {t('report.findings.title', code)}", ""]
    findings = select_findings(result, labels)
    if findings:
        out += [f"- **{escape_md(f.headline)}**. {escape_md(f.detail)}" for f in findings]
    else:
        out.append(escape_md(t("report.findings.none", code)))
    shifts = sorted((a for a in result.anomalies if a.significant), key=anomaly_rank_key)

    def section(key: str, *tables: Table, lines: tuple[str, ...] = ()) -> None:
        shown = [tb for tb in tables if tb.rows]
        if not shown and not lines:
            return
        out.extend(["", f"## {t(f'report.section.{key}.title', code)}"])
        for tb in shown:
            out.extend(["", markdown_table(tb, code)])
        if lines:
            out.append("")
            out.extend(lines)

    reverse = reverse_sentence(result, labels)
    reconciled = funnel_reconciliation(result, labels)
    lines = {
        "funnel": (escape_md(reconciled),) if reconciled else (),
        "anomalies": tuple(_anomaly_line(a, labels) for a in shifts),
        "reverse": (escape_md(reverse),) if reverse else (),
    }
    for spec in SECTIONS:
        if spec.shown(result):
            section(spec.id, *spec.make_tables(result, labels), lines=lines.get(spec.id, ()))
        elif spec.id == "forecast":
            out.extend(["", f"## {t('report.section.forecast.title', code)}", ""])
            out.append(escape_md(forecast_absence(result, code)))
    return safe_text("\n".join(out), multiline=True) + "\n"


def _anomaly_line(anomaly: Anomaly, labels: Labels) -> str:
    """A list item: the shift in words, then its series (a sparkline in code, and its words)."""
    line = f"- {escape_md(anomaly_sentence(anomaly, labels))}"
    series = anomaly_series(anomaly, labels)
    if series is not None:
        spark, words = series
        line += f"  \n  `{spark}` {escape_md(words)}"  # a hard break inside the list item
    return line
