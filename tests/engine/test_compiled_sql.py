"""Each query shape is compiled once (``voronka.engine.backend.compiled_sql``): a query that differs
only in the tables it reads reuses the SQL with its own tables put in, and gives its own rows."""

from __future__ import annotations

import os

import ibis
import pyarrow as pa
import pytest
from engine_logs import counting_compiles

from voronka.engine import backend


def _counts(con: ibis.BaseBackend, values: list[str]) -> ibis.Table:
    table = backend.load_arrow(con, pa.table({"k": pa.array(values, pa.string())}), "t")
    return table.group_by("k").agg(n=table.count())


def test_a_recurring_shape_is_compiled_once_and_reads_its_own_tables() -> None:
    con = ibis.duckdb.connect()
    compiled = counting_compiles(con)
    first = backend.to_frame(con, _counts(con, ["a", "b", "b"]))
    stored = backend.materialize(con, _counts(con, ["c"]))
    second = backend.to_frame(con, _counts(con, ["x", "x", "y", "x"]))
    assert first.to_dict("list") == {"k": ["a", "b"], "n": [1, 2]}
    assert second.to_dict("list") == {"k": ["x", "y"], "n": [3, 1]}
    assert backend.to_frame(con, stored).to_dict("list") == {"k": ["c"], "n": [1]}
    # The group-by shape was compiled once; the stored table's own select is a second shape.
    assert sum("GROUP BY" in sql for sql in compiled) <= 1
    assert backend.scalar(con, _counts(con, ["p", "q"]).count().name("n")) == 2


def test_a_different_shape_or_literal_is_compiled_again() -> None:
    con = ibis.duckdb.connect()
    table = backend.load_arrow(con, pa.table({"v": pa.array([1, 2, 3], pa.int64())}), "t")
    above_one = backend.to_frame(con, table.filter(table.v > 1).select("v"))
    above_two = backend.to_frame(con, table.filter(table.v > 2).select("v"))
    assert above_one["v"].tolist() == [2, 3]
    assert above_two["v"].tolist() == [3]


def test_the_default_backend_bounds_duckdb_memory() -> None:
    con = backend.default_backend()
    limit = con.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit.endswith("MiB") and float(limit.split()[0]) < 1024


def test_a_large_log_gets_room_and_the_user_may_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """600 MB floor (up to ~2M event rows); 320 bytes a row beyond (5M deals failed at 600 MB: operators
    that cannot spill); never above 80 % of RAM; VORONKA_DUCKDB_MEMORY overrides."""
    monkeypatch.delenv("VORONKA_DUCKDB_MEMORY", raising=False)
    assert backend.duckdb_memory_limit(None) == "600MB"
    assert backend.duckdb_memory_limit(1_000_000) == "600MB"
    ram_mb = (os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) >> 20
    big = int(backend.duckdb_memory_limit(15_000_000).removesuffix("MB"))
    assert big == min(15_000_000 * backend.BYTES_PER_EVENT_ROW >> 20, max(600, int(ram_mb * 0.8)))
    one_million_deals = int(backend.duckdb_memory_limit(3_107_500).removesuffix("MB"))
    assert 900 <= one_million_deals <= 1100  # the measured point: room enough not to spill
    huge = int(backend.duckdb_memory_limit(10**12).removesuffix("MB"))
    assert huge <= max(600, ram_mb * 0.8)
    monkeypatch.setenv("VORONKA_DUCKDB_MEMORY", "3GB")
    con = backend.default_backend(10)
    limit = con.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit.endswith("GiB") and 2.5 < float(limit.split()[0]) < 3.0
