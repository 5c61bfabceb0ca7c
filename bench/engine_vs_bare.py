"""The engine alone against a bare DuckDB query on the same in-memory synthetic log.

Usage: ``.venv/bin/python bench/engine_vs_bare.py [N_DEALS]`` (default 1,000,000; about 4.6 events
a deal on the 11-stage reference funnel, with skipped stages and lost events). Prints, three times,
the bare query's time (reach, outcomes, time-in-stage quantiles from one window pass) and the
engine's (``EventLog.build`` with the funnel, ``reach``, ``outcomes``, ``time_in_stage``,
``quality``), checks that both give the same reach, and the peak memory. Reading files is not
timed: see bench/run.py for the whole audit.
"""

from __future__ import annotations

import resource
import sys
import time

import duckdb
import numpy as np
import pyarrow as pa

from voronka.engine import EventLog
from voronka.funnel import Funnel, load_template

LOST_NAME = "Закрыто и не реализовано"


def synthetic_log(n: int, funnel: Funnel, seed: int = 1) -> tuple[pa.Table, pa.Table]:
    """Canonical events and deals tables for ``n`` deals (vectorised numpy)."""
    names = [s.name for s in funnel.stages]
    k = len(names)
    rng = np.random.default_rng(seed)
    furthest = np.minimum(rng.geometric(0.22, n) - 1, k - 1)
    count = furthest + 1
    firsts = np.cumsum(count) - count
    stage = np.arange(count.sum()) - np.repeat(firsts, count)
    created = np.datetime64("2023-01-01T00:00:00") + rng.integers(0, 540 * 86400, n).astype(
        "timedelta64[s]"
    )
    gaps = rng.exponential(3 * 86400, stage.size).astype("int64")
    gaps[stage == 0] = rng.integers(0, 3600, int((stage == 0).sum()))
    cum = np.cumsum(gaps)
    cum = cum - np.repeat(cum[firsts] - gaps[firsts], count)
    at = np.repeat(created, count) + cum.astype("timedelta64[s]")
    skipped = (stage > 0) & (stage < np.repeat(furthest, count)) & (rng.random(stage.size) < 0.08)
    keep = ~skipped
    lost = (furthest < k - 1) & (rng.random(n) < 0.6)
    last_at = at[np.cumsum(count) - 1]
    deal_of = np.repeat(np.arange(n), count)
    ev_deal = np.concatenate([deal_of[keep], np.nonzero(lost)[0]])
    ev_stage = np.concatenate(
        [
            np.array(names, dtype=object)[stage[keep]],
            np.full(int(lost.sum()), LOST_NAME, dtype=object),
        ]
    )
    ev_at = np.concatenate([at[keep], last_at[lost] + np.timedelta64(86400, "s")])
    order = rng.permutation(ev_deal.size)
    ids = np.char.add("D", np.arange(n).astype(str))
    events = pa.table(
        {
            "deal_id": pa.array(ids[ev_deal[order]]),
            "stage": pa.array(ev_stage[order], pa.string()),
            "entered_at": pa.array(ev_at[order].astype("datetime64[us]")),
            "_row": pa.array(np.arange(1, ev_deal.size + 1), pa.int64()),
        }
    )
    status = np.where(furthest == k - 1, "won", np.where(lost, "lost", "open"))
    deals = pa.table(
        {
            "deal_id": pa.array(ids),
            "created_at": pa.array(created.astype("datetime64[us]")),
            "source": pa.array(rng.choice(["ads", "seo", "referral", "partners", "events"], n)),
            "manager": pa.array(rng.choice([f"m{i}" for i in range(10)], n)),
            "amount": pa.array(rng.integers(10, 1000, n) * 1000.0),
            "status": pa.array(status),
            "_row": pa.array(np.arange(1, n + 1), pa.int64()),
        }
    )
    return events, deals


def bare(events: pa.Table, deals: pa.Table, funnel: Funnel) -> tuple[float, list[int]]:
    """Seconds of the hand-written DuckDB query, and its reach per stage."""
    k = len(funnel.stages)
    names = [s.name for s in funnel.stages]
    con = duckdb.connect()
    con.register("events", events)
    con.register("deals", deals)
    con.register("map", pa.table({"stage": [*names, LOST_NAME], "idx": [*range(k), -1]}))
    start = time.perf_counter()
    con.execute(
        """
        create temp table per as
        with m as (select e.deal_id, s.idx, e.entered_at from events e join map s using (stage)),
        w as (select *,
                lead(idx) over (partition by deal_id order by entered_at) nidx,
                lead(entered_at) over (partition by deal_id order by entered_at) nat from m)
        select deal_id, idx, min(entered_at) first_at,
               min(nat) filter (where nidx <> idx) left_at
        from w group by deal_id, idx"""
    )
    reach = con.execute(
        f"""with d as (select deal_id, max(idx) filter (where idx >= 0) mx from per group by 1)
        select k, count(*) filter (where mx >= k) from d, range({k}) r(k) group by k order by k"""
    ).fetchall()
    con.execute("select status, count(*) from deals semi join per using (deal_id) group by 1")
    con.execute(
        f"""select idx, count(*), quantile_cont(epoch(left_at) - epoch(first_at), [0.5, 0.9])
        from per where left_at is not null and idx >= 0 and idx <> {k - 1} group by idx"""
    ).fetchall()
    return time.perf_counter() - start, [int(c) for _, c in reach]


def engine(
    events: pa.Table, deals: pa.Table, funnel: Funnel
) -> tuple[float, dict[str, float], list[int]]:
    """Seconds of the engine's build and aggregates, per step, and its reach."""
    steps: dict[str, float] = {}
    start = time.perf_counter()
    log = EventLog.build(events, deals, funnel)
    steps["build"] = time.perf_counter() - start
    mark = time.perf_counter()
    reach = log.reach()
    log.outcomes()
    log.time_in_stage()
    steps["reach+outcomes+time"] = time.perf_counter() - mark
    mark = time.perf_counter()
    log.quality()
    steps["quality"] = time.perf_counter() - mark
    return time.perf_counter() - start, steps, [int(r) for r in reach["reached"]]


def main() -> None:
    """Run the comparison three times and print the timings."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    funnel = load_template("reference")
    events, deals = synthetic_log(n, funnel)
    print(f"{n} deals, {events.num_rows} events")
    for _ in range(3):
        t_bare, reach_bare = bare(events, deals, funnel)
        t_engine, steps, reach = engine(events, deals, funnel)
        assert reach == reach_bare, (reach, reach_bare)
        detail = ", ".join(f"{k} {v:.2f}s" for k, v in steps.items())
        print(
            f"bare {t_bare:.2f}s  engine {t_engine:.2f}s ({detail})  ratio {t_engine / t_bare:.2f}"
        )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
