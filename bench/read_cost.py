"""Where reading and checking an input file costs more than a plain DuckDB read of it.

Usage: ``.venv/bin/python bench/read_cost.py bench/data/1000000/events.csv [ROUNDS]`` (or a deals
file; default 7 rounds). Times, each on a fresh table of one connection, alternating the variants
round by round and keeping each one's least wall and CPU (``time.process_time``: every thread):

* ``sniffed``: ``CREATE TABLE t AS SELECT * FROM read_csv(FILE)`` with DuckDB's own sniffing;
* ``varchar``: the same with every column as text (the reader ``voronka.engine.read`` builds);
* ``checks``: the exact ``CREATE TABLE parsed …`` the validation runs (taken from
  ``voronka.engine.read.read_fast`` itself and printed);
* ablations of it: without the id regex, the blank-text checks, the raw texts kept beside their
  readings, the wholly-empty-row flag; and its ``EXPLAIN`` round trip alone.

The ablations drop work the checks need, so they bound what each part costs; none is a design.
"""

from __future__ import annotations

import re
import sys
import time
from typing import Any

import duckdb

import voronka.engine.read as fast_read


def validation_sql(path: str, kind: str) -> str:
    """The ``CREATE TABLE parsed`` statement :func:`voronka.engine.read.read_fast` runs."""
    seen: list[str] = []

    class Spy:
        def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
            self._con = con

        def sql(self, query: str, *args: Any, **kwargs: Any) -> Any:
            if query.startswith("CREATE TABLE parsed"):
                seen.append(query)
            return self._con.sql(query, *args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._con, name)

    real = duckdb.connect
    fast_read.duckdb.connect = lambda *a, **k: Spy(real(*a, **k))  # type: ignore[assignment]
    try:
        fast_read.read_fast(path, kind)  # type: ignore[arg-type]
    finally:
        fast_read.duckdb.connect = real  # type: ignore[assignment]
    return seen[0]


def main() -> None:
    path = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    kind = "deals" if "deals" in path.rsplit("/", 1)[-1] else "events"
    checks = validation_sql(path, kind)
    print(checks, "\n")
    reader = re.search(r"read_csv\('[^']*'.*?max_line_size=\d+\)", checks)
    assert reader is not None
    raws = re.findall(r"src\.(c\d+) AS (__s\d+)", checks)
    variants = {
        "sniffed": f"CREATE TABLE parsed AS SELECT * FROM read_csv('{path}')",
        "varchar": f"CREATE TABLE parsed AS SELECT * FROM {reader.group(0)}",
        "checks": checks,
        "no id regex": re.sub(r"\(CASE WHEN regexp_full_match\((src\.c\d+), '\[[^']*'\) "
                              r"THEN src\.c\d+ END\)", r"\1", checks),
        "no blank checks": re.sub(r"coalesce\(unicode\(src\.c\d+\) IN \([0-9, ]+\), false\)",
                                  "false", checks),
        "no raw copies": re.sub(r"src\.(c\d+) AS (__s\d+)", r"NULL::VARCHAR AS \2", checks),
        "no empty-row flag": re.sub(r"\(NOT \(c0 IS NULL[^)]*\)\) AS _keep", "true AS _keep",
                                    checks),
        "EXPLAIN only": "EXPLAIN " + checks,
    }
    con = duckdb.connect()
    con.sql("SET enable_progress_bar = false")
    con.sql("SET disabled_optimizers = 'in_clause'")
    best: dict[str, tuple[float, float]] = {}
    for _ in range(rounds):
        for name, sql in variants.items():
            con.sql("DROP TABLE IF EXISTS parsed")
            wall, cpu = time.perf_counter(), time.process_time()
            con.sql(sql).fetchall() if sql.startswith("EXPLAIN") else con.sql(sql)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            w, c = best.get(name, (wall, cpu))
            best[name] = (min(w, wall), min(c, cpu))
    print(f"raw texts kept beside their readings: {len(raws)}")
    for name, (wall, cpu) in best.items():
        print(f"{name:18s} wall {wall:6.3f} s   CPU {cpu:6.3f} s")


if __name__ == "__main__":
    main()
