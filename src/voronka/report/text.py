"""The terminal report (``--format text``, the default): findings first, then compact tables.

Everything from the input goes through :class:`rich.text.Text`, never through rich markup, so a
stage named ``[bold]`` or ``<script>`` prints as written. Colours appear only when the console is a
terminal (rich decides); :func:`render_text` returns plain text.

The tables are laid out for the console's width: at 80 columns stage names wrap but never vanish
(text columns keep a least width), numeric headers break between words instead of being cut,
and money is rounded (``77,3 млн``) below :data:`WIDE` columns; the HTML, XLSX and Markdown
reports keep every column and the exact numbers.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from voronka.i18n import note_text, t
from voronka.report.findings import select_findings
from voronka.report.format import format_datetime, format_int, format_money_short
from voronka.report.names import Labels, build_labels
from voronka.report.sections import SECTIONS, SectionSpec
from voronka.report.tabulate import (
    backtest_table,
    issues_table,
    pileups_table,
    stuck_deals_table,
    stuck_managers_table,
)
from voronka.report.text_blocks import WIDE, finding_text, prose
from voronka.report.text_sections import (
    anomalies_parts,
    forecast_parts,
    funnel_part,
    leaks_part,
    pileups_part,
    plain_table,
    reverse_parts,
    sources_part,
    statuses_part,
    stuck_parts,
)
from voronka.report.words import funnel_reconciliation
from voronka.text_safety import Safe

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.funnel import Funnel


_SUBTITLES = {
    stuck_managers_table: "report.text.stuck_by_manager",
    stuck_deals_table: "report.text.stuck_worst",
    pileups_table: "report.text.pileups",
    backtest_table: "forecast.backtest.title",
    issues_table: "report.sheet.issues",
}
"""Titles of the tables that are not a section's first (the first has the section's title)."""


def _tables(spec: SectionSpec, result: AuditResult, labels: Labels) -> list[RenderableType]:
    """A section's registered tables as they are (the default layout)."""
    out: list[RenderableType] = []
    for i, (make, table) in enumerate(
        zip(spec.tables, spec.make_tables(result, labels), strict=True)
    ):
        title = t(_SUBTITLES[make], labels.lang) if i and make in _SUBTITLES else None
        shown = plain_table(table, spec.id, labels, title)
        if shown is not None:
            out.append(shown)
    return out


def _custom(
    spec: SectionSpec, result: AuditResult, labels: Labels, width: int
) -> list[RenderableType | None] | None:
    """The terminal's own layout of a section (None: the registered tables as they are)."""
    wide = width >= WIDE
    layouts: dict[str, Callable[[], list[RenderableType | None]]] = {
        "funnel": lambda: [funnel_part(result, labels, wide), *_note(funnel_reconciliation(
            result, labels))],
        "flow": lambda: [],  # a chart: the funnel table above says it in numbers
        "leaks": lambda: [leaks_part(result, labels, wide), Text("")],
        "anomalies": lambda: list(anomalies_parts(result, labels, width)),
        "sources": lambda: [sources_part(result, labels, wide)],
        "statuses": lambda: [statuses_part(result, labels)],
        "stuck": lambda: list(stuck_parts(result, labels)),
        "time": lambda: [pileups_part(result, labels)],
        "forecast": lambda: list(forecast_parts(result, labels)),
        "reverse": lambda: list(reverse_parts(result, labels, width)),
    }
    make = layouts.get(spec.id)
    return make() if make is not None else None


def _note(words: str | None) -> list[RenderableType]:
    """A section's sentence under its table, when it has one."""
    return [] if not words else [Text(words, style="dim"), Text("")]


def _title_of(part: RenderableType) -> str | None:
    if isinstance(part, RichTable) and part.title is not None:
        return part.title.plain if isinstance(part.title, Text) else str(part.title)
    if isinstance(part, Group) and part.renderables:
        return _title_of(part.renderables[0])
    return part.plain if isinstance(part, Text) else None


def _section(
    spec: SectionSpec, result: AuditResult, labels: Labels, width: int
) -> list[RenderableType]:
    """One registered section in the terminal: its own layout, or its tables when that layout
    has nothing to show although the tables have rows (every stage name a result, no significant
    shift); headed by the section's title when no table carries it."""
    if not spec.shown(result):
        return []
    custom = _custom(spec, result, labels, width)
    parts = [p for p in custom if p is not None] if custom is not None else []
    if not any(not isinstance(p, Text) or p.plain for p in parts) and spec.id != "flow":
        parts = _tables(spec, result, labels)
    if not parts:
        return []
    title = t(f"report.section.{spec.id}.title", labels.lang)
    if not any(_title_of(p) == title for p in parts):
        parts.insert(0, Text(title, style="bold underline"))
    return parts


def text_renderables(
    result: AuditResult,
    lang: str | None = None,
    funnel: Funnel | None = None,
    width: int = 100,
) -> list[RenderableType]:
    """The terminal report as rich renderables for a console ``width`` columns wide: header,
    what the input cannot give, findings, then the compact tables."""
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
            f"{t('report.summary.won_amount', code)}: {format_money_short(fr.won_amount, code)}"
        )
    header.append("\n" + " · ".join(summary))
    parts: list[RenderableType | None] = [header, Text("")]

    # What the input cannot give (a snapshot export, a series of snapshots): message keys, shown
    # before anything else because they limit what every number below means.
    notes = [shown for n in result.data_quality.notes if (shown := note_text(n, code))]
    if notes:
        parts.append(Text("⚠ " + t("exports.notes.title", code), style="bold yellow"))
        parts.extend(prose(f"• {n}", width, "yellow") for n in notes)
        parts.append(Text(""))

    parts.append(Text(t("report.findings.title", code), style="bold underline"))
    findings = select_findings(result, labels)
    if findings:
        parts.extend(finding_text(f, code, width) for f in findings)
    else:
        parts.append(Text(t("report.findings.none", code)))
    parts.append(Text(""))
    for spec in SECTIONS:
        parts.extend(_section(spec, result, labels, width))
    return [p for p in parts if p is not None]


def print_text(
    result: AuditResult, console: Console, lang: str | None = None, funnel: Funnel | None = None
) -> None:
    """Print the terminal report on ``console`` (colours when it is a terminal); control
    characters from the data are shown, never sent (:mod:`voronka.text_safety`)."""
    console.print(Safe(Group(*text_renderables(result, lang, funnel, console.width))))


def render_text(
    result: AuditResult, *, lang: str | None = None, funnel: Funnel | None = None, width: int = 100
) -> str:
    """The terminal report as plain text, without colour codes, laid out for ``width`` columns."""
    console = Console(
        file=io.StringIO(), width=width, force_terminal=False, color_system=None, no_color=True
    )
    with console.capture() as capture:
        print_text(result, console, lang, funnel)
    return capture.get()
