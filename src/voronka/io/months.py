"""Parsing month columns of ad-spend files (``2024-03``, ``03.2024``, ``Март 2024``, a full date)."""

from __future__ import annotations

import re
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from voronka.io.dates import parse_dates
from voronka.io.numbers import as_chunked, map_distinct

MONTH_NAMES: dict[str, int] = {}
"""Month names and abbreviations (Russian in any case form, English) → month number."""
for _number, _names in enumerate(
    (
        "январь января янв january jan",
        "февраль февраля фев february feb",
        "март марта мар march mar",
        "апрель апреля апр april apr",
        "май мая may",
        "июнь июня июн june jun",
        "июль июля июл july jul",
        "август августа авг august aug",
        "сентябрь сентября сен сент september sep sept",
        "октябрь октября окт october oct",
        "ноябрь ноября ноя нояб november nov",
        "декабрь декабря дек december dec",
    ),
    start=1,
):
    for _name in _names.split():
        MONTH_NAMES[_name] = _number

_NUMERIC = (
    re.compile(r"^(?P<y>\d{4})[-./](?P<m>\d{1,2})$"),
    re.compile(r"^(?P<m>\d{1,2})[-./](?P<y>\d{4})$"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})$"),
)
_NAMED = (
    re.compile(r"^(?P<name>[a-zа-яё]+)\.?,?\s+(?P<y>\d{4})(?:\s*(?:г|года|год)\.?)?$"),
    re.compile(r"^(?P<y>\d{4})\s+(?P<name>[a-zа-яё]+)$"),
)


def month_of(text: str) -> date | None:
    """The first day of the month ``text`` names, or ``None`` (full dates are left to
    :func:`parse_months`)."""
    key = text.strip().lower().replace("ё", "е")
    for pattern in _NUMERIC:
        m = pattern.match(key)
        if m and 1 <= int(m["m"]) <= 12 and int(m["y"]) >= 1900:
            return date(int(m["y"]), int(m["m"]), 1)
    for pattern in _NAMED:
        m = pattern.match(key)
        if m and m["name"] in MONTH_NAMES:
            return date(int(m["y"]), MONTH_NAMES[m["name"]], 1)
    return None


def parse_months(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """``values`` as ``date32`` on the first day of each month; null where empty or not a month.

    A full date (``2024-03-15``, ``15.03.2024``, an Excel date) stands for its month.
    """
    col = as_chunked(values)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        as_dates = parse_dates(col)
    else:
        months = map_distinct(col, month_of, pa.date32())
        rest = pc.and_(pc.is_null(months), pc.is_valid(col))
        if not pc.any(rest).as_py():
            return months
        as_dates = parse_dates(col)
        as_dates = pc.if_else(pc.is_null(months), as_dates, months.cast(pa.timestamp("us")))
    truncated = pc.floor_temporal(as_dates, unit="month")
    return as_chunked(truncated).cast(pa.date32())
