"""Parsing date and time columns, vectorised.

Accepted: ISO 8601 (date, ``T`` or space, seconds optional, fractions, ``Z``/``UTC`` or an offset,
converted to naive UTC), ``DD.MM.YYYY[ HH:MM[:SS]]`` (also with ``/`` or ``-``), ``DD.MM.YY``,
``MM/DD/YYYY`` (when a column's values show the month comes first), Unix seconds or
milliseconds, and Excel serial day numbers (20000..80000, i.e. 1954..2119). Native timestamp and
date columns (Parquet, XLSX date cells) pass through.

How: values of a fixed shape (``01.03.2024 07:29:26``) are decoded straight from Arrow's string
buffer with numpy, one template per shape, with day-of-month and clock ranges checked; what is
left goes to Arrow's ISO-8601 cast, and the few values still left to a forgiving per-value parser.
A column may mix formats: each row is tried against the next format when the previous one failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voronka.io.numbers import as_chunked

TIMESTAMP = pa.timestamp("us")
_US_PER_DAY = 86_400_000_000
_EXCEL_EPOCH_DAYS = -25_569  # 1899-12-30 relative to 1970-01-01
_NULL = np.iinfo(np.int64).min
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
    mask = micros == _NULL
    return pa.chunked_array([pa.array(micros, pa.int64(), mask=mask).cast(TIMESTAMP)])


def _numbers_to_micros(x: np.ndarray) -> np.ndarray:
    """Excel serial days (20000..80000), Unix seconds (1e8..1e11) or milliseconds (1e11..1e14)."""
    out = np.full(x.shape, _NULL, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        excel = (x >= 20_000) & (x <= 80_000)
        secs = (x >= 1e8) & (x < 1e11)
        millis = (x >= 1e11) & (x < 1e14)
    out[excel] = np.round((x[excel] + _EXCEL_EPOCH_DAYS) * _US_PER_DAY).astype(np.int64)
    out[secs] = np.round(x[secs] * 1e6).astype(np.int64)
    out[millis] = np.round(x[millis] * 1e3).astype(np.int64)
    return out


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days: np.ndarray = era * 146_097 + doe - 719_468
    return days


def _days_in_month(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    dim = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)[
        np.clip(m, 0, 12)
    ]
    out: np.ndarray = dim + ((m == 2) & leap)
    return out


def _apply_template(matrix: np.ndarray, template: str) -> tuple[np.ndarray, np.ndarray]:
    """Decode a (rows × len(template)) byte matrix: (valid mask, micros).

    Works column by column on the uint8 matrix (no wide copies): a 6-million-row column costs a
    few hundred milliseconds.
    """
    rows = len(matrix)
    ok = np.ones(rows, dtype=bool)
    for pos, ch in enumerate(template):
        if ch not in "YMDhms":
            ok &= matrix[:, pos] == ord(ch)
            if not ok.any():
                return ok, np.zeros(rows, dtype=np.int64)
    fields: dict[str, np.ndarray] = {}
    for letter in "YMDhms":
        value = np.zeros(rows, dtype=np.int32)
        for pos in (i for i, ch in enumerate(template) if ch == letter):
            digit = matrix[:, pos] - np.uint8(48)  # wraps below '0', so one test covers both ends
            ok &= digit < 10
            value *= 10
            value += digit
        fields[letter] = value
    year = fields["Y"]
    if template.count("Y") == 2:
        year = np.where(year < 70, 2000 + year, 1900 + year)
    month, day = fields["M"], fields["D"]
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (year >= 1)
    ok &= day <= _days_in_month(year, month)
    ok &= (fields["h"] <= 23) & (fields["m"] <= 59) & (fields["s"] <= 59)
    days = _days_from_civil(year.astype(np.int64), month.astype(np.int64), day.astype(np.int64))
    seconds = (fields["h"] * 60 + fields["m"]) * 60 + fields["s"]
    micros = days * _US_PER_DAY + seconds.astype(np.int64) * 1_000_000
    return ok, micros


def _byte_matrix(arr: pa.StringArray, rows: np.ndarray, width: int) -> np.ndarray:
    """The bytes of the given rows (all of length ``width``) as a (rows × width) uint8 matrix."""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    starts = offsets[rows].astype(np.int64)
    if len(rows) and starts[-1] - starts[0] == (len(rows) - 1) * width:
        # Consecutive rows of one width lie back to back: a zero-copy view.
        return data[starts[0] : starts[0] + len(rows) * width].reshape(len(rows), width)
    out = np.empty((len(rows), width), dtype=np.uint8)
    cols = np.arange(width, dtype=np.int64)
    for begin in range(0, len(rows), 262_144):
        part = starts[begin : begin + 262_144]
        out[begin : begin + len(part)] = data[part[:, None] + cols]
    return out


def _templates_pass(
    arr: pa.StringArray, pending: np.ndarray, out: np.ndarray, templates: tuple[str, ...]
) -> np.ndarray:
    """Fill ``out`` for ``pending`` rows that fit a template; return the rows still pending."""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    lengths = np.diff(offsets)
    for template in templates:
        if not len(pending):
            break
        fits = lengths[pending] == len(template)
        if not fits.any():
            continue
        rows = pending[fits]
        ok, micros = _apply_template(_byte_matrix(arr, rows, len(template)), template)
        out[rows[ok]] = micros[ok]
        if ok.any():
            done = np.zeros(len(arr), dtype=bool)
            done[rows[ok]] = True
            pending = pending[~done[pending]]
    return pending


def _parse_chunk(chunk: pa.Array, templates: tuple[str, ...]) -> pa.Array:
    arr = chunk.cast(pa.string())
    n = len(arr)
    out = np.full(n, _NULL, dtype=np.int64)
    valid = arr.is_valid().to_numpy(zero_copy_only=False) if arr.null_count else np.ones(n, bool)
    pending = np.flatnonzero(valid)
    if len(pending) and arr.buffers()[2] is not None:
        pending = _templates_pass(arr, pending, out, templates)
    if len(pending):
        # Second chance for the rest: trimmed, then Arrow's ISO parser, then value by value.
        day_first = "MM/DD" not in "".join(templates)

        def last(left: pa.Array) -> np.ndarray:
            bulk = _iso_bulk(left)
            return _numbers_then_slow(left, day_first=day_first) if bulk is None else bulk

        second_chance(arr, pending, out, templates, last)
    return pa.array(out, pa.int64(), mask=out == _NULL).cast(TIMESTAMP)


LastStep = Callable[[pa.Array], np.ndarray]
"""The last step of :func:`second_chance`: microseconds (or the null marker) of each value."""


def second_chance(
    arr: pa.StringArray, pending: np.ndarray, out: np.ndarray, templates: tuple[str, ...],
    last: LastStep,
) -> None:
    """The second pass over the ``pending`` rows of ``arr`` no template fitted: the values
    trimmed, the ``templates`` again, then ``last`` on whatever is still left; fills ``out``."""
    sub = pc.utf8_trim_whitespace(arr.take(pa.array(pending)))
    sub_out = np.full(len(sub), _NULL, dtype=np.int64)
    rest = np.arange(len(sub))
    if sub.buffers()[2] is not None:
        rest = _templates_pass(sub, rest, sub_out, templates)
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
    out = np.full(len(values), _NULL, dtype=np.int64)
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
    return _NULL


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
            return _NULL
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
        return _NULL
    offset_minutes = 0
    if tz and tz.upper() not in {"Z", "UTC", "GMT"}:
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        offset_minutes = sign * (int(digits[:2]) * 60 + int(digits[2:4] or 0))
    micros = (moment - _EPOCH) // timedelta(microseconds=1) - offset_minutes * 60_000_000
    return int(micros)


_ZONE = (
    r"(?i)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)\s*$"
)


def zone_offsets(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Per value, the UTC offset it was written with in minutes (``Z``/``UTC`` → 0), NaN for a
    value without one (naive, empty, or not a string column)."""
    col = as_chunked(values)
    n = len(col)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)) or n == 0:
        return np.full(n, np.nan)
    encoded = pc.dictionary_encode(col.combine_chunks())
    words = encoded.dictionary.to_pylist()
    pattern = re.compile(_ZONE)
    minutes = np.full(len(words) + 1, np.nan)
    for i, word in enumerate(words):
        m = pattern.search(word or "")
        if m is None:
            continue
        zone = m.group(1).upper()
        if zone in ("Z", "UTC", "GMT"):
            minutes[i] = 0.0
        else:
            digits = zone[1:].replace(":", "")
            value = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
            minutes[i] = -value if zone[0] == "-" else value
    indices = pc.fill_null(encoded.indices, len(words)).to_numpy(zero_copy_only=False)
    out: np.ndarray = minutes[indices]
    return out


def shift_minutes(
    parsed: pa.ChunkedArray, minutes: float, where: np.ndarray | None = None
) -> pa.ChunkedArray:
    """``parsed`` (naive timestamps) moved back by ``minutes`` (local time at that offset → UTC),
    at the rows ``where`` (all rows when None)."""
    if not minutes:
        return parsed
    delta = int(round(minutes * 60_000_000))
    micros = pc.cast(parsed, pa.int64())
    shifted = pc.subtract(micros, delta)
    if where is not None:
        shifted = pc.if_else(pa.array(where), shifted, micros)
    return as_chunked(pc.cast(shifted, TIMESTAMP))


def dominant_offset(minutes: np.ndarray) -> float | None:
    """The most common offset of :func:`zone_offsets` values (None when none has one)."""
    given = minutes[~np.isnan(minutes)]
    if not len(given):
        return None
    values, counts = np.unique(given, return_counts=True)
    return float(values[int(np.argmax(counts))])
