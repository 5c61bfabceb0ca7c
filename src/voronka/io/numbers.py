"""Parsing money and other numbers as people write them: ``1 234,56``, ``1234.56``,
``1,234.56``, ``1.234,56``, ``₽ 1 500``, ``$1,500``, ``1500 руб.`` (non-breaking spaces too).

Clean columns go through Arrow's cast in one step; others are parsed once per distinct value
(amount and cost columns repeat values a lot), then spread back with ``take``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc

T = TypeVar("T")

_JUNK = re.compile(
    r"[\s\u00a0\u202f\u2009'₽$€£]|руб\.?|р\.|rub\.?|rur|usd|eur|грн|тг|₸",
    re.IGNORECASE,
)
_PLAIN = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?", re.IGNORECASE)
_COMMA_GROUPS = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+")


def as_chunked(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """``values`` as a chunked array (readers and helpers accept either)."""
    if isinstance(values, pa.ChunkedArray):
        return values
    if isinstance(values, pa.Array):
        return pa.chunked_array([values])
    return pa.chunked_array([pa.array(values)])


def blank_mask(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """True where a cell is empty: null, or a string of spaces only."""
    col = as_chunked(values)
    blank = pc.is_null(col)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        spaces = pc.fill_null(pc.utf8_is_space(col), False)
        blank = pc.or_(blank, spaces)
    return blank


def map_distinct(
    values: pa.ChunkedArray, fn: Callable[[str], T | None], type_: pa.DataType
) -> pa.ChunkedArray:
    """Apply ``fn`` once per distinct string of ``values`` and spread the results back."""
    if len(values) == 0:
        return pa.chunked_array([], type_)
    encoded = pc.dictionary_encode(values.combine_chunks())
    mapped = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], type_)
    return pa.chunked_array([mapped.take(encoded.indices)])


def parse_number(text: str, *, comma_thousands: bool = False) -> float | None:
    """One number as written, or ``None``.

    A comma is the decimal separator (``1 234,56``) unless the value also has a dot after it
    (``1,234.56``) or ``comma_thousands`` says the column groups thousands with commas.
    """
    t = _JUNK.sub("", text)
    negative = t.startswith("(") and t.endswith(")")
    if negative:
        t = t[1:-1]
    if "," in t and "." in t:
        t = (
            t.replace(".", "").replace(",", ".")
            if t.rfind(",") > t.rfind(".")
            else t.replace(",", "")
        )
    elif "," in t:
        if t.count(",") > 1 or (comma_thousands and _COMMA_GROUPS.fullmatch(t)):
            t = t.replace(",", "")
        else:
            t = t.replace(",", ".")
    elif t.count(".") > 1:
        t = t.replace(".", "")
    if not _PLAIN.fullmatch(t):
        return None
    value = float(t)
    return -value if negative else value


def parse_numbers(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """``values`` as ``float64``; null where a value is empty or not a number."""
    col = as_chunked(values)
    t = col.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return col.cast(pa.float64())
    if (
        pa.types.is_boolean(t)
        or pa.types.is_dictionary(t)
        or not (pa.types.is_string(t) or pa.types.is_large_string(t))
    ):
        col = col.cast(pa.string())
    try:
        return col.cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    distinct = [v for v in pc.unique(col).to_pylist() if v]
    # A column that writes "1,234.50" somewhere, or whose commas are only ever followed by three
    # digits ("1,500", never "12,5"), groups thousands with commas.
    comma_thousands = any(re.search(r"\d,\d{3}\.", v) for v in distinct) or (
        any(_COMMA_GROUPS.fullmatch(_JUNK.sub("", v)) for v in distinct)
        and not any(re.search(r",\d{1,2}$|,\d{4,}", _JUNK.sub("", v)) for v in distinct)
    )

    def one(text: str) -> float | None:
        return parse_number(text, comma_thousands=comma_thousands)

    return map_distinct(col, one, pa.float64())
