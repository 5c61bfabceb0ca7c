"""The least the whole audit can cost against the bare query: its fixed part, measured.

    .venv/bin/python bench/floor.py                      # 100k and 1M, best of 5; prints the table
    .venv/bin/python bench/floor.py --readme             # and writes it into bench/README.md
    .venv/bin/python bench/floor.py --sizes 100000 --repeat 3 --audit   # also the audit at each size

The audit of 1,000 deals reads almost nothing, so its time is what every audit pays whatever the size
of the export: starting Python and importing the chosen stack (DuckDB, Arrow, pandas, Ibis, SciPy,
statsmodels; ARCHITECTURE.md), the queries' fixed cost, and the statistics whose work is set by the
method rather than by the data — the forecast's Monte Carlo over its backtest months, the anomaly
scans' null simulations, the shrinkage fits and the bootstrap draws, whose sizes are fixed so that
their error is. Every audit of N deals costs at least that plus what reading the N-deal files
costs, and reading them cannot be cheaper than the bare query, which reads the same events file
and aggregates it in the same DuckDB. So

    audit(N)  ≥  bare(N) + fixed                          (one after the other)
    audit(N)  ≥  (CPU of bare(N) + CPU of fixed) / cores    (both overlapped on every core)

whatever the engine does, as long as the statistics stay as they are (the issue's "every audit number
unchanged"). The first bound holds for work done in turn; the second for any overlap of the two, and
is the one no design can beat. The script measures both sides as separate processes, as
``bench/run.py`` does (best of ``--repeat``, wall and CPU time from ``/usr/bin/time``), and the imports
alone (``bench/startup.py``'s list of the modules a JSON audit loads, imported by a fresh
interpreter; median of ``--repeat``).

The compiled SQL of the engine's queries is kept between runs (``voronka.engine.sql_cache``): the
first of the repeats fills it and the best run reads it back, as a user's second run does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pycache import compile_package
from run import README, _check, ensure_data, machine, voronka_command
from startup import _IMPORT_ALL, json_audit_modules

BENCH = Path(__file__).resolve().parent
BEGIN, END = "<!-- floor:begin -->", "<!-- floor:end -->"
TARGETS = {100_000: 4.0, 1_000_000: 1.5}
FIXED_SIZE = 1_000


@dataclass(frozen=True)
class Run:
    """One process: wall and CPU (user + system) seconds."""

    wall: float
    cpu: float


def measure(cmd: list[str]) -> Run:
    """Run ``cmd`` under ``/usr/bin/time``; raises if it fails."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        proc = subprocess.run(["/usr/bin/time", "-f", "%e %U %S", "-o", report.name, *cmd],
                              capture_output=True, text=True)
        _check(proc, cmd)
        wall, user, system = (float(x) for x in Path(report.name).read_text().split()[-3:])
    return Run(wall, user + system)


def best(cmd: list[str], repeat: int) -> Run:
    """The run of least wall time among ``repeat``."""
    runs = [measure(cmd) for _ in range(repeat)]
    for r in runs:
        print(f"    {r.wall:7.2f} s wall  {r.cpu:7.2f} s CPU", flush=True)
    return min(runs, key=lambda r: r.wall)


def audit_command(folder: Path, out: Path) -> list[str]:
    """``voronka audit`` of the export in ``folder`` to JSON."""
    return [*voronka_command(), "audit", str(folder / "events.csv"),
            "--deals", str(folder / "deals.csv"), "--spend", str(folder / "spend.csv"),
            "--funnel", str(folder / "funnel.toml"), "--format", "json", "-o", str(out)]


def bare_command(folder: Path, out: Path) -> list[str]:
    """The bare DuckDB query over the same events file."""
    return [sys.executable, str(BENCH / "bare_duckdb.py"), str(folder), "-o", str(out)]


def imports_seconds(repeat: int) -> float:
    """Median wall time of a fresh interpreter importing what a JSON audit imports."""
    env = {**os.environ, "PYTHONPATH": f"{BENCH.parent / 'src'}{os.pathsep}"
           f"{os.environ.get('PYTHONPATH', '')}"}
    modules = json.dumps(json_audit_modules(env))
    cmd = [sys.executable, "-c", _IMPORT_ALL, modules]
    measure(cmd)  # the file cache
    return statistics.median(measure(cmd).wall for _ in range(repeat))


def render(rows: list[dict[str, str]], fixed: Run, imports: float, repeat: int) -> str:
    info = machine()
    lines = [
        BEGIN,
        f"Measured by `bench/floor.py` (best of {repeat}) at commit `{info['commit']}`, load average "
        f"{info['load average (1, 5, 15 min) when the table was written']} on {info['cores']} cores.",
        "",
        f"The audit's fixed part — the whole audit of {FIXED_SIZE:,} deals — took **{fixed.wall:.2f} s** "
        f"({fixed.cpu:.2f} s CPU); the imports of a JSON audit alone take {imports:.2f} s (median).",
        "",
        "| deals | bare query: wall (CPU), s | least audit, in turn: bare + fixed | least audit, "
        "overlapped: CPU / cores | target | audit measured |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['deals']} | {r['bare']} | {r['serial']} | {r['parallel']} | "
                     f"{r['target']} | {r['audit']} |")
    lines.append(END)
    return "\n".join(lines)


def write_readme(block: str) -> None:
    """Replace the floor block of bench/README.md (append one if there is none)."""
    text = README.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    README.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--audit", action="store_true", help="also time the audit at each size")
    parser.add_argument("--data", type=Path, default=BENCH / "data")
    parser.add_argument("--readme", action="store_true", help="write the table into bench/README.md")
    args = parser.parse_args(argv)
    compile_package()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="voronka-floor-") as tmp:
        out = Path(tmp)
        small = ensure_data(FIXED_SIZE, args.data)
        print(f"{FIXED_SIZE} deals: voronka audit (the fixed part)", flush=True)
        fixed = best(audit_command(small, out / "fixed.json"), args.repeat)
        print("imports of a JSON audit", flush=True)
        imports = imports_seconds(args.repeat)
        rows = []
        for size in args.sizes:
            folder = ensure_data(size, args.data)
            print(f"{size} deals: bare DuckDB query", flush=True)
            bare = best(bare_command(folder, out / "bare.json"), args.repeat)
            audit = None
            if args.audit:
                print(f"{size} deals: voronka audit", flush=True)
                audit = best(audit_command(folder, out / "audit.json"), args.repeat)
            target = TARGETS.get(size)
            serial = bare.wall + fixed.wall
            overlapped = max(bare.wall, (bare.cpu + fixed.cpu) / cores)
            rows.append({
                "deals": f"{size:,}", "bare": f"{bare.wall:.2f} ({bare.cpu:.2f})",
                "serial": f"{serial:.2f} s = {serial / bare.wall:.1f}×",
                "parallel": f"{overlapped:.2f} s = {overlapped / bare.wall:.1f}×",
                "target": f"≤ {target}× = {target * bare.wall:.2f} s" if target else "",
                "audit": f"{audit.wall:.2f} s = {audit.wall / bare.wall:.1f}×" if audit else "",
            })
    block = render(rows, fixed, imports, args.repeat)
    print(block)
    if args.readme:
        write_readme(block)
        print(f"written to {README}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
