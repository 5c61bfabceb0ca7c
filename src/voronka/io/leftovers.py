"""The readers' own verdict on single distinct values, for a backend that parses the plain forms
itself (``voronka.engine.read``).

The backend parses the forms that are plain by construction (``31.03.2024 14:05``, ``1234.5``,
an ASCII id) and asks these functions about every other distinct value of a column. Each returns
exactly what the Python readers (:mod:`voronka.io.readers`) give that value *in its whole column*;
where the answer could depend on the rest of the column, it says so (``exact`` False) and the
caller reads the file with the Python readers instead.

Why the answers do not depend on the column: numbers — Arrow's cast of the whole column succeeds
exactly when it succeeds on the values that are not plain, and the comma rule of
:func:`~voronka.io.numbers.parse_numbers` looks only at values with a comma (never plain); ids,
blanks and status words are decided value by value; dates — the templates are fixed for a column
without ``/`` (the caller checks), zones are looked for here, and the one column-wide choice left
(Arrow's ISO cast for all leftovers of a chunk, or the forgiving parser) is harmless when both
agree on every value, which :func:`date_values` checks.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voronka.io.date_templates import NULL_MICROS, templates_pass
from voronka.io.dates import _TEMPLATES, TIMESTAMP, _numbers_then_slow, second_chance
from voronka.io.numbers import blank_mask, parse_numbers
from voronka.io.time_zones import zone_offsets

MAX_CAST_CHECKS = 20_000
"""Leftover date values checked one by one against Arrow's ISO cast; beyond, not exact."""


def blanks(values: pa.Array) -> np.ndarray:
    """Which values are blank (spaces only) as the readers see them."""
    return np.asarray(pc.fill_null(blank_mask(values), False).to_numpy(zero_copy_only=False),
                      dtype=bool)


def number_values(values: pa.Array) -> pa.ChunkedArray:
    """The numbers :func:`~voronka.io.numbers.parse_numbers` reads from ``values`` (the values of
    a column that are not plain decimals) — the same as in the whole column."""
    return parse_numbers(values)


def date_values(values: pa.Array) -> tuple[pa.Array, bool]:
    """``(timestamps, exact)``: :func:`~voronka.io.dates.parse_dates` of each value as in its
    column, and whether that is certain (no time zone written; Arrow's ISO cast agrees with the
    forgiving parser wherever it accepts a value)."""
    arr = values.cast(pa.string())
    n = len(arr)
    out = np.full(n, NULL_MICROS, dtype=np.int64)
    if n == 0:
        return pa.array(out, pa.int64()).cast(TIMESTAMP), True
    if not np.isnan(zone_offsets(arr)).all():
        return pa.array(out, pa.int64()).cast(TIMESTAMP), False
    pending = np.arange(n)
    if arr.buffers()[2] is not None:
        pending = templates_pass(arr, pending, out, _TEMPLATES)
    agreed = []

    def last(left: pa.Array) -> np.ndarray:
        slow = _numbers_then_slow(left, day_first=True)
        agreed.append(_cast_agrees(left, slow))
        return slow

    if len(pending):
        second_chance(arr, pending, out, _TEMPLATES, last)
    return pa.array(out, pa.int64(), mask=out == NULL_MICROS).cast(TIMESTAMP), all(agreed)


def _cast_agrees(values: pa.Array, slow: np.ndarray) -> bool:
    """Whether Arrow's ISO cast (naive or UTC) gives the forgiving parser's answer wherever it
    accepts a value."""
    if len(values) > MAX_CAST_CHECKS:
        return False
    for target in (TIMESTAMP, pa.timestamp("us", "UTC")):
        try:
            whole = pc.cast(values, target).cast(pa.int64()).to_numpy(zero_copy_only=False)
            if not np.array_equal(np.asarray(whole, dtype=np.int64), slow):
                return False
            continue
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        # One value at a time, as a one-row slice of the array: a new array made from each
        # value's Python string cost almost twice as much (0.14 s against 0.08 s of CPU for the
        # 2,700 leftover dates of 1,000,000 deals, none of which Arrow reads).
        for i in range(len(values)):
            try:
                one = pc.cast(values.slice(i, 1), target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
            if one.cast(pa.int64())[0].as_py() != int(slow[i]):
                return False
    return True
