"""The bare DuckDB query the audit is measured against.

    .venv/bin/python bench/bare_duckdb.py bench/data/1000000 [-o result.json]

One SQL statement over ``DIR/events.csv`` (read with DuckDB's ``read_csv``; ``DIR/events.parquet``
with ``read_parquet`` in a folder written with ``generate.py --format parquet``) that computes what the
funnel section of ``voronka audit`` computes, with the same semantics (PRODUCT.md and
``docs/internals.md``):

* usable events: rows with a readable date whose stage name is a stage or a lost outcome of
  ``DIR/funnel.toml`` (names, aliases and ids, case-insensitive), duplicates
  (deal, stage, time) merged;
* reach of stage k: deals whose furthest stage of the line is k or later; conversion
  ``reached[k+1] / reached[k]``;
* time in stage: per deal and stage, from its first entry to its next event of another stage
  (a lost event counts as leaving); deals that never left are not counted; median and p90 with
  linear interpolation (``quantile_cont``).

Nothing else: no deals or spend file, no data-quality accounting, no report. It prints a JSON
list, one object per stage, and the query time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import duckdb

SQL_TEMPLATE = """
WITH raw AS (
    SELECT "ID сделки" AS deal_id,
           lower(trim("Этап")) AS name,
           try_strptime("Дата перехода", '%d.%m.%Y %H:%M') AS entered_at
    FROM {reader}
),
usable AS (
    SELECT DISTINCT r.deal_id, m.stage_index, r.entered_at
    FROM raw r JOIN stage_map m ON r.name = m.name
    WHERE r.entered_at IS NOT NULL AND r.deal_id IS NOT NULL
),
ordered AS (
    SELECT *,
           lead(stage_index) OVER w AS next_index,
           lead(entered_at) OVER w AS next_at
    FROM usable
    WINDOW w AS (PARTITION BY deal_id ORDER BY entered_at, stage_index)
),
deal_stage AS (
    SELECT deal_id, stage_index,
           min(entered_at) AS first_at,
           min(next_at) FILTER (WHERE next_index <> stage_index) AS left_at
    FROM ordered
    GROUP BY deal_id, stage_index
),
furthest AS (
    SELECT deal_id, max(stage_index) FILTER (WHERE stage_index BETWEEN 0 AND $won) AS k
    FROM deal_stage
    GROUP BY deal_id
),
histogram AS (
    SELECT k, count(*) AS n FROM furthest WHERE k IS NOT NULL GROUP BY k
),
reach AS (
    SELECT s.k AS stage_index, coalesce(sum(h.n), 0)::BIGINT AS reached
    FROM range(0, $won + 1) s(k) LEFT JOIN histogram h ON h.k >= s.k
    GROUP BY s.k
),
times AS (
    SELECT stage_index,
           count(*) AS n_left,
           quantile_cont(days, 0.5) AS median_days,
           quantile_cont(days, 0.9) AS p90_days
    FROM (
        SELECT stage_index, (epoch(left_at) - epoch(first_at)) / 86400.0 AS days
        FROM deal_stage
        WHERE left_at IS NOT NULL AND stage_index BETWEEN 0 AND $won - 1
    )
    GROUP BY stage_index
)
SELECT r.stage_index, r.reached,
       lead(r.reached) OVER (ORDER BY r.stage_index) / nullif(r.reached, 0) AS conversion,
       t.n_left, t.median_days, t.p90_days
FROM reach r LEFT JOIN times t USING (stage_index)
ORDER BY r.stage_index
"""


READERS = {
    "csv": "read_csv($events, delim = ';', header = true, all_varchar = true)",
    "parquet": "read_parquet($events)",
}
"""How the events file is read: DuckDB's own parallel reader for each input format."""


def events_file(folder: Path) -> tuple[Path, str]:
    """``DIR/events.csv`` or, in a folder written with ``--format parquet``, ``events.parquet``."""
    csv = folder / "events.csv"
    return (csv, "csv") if csv.exists() else (folder / "events.parquet", "parquet")


def stage_map(funnel_path: Path) -> tuple[list[tuple[str, int]], list[str], int]:
    """``(name, stage_index)`` pairs (lost outcomes: -1), stage ids in order, the won index."""
    funnel = tomllib.loads(funnel_path.read_text(encoding="utf-8"))
    stages = funnel["stage"]
    ids = [s["id"] for s in stages]
    pairs: dict[str, int] = {}
    for i, s in enumerate(stages):
        for name in (s["id"], s.get("name", s["id"]), *s.get("aliases", ()), *s.get("names", {}).values()):
            pairs.setdefault(name.strip().lower(), i)
    for name in funnel.get("outcomes", {}).get("lost", ()):
        pairs.setdefault(name.strip().lower(), -1)
    won = ids.index(funnel.get("outcomes", {}).get("won", ids[-1]))
    return sorted(pairs.items()), ids, won


def run(folder: Path, *, threads: int | None = None) -> tuple[list[dict[str, Any]], float]:
    """Run the query on ``folder``; return one dict per stage and the seconds the query took."""
    pairs, ids, won = stage_map(folder / "funnel.toml")
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    started = time.perf_counter()
    con.execute("CREATE TEMP TABLE stage_map (name VARCHAR, stage_index INTEGER)")
    con.executemany("INSERT INTO stage_map VALUES (?, ?)", pairs)
    path, fmt = events_file(folder)
    sql = SQL_TEMPLATE.replace("{reader}", READERS[fmt])
    rows = con.execute(sql, {"events": str(path), "won": won}).fetchall()
    elapsed = time.perf_counter() - started
    columns = ("stage_index", "reached", "conversion", "n_left", "median_days", "p90_days")
    result = []
    for row in rows:
        item = dict(zip(columns, row, strict=True))
        item["id"] = ids[item["stage_index"]]
        result.append(item)
    return result, elapsed


def main(argv: list[str] | None = None) -> int:
    """Run the query on the folder given and print (or write) the result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder with events.csv and funnel.toml")
    parser.add_argument("-o", "--output", type=Path, help="write the JSON here instead of stdout")
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    args = parser.parse_args(argv)
    stages, elapsed = run(args.folder, threads=args.threads)
    text = json.dumps({"query_seconds": elapsed, "stages": stages}, ensure_ascii=False, indent=1)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
