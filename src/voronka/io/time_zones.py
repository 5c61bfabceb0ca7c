"""Time zones written in date values: the UTC offset each value was written with, the most
common one, and naive timestamps moved from local time at an offset to UTC."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voronka.io.dates import TIMESTAMP
from voronka.io.numbers import as_chunked

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
