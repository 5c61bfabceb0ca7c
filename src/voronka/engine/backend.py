"""Getting Arrow tables into an Ibis backend and small results back out as pandas frames.

Everything else in the engine is backend-neutral Ibis; this module holds the two places where a
backend's quirks must be handled in Python (never in SQL).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import warnings
from collections.abc import Iterator
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend

_DRIVER_NOISE = (
    r"fetch_\w+\(\) is deprecated",
    r"Arrow output on a DB-API result makes an extra copy",
    r"The 'future.infer_string' option is deprecated",
)
"""Warnings DuckDB 2 and pandas 3 raise about how ibis 12 calls them: not ours to fix, and not
the user's."""


@contextlib.contextmanager
def quiet_driver() -> Iterator[None]:
    """Silence the database driver's :data:`_DRIVER_NOISE` while ibis talks to it."""
    with warnings.catch_warnings():
        for pattern in _DRIVER_NOISE:
            warnings.filterwarnings("ignore", message=pattern)
        yield


def materialize(con: BaseBackend, expr: ir.Table, prefix: str = "voronka") -> ir.Table:
    """``expr`` computed once and kept on ``con``; later queries read the stored result.

    A temporary table where the backend has them; on PySpark a cached DataFrame
    (``Table.cache``, which Spark keeps in memory for the session).
    """
    with quiet_driver():
        if con.name == "pyspark":
            return expr.cache()
        name = ibis.util.gen_name(prefix)
        try:
            return con.create_table(name, expr, temp=True)
        except NotImplementedError:
            return con.create_table(name, expr)


def default_backend() -> BaseBackend:
    """A fresh in-memory DuckDB connection, the engine's default backend."""
    return ibis.duckdb.connect()


def load_arrow(con: BaseBackend, table: pa.Table, prefix: str) -> ir.Table:
    """``table`` as an Ibis table usable on ``con``.

    DuckDB (and other backends) get an Ibis memtable, which DuckDB scans in place, without a
    copy; queries must then run through ``con`` explicitly (``con.to_pyarrow``,
    :func:`materialize`), never through ``Table.cache()``, which would pick Ibis's default
    backend for a memtable. PySpark gets the Arrow table directly as a temporary view
    (``createDataFrame`` accepts Arrow since Spark 4): ibis 12 sends memtables to Spark through
    pandas, and under pandas 3 a null string arrives in Spark as the text ``"NaN"``.
    """
    if con.name != "pyspark":
        return ibis.memtable(table)
    name = ibis.util.gen_name(prefix)
    with quiet_driver():
        session: Any = con._session
        session.createDataFrame(table).createOrReplaceTempView(name)
        return con.table(name)


def _is_ordered(expr: ir.Table) -> bool:
    """Whether ``expr`` ends in an explicit ``order_by`` (possibly under a ``limit``)."""
    import ibis.expr.operations as ops

    op = expr.op()
    while isinstance(op, ops.Limit):
        op = op.parent
    return isinstance(op, ops.Sort)


def to_frame(con: BaseBackend, expr: ir.Table) -> pd.DataFrame:
    """A small aggregate ``expr`` executed on ``con`` as a pandas frame.

    Through Arrow, so nulls stay nulls on every backend; string columns come back as ``object``
    with ``None`` for null (pandas 3 would otherwise use NaN) and date columns as
    :class:`datetime.date`. Rows of an unordered aggregate are sorted by all columns: backends
    return groups in any order, and the audit's seeded Monte Carlo must see the same input twice.
    """
    with quiet_driver():
        arrow = con.to_pyarrow(expr)
    if arrow.num_rows > 1 and not _is_ordered(expr):
        # A column type Arrow cannot sort (lists, structs): keep the backend's order.
        with contextlib.suppress(pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
            arrow = arrow.sort_by([(name, "ascending") for name in arrow.column_names])
    frame = pd.DataFrame(index=pd.RangeIndex(arrow.num_rows))
    for name, column in zip(arrow.column_names, arrow.columns, strict=True):
        if (
            pa.types.is_string(column.type)
            or pa.types.is_large_string(column.type)
            or pa.types.is_date(column.type)
        ):
            frame[name] = pd.Series(column.to_pylist(), dtype=object)
        else:
            frame[name] = column.to_pandas()
    return frame


def scalar(con: BaseBackend, expr: ir.Scalar) -> Any:
    """A scalar expression's value as a Python object (None for null)."""
    with quiet_driver():
        value = con.to_pyarrow(expr)
    return value.as_py() if isinstance(value, pa.Scalar) else value


def latest_timestamp(*tables: pa.Table | None) -> dt.datetime | None:
    """The latest value of any timestamp column of ``tables`` (None when there is none)."""
    latest: dt.datetime | None = None
    for table in tables:
        if table is None:
            continue
        for column in table.columns:
            if not pa.types.is_timestamp(column.type) or column.null_count == len(column):
                continue
            value = pc.max(column).as_py()
            if isinstance(value, pd.Timestamp):
                value = value.to_pydatetime()
            if value is not None and (latest is None or value > latest):
                latest = value
    return latest
