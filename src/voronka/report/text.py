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
import textwrap
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from voronka.i18n import has, note_text, t
from voronka.report.findings import Finding, anomaly_rank_key, select_findings
from voronka.report.format import (
    format_date,
    format_datetime,
    format_days,
    format_int,
    format_interval,
    format_money,
    format_money_short,
    format_number,
    format_percent,
    format_signed_percent,
)
from voronka.report.names import Labels, build_labels
from voronka.report.sections import SECTIONS, SectionSpec
from voronka.report.tables import Table, format_cell
from voronka.report.tabulate import (
    backtest_table,
    forecast_table,
    issues_table,
    pileups_table,
    stuck_deals_table,
    stuck_managers_table,
)
from voronka.report.words import anomaly_sentence, anomaly_series, reverse_sentence
from voronka.text_safety import Safe

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.funnel import Funnel

BAR_WIDTH = 10
"""Width in characters of a 100% conversion bar in the funnel table."""

STAGE_WIDTH = 16
"""The least width of a column of stage names (long names wrap, never vanish)."""

WIDE = 110
"""From this console width on, the terminal shows bars and exact money."""

MAX_ROWS = 10
"""Rows shown per table in the terminal (the HTML and XLSX reports have them all)."""

_STYLES = {"alert": "bold red", "warning": "yellow", "info": "cyan", "good": "green"}

Cell = str | Text | None
Spec = tuple[str, bool]  # (header, numeric)


def _wrap(text: str, width: int, indent: str = "", first: str = "") -> str:
    """``text`` wrapped to ``width`` columns at ordinary spaces only (``first``: the first line's
    indent, ``indent``: the others').

    rich wraps at any whitespace, the no-break space included, and would split ``77,3 млн`` or
    ``51,8 %`` across lines; :mod:`textwrap` breaks only at ASCII whitespace, so wrapping here
    first keeps every number with its unit.
    """
    return textwrap.fill(
        text,
        width=max(width - 1, 20),
        initial_indent=first,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    )


def _finding(finding: Finding, lang: str, width: int) -> Text:
    prefix = f"● {t(f'report.severity.{finding.severity}', lang)}: "
    head = _wrap(prefix + finding.headline, width, "  ")
    text = Text()
    text.append(prefix, style=_STYLES[finding.severity])
    text.append(head[len(prefix) :], style="bold")
    text.append("\n" + _wrap(finding.detail, width, "  ", "  "))
    return text


def _prose(text: str, width: int, style: str | None = None) -> Text:
    """A paragraph for the terminal, wrapped so that numbers keep their units."""
    return Text(_wrap(text, width), style=style or "")


def _header_text(header: str, numeric: bool, width: int) -> Text:
    # A numeric column never wraps its cells; its header breaks between words (no wider than the
    # column's cells or its longest word) instead of being cut to "Потеряно сд…".
    if not numeric or len(header) <= width:
        return Text(header)
    longest = max(len(word) for word in header.split())
    return Text("\n".join(textwrap.wrap(header, max(width, longest), break_on_hyphens=False)))


def _table(
    title: str,
    columns: Sequence[Spec],
    rows: Sequence[Sequence[Cell]],
    *,
    min_text: int = 0,
    limit: int | None = MAX_ROWS,
) -> RichTable:
    """A compact rich table: numeric columns right-aligned on one line, text columns wrapping
    (never narrower than ``min_text``); the first ``limit`` rows (all when None)."""
    out = RichTable(title=Text(title, style="bold"), box=box.SIMPLE_HEAD, title_justify="left")
    shown = rows[:limit]
    for i, (header, numeric) in enumerate(columns):
        if numeric:
            cells = [
                len(c.plain if isinstance(c, Text) else c or "—") for r in shown for c in [r[i]]
            ]
            header_text = _header_text(header, True, max(cells, default=1))
            out.add_column(header_text, justify="right", no_wrap=True)
        else:
            out.add_column(Text(header), min_width=min_text or STAGE_WIDTH, overflow="fold")
    for row in shown:
        out.add_row(*(c if isinstance(c, Text) else Text(c or "—") for c in row))
    return out


def _money(value: float | None, lang: str, wide: bool) -> str:
    return format_money(value, lang) if wide else format_money_short(value, lang)


def _funnel(result: AuditResult, labels: Labels, wide: bool) -> RichTable:
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
    return _table(t("report.section.funnel.title", lang), cols, rows, limit=None)


def _leaks(result: AuditResult, labels: Labels, wide: bool) -> RichTable | None:
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
                format_int(round(lk.lost_deals), lang),
                _money(lk.lost_revenue, lang, wide),
            ]
        )
    table = _table(t("report.section.leaks.title", lang), cols, rows, min_text=18)
    table.caption = Text(t("report.text.significant_mark", lang))
    table.caption_justify = "left"
    return table


def _anomalies(result: AuditResult, labels: Labels, width: int) -> list[RenderableType]:
    shifts = sorted((a for a in result.anomalies if a.significant), key=anomaly_rank_key)
    if not shifts:
        return []
    lang = labels.lang
    out: list[RenderableType] = [
        Text(t("report.section.anomalies.title", lang), style="bold"),
    ]
    for a in shifts[:MAX_ROWS]:
        mark = "▲" if a.direction == "up" else "▼"
        line = _wrap(f"{mark} {anomaly_sentence(a, labels)}", width, "  ")
        text = Text(mark, style="green" if a.direction == "up" else "red")
        text.append(line[1:])
        out.append(text)
        series = anomaly_series(a, labels)
        if series is not None:
            spark, words = series
            out.append(Text("  " + spark, style="cyan", no_wrap=True, overflow="crop"))
            out.append(Text(_wrap("  " + words, width, "  "), style="dim"))
    if len(shifts) > MAX_ROWS:
        out.append(
            Text(t("report.text.more", lang, count=format_int(len(shifts) - MAX_ROWS, lang)))
        )
    return [Group(*out), Text("")]


def _sources(result: AuditResult, labels: Labels, wide: bool) -> RichTable | None:
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
            _money(s.spend, lang, wide),
            format_int(s.won, lang),
            _money(s.revenue, lang, wide),
            _money(s.cac, lang, wide),
            format_signed_percent(s.romi, lang),
        ]
        for s in result.sources
    ]
    return _table(t("report.section.sources.title", lang), cols, rows, min_text=12)


def _plain(table: Table, key: str, labels: Labels, title: str | None = None) -> RichTable | None:
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
    return _table(title or t(f"report.section.{key}.title", lang), cols, rows, min_text=12)


def _statuses(result: AuditResult, labels: Labels) -> RichTable | None:
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
    return _table(t("report.section.statuses.title", lang), cols, rows, min_text=10)


def _stuck(result: AuditResult, labels: Labels) -> list[RenderableType]:
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
            format_days(s.max_days, lang, 0),
            labels.key_tasks.get(s.stage) or _deal_task(result, s.stage),
        ]
        for s in stages
    ]
    out: list[RenderableType] = [_table(t("report.section.stuck.title", lang), cols, rows)]
    managers = sorted((m for m in stuck.by_manager if m.stuck > 0), key=lambda m: -m.stuck)
    if managers:
        out.append(
            _table(
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
            _table(
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


def _pileups(result: AuditResult, labels: Labels) -> RichTable | None:
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
    return _table(t("report.text.pileups", lang), cols, rows)


def _forecast(result: AuditResult, labels: Labels) -> list[RenderableType]:
    fc = result.forecast
    if fc is None:
        return []
    lang = labels.lang
    summary = _plain(forecast_table(result, labels), "forecast", labels)
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
                _month(m.month, lang),
                format_number(m.expected, lang, 0),
                f"{format_number(m.p10, lang, 0)}–{format_number(m.p90, lang, 0)}",
                format_int(m.actual, lang),
                t("report.yes" if m.inside else "report.no", lang),
            ]
            for m in fc.backtest
        ]
        out.append(_table(t("forecast.backtest.title", lang), cols, rows))
    return out


def _reverse(result: AuditResult, labels: Labels, width: int) -> list[RenderableType]:
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
        table = _table(t("report.section.reverse.title", lang), cols, rows, limit=None)
        out += [table, _prose(reverse_sentence(result, labels), width), Text("")]
    return out


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
        shown = _plain(table, spec.id, labels, title)
        if shown is not None:
            out.append(shown)
    return out


def _custom(
    spec: SectionSpec, result: AuditResult, labels: Labels, width: int
) -> list[RenderableType | None] | None:
    """The terminal's own layout of a section (None: the registered tables as they are)."""
    wide = width >= WIDE
    layouts: dict[str, Callable[[], list[RenderableType | None]]] = {
        "funnel": lambda: [_funnel(result, labels, wide)],
        "flow": lambda: [],  # a chart: the funnel table above says it in numbers
        "leaks": lambda: [_leaks(result, labels, wide), Text("")],
        "anomalies": lambda: list(_anomalies(result, labels, width)),
        "sources": lambda: [_sources(result, labels, wide)],
        "statuses": lambda: [_statuses(result, labels)],
        "stuck": lambda: list(_stuck(result, labels)),
        "time": lambda: [_pileups(result, labels)],
        "forecast": lambda: list(_forecast(result, labels)),
        "reverse": lambda: list(_reverse(result, labels, width)),
    }
    make = layouts.get(spec.id)
    return make() if make is not None else None


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


def _month(day: object, lang: str) -> str:
    text = format_date(day, lang)  # type: ignore[arg-type]
    return text[3:] if lang == "ru" else text.split(" ", 1)[1]


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
        parts.extend(_prose(f"• {n}", width, "yellow") for n in notes)
        parts.append(Text(""))

    parts.append(Text(t("report.findings.title", code), style="bold underline"))
    findings = select_findings(result, labels)
    if findings:
        parts.extend(_finding(f, code, width) for f in findings)
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
