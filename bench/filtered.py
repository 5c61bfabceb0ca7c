"""Time a filtered re-audit of an already loaded log (issue 11, point 5).

    .venv/bin/python bench/filtered.py bench/data/100000 [--filters 20]

Loads the export of ``DIR`` once (``events``, ``deals``, ``spend``, ``funnel.toml``, CSV or Parquet),
audits it once (the warm-up: imports, first queries), then re-runs the whole audit on the loaded
log narrowed by each of ``--filters`` different filters — a source, a manager, a quarter of
creation, and source × quarter — with :func:`voronka.engine.filter_log` (one filtered pass on the
backend) and :func:`voronka.audit.run.run_audit`. Prints each filter's time and the median; the
target is a median ≤ 1 s for 100,000 deals. In-process, wall and CPU time (the process's, DuckDB's
threads included); no file is read again.

``--sections first`` re-audits only the first screen (``voronka.audit.run.FIRST_SCREEN``: funnel,
data quality, leaks, statuses, stuck deals, pile-ups, entry criteria), ``--sections all`` (the
default) every section, as the CLI does; a comma-separated list names the sections.
``--profile FILE`` writes cProfile statistics of the timed loop (read them with ``pstats``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def _files(folder: Path) -> dict[str, Path]:
    fmt = "csv" if (folder / "events.csv").exists() else "parquet"
    return {k: folder / f"{k}.{fmt}" for k in ("events", "deals", "spend")}


def filters(log: Any, n: int) -> list[dict[str, Any]]:
    """``n`` different filters over the log's sources, managers and quarters of creation."""
    summary = log.deal_summary()
    counts = log.frame(summary.group_by("source").agg(n=summary.count()))
    sources = [s for s in counts.sort_values("n", ascending=False)["source"] if s is not None]
    counts = log.frame(summary.group_by("manager").agg(n=summary.count()))
    managers = [m for m in counts.sort_values("n", ascending=False)["manager"] if m is not None]
    end = log.as_of.date()
    quarters = []
    for k in range(1, 5):
        start = (end - dt.timedelta(days=91 * k)).replace(day=1)
        quarters.append((start, start + dt.timedelta(days=91)))
    out: list[dict[str, Any]] = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            out.append({"where": {"source": sources[(i // 4) % len(sources)]}})
        elif kind == 1:
            out.append({"where": {"manager": managers[(i // 4) % len(managers)]}})
        elif kind == 2:
            lo, hi = quarters[(i // 4) % len(quarters)]
            out.append({"created_from": lo, "created_until": hi})
        else:
            lo, hi = quarters[(i // 4) % len(quarters)]
            out.append({"where": {"source": sources[(i // 4 + 1) % len(sources)]},
                        "created_from": lo, "created_until": hi})
    return out


def main(argv: list[str] | None = None) -> int:
    """Load, warm up, time each filtered re-audit, print the median."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--filters", type=int, default=20)
    parser.add_argument("--sections", default="all", help="all, first or a comma-separated list")
    parser.add_argument("--profile", type=Path, default=None,
                        help="write cProfile statistics of the timed loop to this file")
    args = parser.parse_args(argv)

    from voronka import api
    from voronka.engine import filter_log

    run = importlib.import_module("voronka.audit.run")
    sections = (
        None if args.sections == "all"
        else run.FIRST_SCREEN if args.sections == "first"
        else tuple(args.sections.split(","))
    )
    files = _files(args.folder)
    started = time.perf_counter()
    inputs = api.read_inputs(files["events"], deals=files["deals"], spend=files["spend"],
                             funnel=args.folder / "funnel.toml")
    log = api._log_from_inputs(inputs, args.folder / "funnel.toml", as_of=None, backend=None)
    loaded = time.perf_counter()
    run.run_audit(log, inputs.reads)
    warm = time.perf_counter()
    print(f"load {loaded - started:.2f} s, first audit {warm - loaded:.2f} s", flush=True)
    times, cpu = [], []
    profiler = None
    if args.profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    for spec in filters(log, args.filters):
        c0, t0 = time.process_time(), time.perf_counter()
        narrowed = filter_log(log, **spec)
        t1 = time.perf_counter()
        result = run.run_audit(narrowed, inputs.reads, sections=sections)
        t2 = time.perf_counter()
        times.append(t2 - t0)
        cpu.append(time.process_time() - c0)
        print(f"{t2 - t0:6.2f} s (filter {t1 - t0:.2f} s, CPU {cpu[-1]:.2f} s)  "
              f"{result.funnel.deals:>7} deals  {spec}", flush=True)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
    print(f"median of {len(times)} filtered re-audits ({args.sections}): "
          f"{statistics.median(times):.2f} s wall, {statistics.median(cpu):.2f} s CPU; "
          f"load average {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
