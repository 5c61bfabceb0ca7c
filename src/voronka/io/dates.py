"""Parsing date and time columns, vectorised.

Accepted: ISO 8601 (date, ``T`` or space, seconds optional, fractions, ``Z``/``UTC`` or an offset,
converted to naive UTC), ``DD.MM.YYYY[ HH:MM[:SS]]`` (also with ``/`` or ``-``), ``DD.MM.YY``,
``MM/DD/YYYY`` (when a column's values show the month comes first), Unix seconds or
milliseconds, and Excel serial day numbers (20000..80000, i.e. 1954..2119). Native timestamp and
date columns (Parquet, XLSX date cells) pass through.

How: values of a fixed shape (``01.03.2024 07:29:26``) are decoded straight from Arrow's string
buffer with numpy, one template per shape, with day-of-month and clock ranges checked
(:mod:`voronka.io.date_templates`); what is left goes to Arrow's ISO-8601 cast, and the few values
still left to a forgiving per-value parser. A column may mix formats: each row is tried against
the next format when the previous one failed. The offsets values were written with are read by
:mod:`voronka.io.time_zones`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voronka.io.date_templates import NULL_MICROS, US_PER_DAY, templates_pass
from voronka.io.numbers import as_chunked

TIMESTAMP = pa.timestamp("us")
_EXCEL_EPOCH_DAYS = -25_569  # 1899-12-30 relative to 1970-01-01
_EPOCH = datetime(1970, 1, 1)

# Templates: Y M D h m s are digits; every other character must appear as written.
_TEMPLATES = (
    "YYYY-MM-DD hh:mm:ss",
    "YYYY-MM-DDThh:mm:ss",
    "YYYY-MM-DD",
    "DD.MM.YYYY hh:mm:ss",
    "DD.MM.YYYY hh:mm",
    "DD.MM.YYYY",
    "YYYY-MM-DD hh:mm",
    "YYYY-MM-DDThh:mm",
    "YYYY-MM-DDThh:mm:ssZ",
    "YYYY-MM-DD hh:mm:ss UTC",
    "YYYY-MM-DD hh:mm:ssZ",
    "DD.MM.YYYY, hh:mm:ss",
    "DD.MM.YYYY, hh:mm",
    "DD.MM.YY hh:mm",
    "DD.MM.YY",
    "DD/MM/YYYY hh:mm:ss",
    "DD/MM/YYYY hh:mm",
    "DD/MM/YYYY",
    "DD-MM-YYYY hh:mm:ss",
    "DD-MM-YYYY",
    "YYYY/MM/DD hh:mm:ss",
    "YYYY/MM/DD",
)
_DAY_FIRST_SLASH = tuple(t for t in _TEMPLATES if t.startswith("DD/"))


def _swap_day_month(template: str) -> str:
    return template.replace("DD/MM", "MM/DD")


def parse_dates(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """``values`` as ``timestamp[us]`` (naive UTC); null where a value is empty or not a date.

    A caller tells "empty" from "bad" by comparing with :func:`voronka.io.numbers.blank_mask`.
    """
    col = as_chunked(values)
    t = col.type
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            col = pc.cast(col, pa.timestamp(t.unit, "UTC")).cast(pa.timestamp(t.unit))
        return col.cast(TIMESTAMP)
    if pa.types.is_date(t):
        return col.cast(TIMESTAMP)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        numbers = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return _from_micros(_numbers_to_micros(numbers))
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        col = col.cast(pa.string())
    templates = _column_templates(col)
    chunks = [_parse_chunk(chunk, templates) for chunk in col.chunks]
    return pa.chunked_array(chunks, TIMESTAMP)


def _column_templates(col: pa.ChunkedArray) -> tuple[str, ...]:
    """The templates for this column: slash dates are day-first unless a sample shows a month
    first (a second field above 12 and never a first one)."""
    sample = _sample(col, 20_000)
    if not any("/" in v for v in sample):
        return _TEMPLATES
    first_big = second_big = 0
    for v in sample:
        m = re.match(r"\s*(\d{1,2})/(\d{1,2})/\d{2,4}", v)
        if m:
            first_big += int(m.group(1)) > 12
            second_big += int(m.group(2)) > 12
    if second_big > first_big:
        return tuple(_swap_day_month(t) if t in _DAY_FIRST_SLASH else t for t in _TEMPLATES)
    return _TEMPLATES


def _sample(col: pa.ChunkedArray, size: int) -> list[str]:
    """Up to ``size`` values from ten evenly spaced stretches of the column (slices are cheap)."""
    n = len(col)
    part = max(1, size // 10)
    starts = sorted({min(max(0, n - part), i * n // 10) for i in range(10)})
    values: list[str] = []
    for start in starts:
        values.extend(v for v in col.slice(start, part).to_pylist() if v)
    return values


def _from_micros(micros: np.ndarray) -> pa.ChunkedArray:
    mask = micros == NULL_MICROS
    return pa.chunked_array([pa.array(micros, pa.int64(), mask=mask).cast(TIMESTAMP)])


def _numbers_to_micros(x: np.ndarray) -> np.ndarray:
    """Excel serial days (20000..80000), Unix seconds (1e8..1e11) or milliseconds (1e11..1e14)."""
    out = np.full(x.shape, NULL_MICROS, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        excel = (x >= 20_000) & (x <= 80_000)
        secs = (x >= 1e8) & (x < 1e11)
        millis = (x >= 1e11) & (x < 1e14)
    out[excel] = np.round((x[excel] + _EXCEL_EPOCH_DAYS) * US_PER_DAY).astype(np.int64)
    out[secs] = np.round(x[secs] * 1e6).astype(np.int64)
    out[millis] = np.round(x[millis] * 1e3).astype(np.int64)
    return out


def _parse_chunk(chunk: pa.Array, templates: tuple[str, ...]) -> pa.Array:
    arr = chunk.cast(pa.string())
    n = len(arr)
    out = np.full(n, NULL_MICROS, dtype=np.int64)
    valid = arr.is_valid().to_numpy(zero_copy_only=False) if arr.null_count else np.ones(n, bool)
    pending = np.flatnonzero(valid)
    if len(pending) and arr.buffers()[2] is not None:
        pending = templates_pass(arr, pending, out, templates)
    if len(pending):
        # Second chance for the rest: trimmed, then Arrow's ISO parser, then value by value.
        day_first = "MM/DD" not in "".join(templates)

        def last(left: pa.Array) -> np.ndarray:
            bulk = _iso_bulk(left)
            return _numbers_then_slow(left, day_first=day_first) if bulk is None else bulk

        second_chance(arr, pending, out, templates, last)
    return pa.array(out, pa.int64(), mask=out == NULL_MICROS).cast(TIMESTAMP)


LastStep = Callable[[pa.Array], np.ndarray]
"""The last step of :func:`second_chance`: microseconds (or the null marker) of each value."""


def second_chance(
    arr: pa.StringArray, pending: np.ndarray, out: np.ndarray, templates: tuple[str, ...],
    last: LastStep,
) -> None:
    """The second pass over the ``pending`` rows of ``arr`` no template fitted: the values
    trimmed, the ``templates`` again, then ``last`` on whatever is still left; fills ``out``."""
    sub = pc.utf8_trim_whitespace(arr.take(pa.array(pending)))
    sub_out = np.full(len(sub), NULL_MICROS, dtype=np.int64)
    rest = np.arange(len(sub))
    if sub.buffers()[2] is not None:
        rest = templates_pass(sub, rest, sub_out, templates)
    if len(rest):
        sub_out[rest] = last(sub.take(pa.array(rest)))
    out[pending] = sub_out


def _iso_bulk(values: pa.Array) -> np.ndarray | None:
    """Arrow's ISO-8601 cast when every value passes it (all naive, or all with offsets).

    A failing cast costs as much as a full one, so it is tried only when a sample of the values
    is ISO, all of one kind.
    """
    sample = [v for v in values.slice(0, 200).to_pylist() if v]
    matches = [_ISO_TZ.match(v) for v in sample]
    if not sample or not all(matches):
        return None
    zones = {m.group(8) is not None for m in matches if m}
    if len(zones) != 1:
        return None
    target = pa.timestamp("us", "UTC") if zones.pop() else TIMESTAMP
    try:
        parsed = pc.cast(values, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return np.asarray(parsed.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _numbers_then_slow(values: pa.Array, *, day_first: bool) -> np.ndarray:
    """Numbers (Unix time, Excel serials) in bulk; whatever else is left, value by value."""
    out = np.full(len(values), NULL_MICROS, dtype=np.int64)
    numeric = np.asarray(
        pc.fill_null(pc.match_substring_regex(values, r"^\d{5,}(?:[.,]\d+)?$"), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    if numeric.any():
        where = np.flatnonzero(numeric)
        texts = pc.replace_substring(values.take(pa.array(where)), ",", ".")
        numbers = texts.cast(pa.float64()).to_numpy(zero_copy_only=False)
        out[where] = _numbers_to_micros(numbers)
    others = np.flatnonzero(~numeric)
    if len(others):
        out[others] = _slow(values.take(pa.array(others)), day_first=day_first)
    return out


_ISO_TZ = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_DMY = re.compile(
    r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T,]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,]\d+)?)?"
    r"\s*(AM|PM)?)?$",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")


def _slow(values: pa.Array, *, day_first: bool) -> np.ndarray:
    """Per distinct value, for the few values no template fits."""
    texts = values.to_pylist()
    cache: dict[str, int] = {}
    out = np.empty(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        if text not in cache:
            cache[text] = _parse_one(text or "", day_first=day_first)
        out[i] = cache[text]
    return out


def _parse_one(text: str, *, day_first: bool) -> int:
    """One value as microseconds since 1970 (naive UTC), or the null marker."""
    text = text.strip()
    m = _ISO_TZ.match(text)
    if m:
        y, mo, d, hh, mi, ss, frac, tz = m.groups()
        return _compose(y, mo, d, hh, mi, ss, frac, None, tz)
    m = _DMY.match(text)
    if m:
        a, sep, b, y, hh, mi, ss, ampm = m.groups()
        day, month = (a, b) if day_first or sep != "/" else (b, a)
        if len(y) == 2:
            y = str(2000 + int(y) if int(y) < 70 else 1900 + int(y))
        return _compose(y, month, day, hh, mi, ss, None, ampm, None)
    if _NUMBER.match(text):
        return int(_numbers_to_micros(np.array([float(text.replace(",", "."))]))[0])
    return NULL_MICROS


def _compose(
    y: str,
    mo: str,
    d: str,
    hh: str | None,
    mi: str | None,
    ss: str | None,
    frac: str | None,
    ampm: str | None,
    tz: str | None,
) -> int:
    hour = int(hh or 0)
    if ampm:
        if not 1 <= hour <= 12:
            return NULL_MICROS
        hour = hour % 12 + (12 if ampm.upper() == "PM" else 0)
    try:
        moment = datetime(
            int(y),
            int(mo),
            int(d),
            hour,
            int(mi or 0),
            int(ss or 0),
            int((frac or "0")[:6].ljust(6, "0")),
        )
    except ValueError:
        return NULL_MICROS
    offset_minutes = 0
    if tz and tz.upper() not in {"Z", "UTC", "GMT"}:
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        offset_minutes = sign * (int(digits[:2]) * 60 + int(digits[2:4] or 0))
    micros = (moment - _EPOCH) // timedelta(microseconds=1) - offset_minutes * 60_000_000
    return int(micros)
