"""Shaping a freshly read table: unique headers, ``_row`` numbers, wholly empty rows dropped."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def dedupe_headers(headers: Sequence[str]) -> list[str]:
    """Headers made unique (`` (2)``, `` (3)`` …), BOM and spaces stripped, blanks named."""
    seen: dict[str, int] = {}
    out = []
    for i, raw in enumerate(headers):
        name = raw.replace("\ufeff", "").strip() or f"column {i + 1}"
        if name == "_row":
            name = "_row (file)"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def finish_table(
    table: pa.Table, *, extra_rows: int = 0, drop_empty: bool = True
) -> tuple[pa.Table, int]:
    """Add ``_row`` and drop wholly empty rows (they are not data and are not counted).

    ``extra_rows`` are placeholder rows (bad lines) that count as read though they are dropped.
    ``drop_empty=False`` keeps them: a table read with only some of its columns cannot tell an
    empty row from one whose cells are all in the columns left out, so every row counts.
    """
    n = table.num_rows
    table = table.append_column("_row", pa.array(np.arange(1, n + 1, dtype=np.int64)))
    if n == 0 or table.num_columns == 1 or not drop_empty:
        return table, n
    # Null bitmaps only: cheap on millions of rows (a cell of spaces makes a row non-empty).
    empty = None
    for name in table.column_names[:-1]:
        blank = pc.is_null(table.column(name))
        empty = blank if empty is None else pc.and_(empty, blank)
        if not pc.any(empty).as_py():
            return table, n + extra_rows
    if empty is not None and pc.any(empty).as_py():
        table = table.filter(pc.invert(empty))
    return table, table.num_rows + extra_rows
