"""Getting Arrow tables into an Ibis backend and small results back out as pandas frames.

Everything else in the engine is backend-neutral Ibis; this module holds the two places where a
backend's quirks must be handled in Python (never in SQL).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend

from voronka.engine import ibis_compilers, sql_cache

ibis_compilers.install()  # before Ibis's DuckDB backend is imported: its one compiler, not twenty

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
        if con.name == "duckdb":
            return _create_temp_duckdb(con, name, expr)
        try:
            return con.create_table(name, expr, temp=True)
        except NotImplementedError:
            return con.create_table(name, expr)


def _create_temp_duckdb(con: BaseBackend, name: str, expr: ir.Table) -> ir.Table:
    """``CREATE TEMP TABLE`` of ``expr``'s schema filled by its :func:`compiled_sql` (what
    ``create_table(temp=True)`` does, without compiling a shape twice)."""
    import sqlglot as sg
    import sqlglot.expressions as sge

    dialect = con.dialect
    table = sge.table_(name, catalog="temp", db="main", quoted=True)
    create = sge.Create(
        kind="TABLE",
        this=sge.Schema(this=table, expressions=expr.schema().to_sqlglot_column_defs(dialect)),
        properties=sge.Properties(expressions=[sge.TemporaryProperty()]),
    )
    columns = ", ".join(sg.to_identifier(c, quoted=True).sql(dialect) for c in expr.columns)
    con._run_pre_execute_hooks(expr)
    duck: Any = con
    duck.con.execute(create.sql(dialect))
    duck.con.execute(f"INSERT INTO {table.sql(dialect)} ({columns}) {compiled_sql(con, expr)}")
    return con.table(name, database=("temp", "main"))


DUCKDB_MEMORY_LIMIT = "600MB"
"""The default DuckDB connection's memory floor (logs up to about 2 million event rows). DuckDB's own
default (80 % of RAM) lets its buffers grow on top of the Arrow input the process already holds: at
1,000,000 deals the peak was 2.0 GB; with 400–600 MB DuckDB spills what does not fit to a temporary
directory and the peak fell to 1.3–1.5 GB at about the same speed (bench/README.md). Some operators
cannot spill, so a larger log gets :data:`BYTES_PER_EVENT_ROW` per event row (5,000,000 deals failed
with an out-of-memory error at 600 MB); ``VORONKA_DUCKDB_MEMORY`` (e.g. ``4GB``) overrides both."""

BYTES_PER_EVENT_ROW = 320
"""DuckDB memory allowed per event row above the 600 MB floor (capped at 80 % of RAM). At 200 bytes
(620 MB for the 3.1 million event rows of 1,000,000 deals) DuckDB spilled to disk; at 320 bytes
(≈ 1 GB) the 1M-deal audit took 27.1 s instead of 31.2 s, peak 1.66 GiB instead of 1.32 GiB
(bench/README.md, round 4)."""


def duckdb_memory_limit(event_rows: int | None = None) -> str:
    """The memory limit of the default DuckDB connection for a log of ``event_rows`` rows."""
    given = os.environ.get("VORONKA_DUCKDB_MEMORY", "").strip()
    if given:
        return given
    floor = 600 << 20
    want = max(floor, (event_rows or 0) * BYTES_PER_EVENT_ROW)
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        want = min(want, max(floor, int(ram * 0.8)))
    except (ValueError, OSError, AttributeError):
        pass
    return f"{want >> 20}MB"


def default_backend(event_rows: int | None = None) -> BaseBackend:
    """A fresh in-memory DuckDB connection, the engine's default backend, with the memory limit of
    :func:`duckdb_memory_limit` and its spill files in the system's temporary directory (DuckDB
    would otherwise write them under the current directory), and without DuckDB's progress bar,
    which it prints to standard output for a query of more than two seconds (into the JSON of
    ``voronka audit --format json`` written there)."""
    spill = Path(tempfile.gettempdir()) / f"voronka-duckdb-{os.getpid()}"
    con = ibis.duckdb.connect(memory_limit=duckdb_memory_limit(event_rows),
                              temp_directory=str(spill))
    con.raw_sql("SET enable_progress_bar = false")
    return con


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


_SQL_CACHE: OrderedDict[Any, str] = OrderedDict()
_SQL_CACHE_SIZE = 1024
_SQL_LOCK = threading.Lock()
_SLOT = "__voronka_table_{}__"


def _shape(expr: ir.Table) -> tuple[Any, dict[str, str]]:
    """``expr``'s operation with every table it reads renamed to a numbered placeholder (schema and
    namespace kept), and placeholder → real name. Two queries that differ only in the tables they
    read (the same aggregate of another log, or of a filtered one) have equal shapes."""
    import ibis.expr.operations as ops

    op = expr.op()
    leaves = op.find((ops.DatabaseTable, ops.InMemoryTable))
    mapping: dict[Any, Any] = {}
    names: dict[str, str] = {}
    for i, leaf in enumerate(leaves):
        slot = _SLOT.format(i)
        namespace = leaf.namespace if isinstance(leaf, ops.DatabaseTable) else ops.Namespace()
        mapping[leaf] = ops.UnboundTable(name=slot, schema=leaf.schema, namespace=namespace)
        names[slot] = leaf.name
    return op.replace(mapping), names


def compiled_sql(con: BaseBackend, expr: ir.Table) -> str:
    """The SQL of ``expr`` on a SQL backend, compiled once per query shape (see :func:`_shape`).

    Ibis compiles an expression in Python through many graph rewrites, which costs more than
    DuckDB takes to run most of the engine's aggregates; the engine asks the same few dozen
    shapes of every log (and of every filtered log), so each shape is compiled once per process
    and the table names are put in its SQL; the SQL is also kept on disk between runs
    (:mod:`voronka.engine.sql_cache`).
    """
    import sqlglot as sg

    shape, names = _shape(expr)
    key = (con.name, shape)
    with _SQL_LOCK:
        sql = _SQL_CACHE.get(key)
        if sql is not None:
            _SQL_CACHE.move_to_end(key)
    if sql is None:
        key_on_disk = sql_cache.digest(shape)
        sql = sql_cache.load(con, key_on_disk) if key_on_disk else None
        if sql is None:
            sql = con.compile(shape.to_expr())
            if key_on_disk:
                sql_cache.store(con, key_on_disk, sql)
        with _SQL_LOCK:
            _SQL_CACHE[key] = sql
            while len(_SQL_CACHE) > _SQL_CACHE_SIZE:
                _SQL_CACHE.popitem(last=False)
    dialect = con.dialect
    for slot, name in names.items():
        sql = sql.replace(
            sg.to_identifier(slot, quoted=True).sql(dialect),
            sg.to_identifier(name, quoted=True).sql(dialect),
        )
    return sql


def _run_arrow(con: BaseBackend, expr: ir.Table) -> pa.Table:
    """``expr`` executed on ``con`` as Arrow; on DuckDB through :func:`compiled_sql`."""
    if con.name != "duckdb":
        return con.to_pyarrow(expr)
    from ibis.backends.duckdb.converter import DuckDBPyArrowData

    table_expr = expr.as_table()
    con._run_pre_execute_hooks(table_expr)  # registers the in-memory tables it reads
    duck: Any = con
    arrow = duck.con.sql(compiled_sql(con, table_expr)).to_arrow_table()
    return table_expr.__pyarrow_result__(arrow, data_mapper=DuckDBPyArrowData)


def to_frame(con: BaseBackend, expr: ir.Table) -> pd.DataFrame:
    """A small aggregate ``expr`` executed on ``con`` as a pandas frame.

    Through Arrow, so nulls stay nulls on every backend; string columns come back as ``object``
    with ``None`` for null (pandas 3 would otherwise use NaN) and date columns as
    :class:`datetime.date`. Rows of an unordered aggregate are sorted by all columns: backends
    return groups in any order, and the audit's seeded Monte Carlo must see the same input twice.
    """
    with quiet_driver():
        arrow = _run_arrow(con, expr)
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
        if con.name == "duckdb":
            column = _run_arrow(con, expr.as_table()).column(0)
            value = column[0] if len(column) else None
        else:
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
