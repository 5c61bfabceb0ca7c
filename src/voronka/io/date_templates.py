"""Date values of a fixed shape (``01.03.2024 07:29:26``) decoded straight from Arrow's string
buffer with numpy, one template per shape, with day-of-month and clock ranges checked — the fast
first pass of :func:`voronka.io.dates.parse_dates` (which holds the templates it accepts).

A template's ``Y M D h m s`` are digits; every other character must appear as written.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

US_PER_DAY = 86_400_000_000
NULL_MICROS = np.iinfo(np.int64).min
"""The microseconds of a value that is not a date (int64's minimum; a null when made Arrow)."""


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
    micros = days * US_PER_DAY + seconds.astype(np.int64) * 1_000_000
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


def templates_pass(
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
