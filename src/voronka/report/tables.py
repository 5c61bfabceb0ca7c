"""Typed table columns and cell formatting, shared by every report format.

Each format formats a cell by its column's kind: HTML shows the locale text and sorts by the raw
value, XLSX writes the raw value with a number format, Markdown and the terminal show the text.
Values are taken from the result as they are; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from voronka.i18n import t
from voronka.report.format import (
    MISSING,
    format_date,
    format_days,
    format_int,
    format_interval,
    format_money,
    format_number,
    format_percent,
    format_signed_percent,
)

if TYPE_CHECKING:
    pass

Kind = Literal[
    "text",
    "int",
    "number",
    "percent",
    "interval",
    "money",
    "days",
    "date",
    "bool",
    "romi",
    "q",
    "shown",
]


@dataclass(frozen=True)
class Shown:
    """A cell formatted ahead of time (its column mixes units), with the number it sorts by.

    Attributes:
        text: what the reader sees.
        value: the raw number behind it.
        kind: how ``value`` is formatted (spreadsheets write the number with this kind's format).
    """

    text: str
    value: float
    kind: Kind = "number"


@dataclass(frozen=True)
class Column:
    """A table column.

    Attributes:
        key: the message key suffix of its header (``report.col.<key>``).
        kind: how its values are formatted and sorted.
    """

    key: str
    kind: Kind = "text"

    def header(self, lang: str) -> str:
        """The column header in ``lang``."""
        return t(f"report.col.{self.key}", lang)

    @property
    def numeric(self) -> bool:
        """Whether the column holds numbers (right-aligned, sorted numerically)."""
        return self.kind not in ("text", "date", "bool", "interval")

    @property
    def nowrap(self) -> bool:
        """Whether a cell must stay on one line (numbers, dates, intervals)."""
        return self.kind != "text"


@dataclass(frozen=True)
class Table:
    """One section's table.

    Attributes:
        name: the section it belongs to (``funnel``, ``leaks`` …).
        columns: the columns.
        rows: one tuple of raw values per row, in column order.
    """

    name: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]


def format_cell(value: Any, kind: Kind, lang: str) -> str:
    """``value`` as the text a person reads in a cell of a column of ``kind``."""
    if value is None:
        return MISSING
    if isinstance(value, Shown):
        return value.text
    formatters: dict[str, Callable[[Any], str]] = {
        "int": lambda v: format_int(v, lang),
        "number": lambda v: format_number(v, lang, 1),
        "percent": lambda v: format_percent(v, lang),
        "interval": lambda v: format_interval(v, lang),
        "money": lambda v: format_money(v, lang),
        "days": lambda v: format_days(v, lang),
        "date": lambda v: format_date(v, lang),
        "bool": lambda v: t("report.yes" if v else "report.no", lang),
        "romi": lambda v: format_signed_percent(v, lang),
        "q": lambda v: format_number(v, lang, 3),
    }
    formatter = formatters.get(kind)
    return formatter(value) if formatter else str(value)


def sort_value(value: Any, kind: Kind) -> str:
    """A machine-sortable form of ``value`` (raw number, ISO date) for the HTML table sorter."""
    if value is None:
        return ""
    if isinstance(value, Shown):
        return repr(float(value.value))
    if kind == "interval":
        return repr(float(value[0]))
    if kind == "bool":
        return "1" if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return repr(float(value))
    return str(value)
