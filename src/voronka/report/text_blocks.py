"""Building blocks of the terminal report (:mod:`voronka.report.text`): paragraphs wrapped so
that numbers keep their units, findings, and compact tables laid out for the console's width."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich import box
from rich.table import Table as RichTable
from rich.text import Text

from voronka.i18n import t
from voronka.report.finding import Finding
from voronka.report.format import format_date, format_money, format_money_short

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


def wrap(text: str, width: int, indent: str = "", first: str = "") -> str:
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


def finding_text(finding: Finding, lang: str, width: int) -> Text:
    prefix = f"● {t(f'report.severity.{finding.severity}', lang)}: "
    head = wrap(prefix + finding.headline, width, "  ")
    text = Text()
    text.append(prefix, style=_STYLES[finding.severity])
    text.append(head[len(prefix) :], style="bold")
    text.append("\n" + wrap(finding.detail, width, "  ", "  "))
    return text


def prose(text: str, width: int, style: str | None = None) -> Text:
    """A paragraph for the terminal, wrapped so that numbers keep their units."""
    return Text(wrap(text, width), style=style or "")


def header_text(header: str, numeric: bool, width: int) -> Text:
    # A numeric column never wraps its cells; its header breaks between words (no wider than the
    # column's cells or its longest word) instead of being cut to "Потеряно сд…".
    if not numeric or len(header) <= width:
        return Text(header)
    longest = max(len(word) for word in header.split())
    return Text("\n".join(textwrap.wrap(header, max(width, longest), break_on_hyphens=False)))


def compact_table(
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
            heading = header_text(header, True, max(cells, default=1))
            out.add_column(heading, justify="right", no_wrap=True)
        else:
            out.add_column(Text(header), min_width=min_text or STAGE_WIDTH, overflow="fold")
    for row in shown:
        out.add_row(*(c if isinstance(c, Text) else Text(c or "—") for c in row))
    return out


def money(value: float | None, lang: str, wide: bool) -> str:
    return format_money(value, lang) if wide else format_money_short(value, lang)



def month(day: object, lang: str) -> str:
    text = format_date(day, lang)  # type: ignore[arg-type]
    return text[3:] if lang == "ru" else text.split(" ", 1)[1]

