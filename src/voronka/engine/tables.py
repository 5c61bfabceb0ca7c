"""The raw input tables as the engine takes them: the canonical Arrow tables of ``voronka.io``
normalised for every backend (docs/internals.md, "io → engine")."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from voronka.errors import InputError, Msg, any_of


def canonical_table(table: Any, required: tuple[str, ...], what: str) -> pa.Table:
    """An Arrow table with ``deal_id`` as text, naive-UTC timestamps and a ``_row`` column."""
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    if not isinstance(table, pa.Table):
        raise TypeError(f"the {what} must be a pyarrow.Table or a pandas.DataFrame")
    for name in required:
        if name not in table.column_names:
            raise InputError(
                Msg("errors.raised.the_table_has_no_column", what=what, name=repr(name)),
                column=name,
                expected=any_of(required),
            )
    if "_row" not in table.column_names:
        table = table.append_column("_row", pa.array(range(1, table.num_rows + 1), pa.int64()))
    for i, field in enumerate(table.schema):
        column = table.column(i)
        if field.name == "deal_id" and not pa.types.is_string(field.type):
            table = table.set_column(i, field.name, pc.cast(column, pa.string()))
        elif field.name == "_row" and field.type != pa.int64():
            table = table.set_column(i, field.name, pc.cast(column, pa.int64()))
        elif pa.types.is_null(field.type):
            # An all-empty column has no type; backends need one.
            table = table.set_column(i, field.name, pc.cast(column, pa.string()))
        elif pa.types.is_timestamp(field.type) and (field.type.tz or field.type.unit != "us"):
            # The contract is naive UTC in microseconds; a zoned column is shifted to UTC.
            table = table.set_column(i, field.name, pc.cast(column, pa.timestamp("us")))
    return table


def id_counts(table: pa.Table) -> tuple[int, int]:
    """Rows of a table and its distinct ``deal_id`` values, a null id counting as one value: what
    :func:`voronka.engine.summary.deal_id_counts` asks the backend, counted in Arrow when the table
    is at hand (one hash pass over the integer keys, no query)."""
    column = table.column("deal_id")
    distinct = pc.count_distinct(column).as_py()
    return table.num_rows, int(distinct) + (1 if column.null_count else 0)
