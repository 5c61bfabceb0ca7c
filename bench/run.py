"""Time ``voronka audit`` end to end against the bare DuckDB query, and record the numbers.

    .venv/bin/python bench/run.py                    # 100k and 1M deals, best of 3, updates README
    .venv/bin/python bench/run.py --sizes 100000 --repeat 1 --no-readme

For each size, the data is generated once into ``bench/data/N`` (``bench/generate.py``). Then, as
separate processes each time (interpreter start and imports included, as a user sees it):

(a) ``voronka audit DIR/events.csv --deals … --spend … --funnel … --format json -o out.json``
(b) ``python bench/bare_duckdb.py DIR`` (the same reach, conversion and time-in-stage numbers).

Wall time and peak resident memory of each run come from ``/usr/bin/time -f "%e %M"`` (falling
back to ``resource.getrusage(RUSAGE_CHILDREN)`` where it is missing); the best of ``--repeat``
runs is kept. The funnel numbers of (a) and (b) are compared, so a fast but wrong audit shows.
The table, with the machine and versions, replaces the results block of ``bench/README.md``.
voronka's bytecode is compiled first (``bench/pycache.py``), as an installed copy has it. The
compiled SQL of the engine's queries is kept between runs (``voronka.engine.sql_cache``, in the
user's cache folder): the first of the repeats fills it and the best run reads it back, as a
user's second audit does (a first run compiles, ≈ 0.4 s more; ``VORONKA_NO_CACHE=1`` to time that).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

from pycache import compile_package

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
README = BENCH / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
TARGET_RATIO = 1.5
TARGET_RSS_MB = 2048


@dataclass(frozen=True)
class Timing:
    """One measured run.

    Attributes:
        seconds: wall time of the process.
        peak_mb: its peak resident memory, MB.
    """

    seconds: float
    peak_mb: float


def measure(cmd: list[str]) -> Timing:
    """Run ``cmd`` to completion; its wall time and peak RSS. Raises if it fails."""
    if Path("/usr/bin/time").exists():
        with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
            full = ["/usr/bin/time", "-f", "%e %M", "-o", report.name, *cmd]
            proc = subprocess.run(full, capture_output=True, text=True, cwd=ROOT)
            _check(proc, cmd)
            seconds, kb = Path(report.name).read_text().split()[-2:]
            return Timing(float(seconds), float(kb) / 1024)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    _check(proc, cmd)
    # ru_maxrss of children is the largest of all children so far: exact only when it grew.
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return Timing(elapsed, max(after, before) / 1024)


def _check(proc: subprocess.CompletedProcess[str], cmd: list[str]) -> None:
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
        )


def best(cmd: list[str], repeat: int) -> Timing:
    """The fastest of ``repeat`` runs (with the peak memory of that run)."""
    runs = [measure(cmd) for _ in range(repeat)]
    for r in runs:
        print(f"    {r.seconds:7.2f} s  {r.peak_mb:7.0f} MB", flush=True)
    return min(runs, key=lambda r: r.seconds)


def compare(audit_json: Path, bare_json: Path) -> str:
    """Whether the audit's funnel equals the bare query's: ``"equal"`` or what differs."""
    audit = {s["id"]: s for s in json.loads(audit_json.read_text())["funnel"]["stages"]}
    bare = {s["id"]: s for s in json.loads(bare_json.read_text())["stages"]}
    diffs = []
    for stage_id, b in bare.items():
        a = audit.get(stage_id)
        if a is None:
            diffs.append(f"{stage_id} missing")
            continue
        if a["reached"] != b["reached"]:
            diffs.append(f"{stage_id} reached {a['reached']} vs {b['reached']}")
        for key in ("conversion", "median_days", "p90_days"):
            # The audit's headline conversion is censoring-aware (open deals counted by
            # Aalen–Johansen); the bare query's is the plain reach ratio, the audit's raw_conversion.
            x, y = a.get("raw_conversion", a.get(key)) if key == "conversion" else a.get(key), b.get(key)
            if (x is None) != (y is None) or (x is not None and abs(x - y) > 1e-6 * max(1, abs(y))):
                diffs.append(f"{stage_id} {key} {x} vs {y}")
    return "equal" if not diffs else "; ".join(diffs[:5])


def machine() -> dict[str, str]:
    """CPU, cores, RAM, OS, and the versions that matter."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024**2:.0f} GB"
                break
    except OSError:
        pass
    versions = {}
    for pkg in ("voronka", "duckdb", "ibis-framework", "pandas", "pyarrow", "numpy"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    load = "?"
    with contextlib.suppress(OSError):
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip() or "?"
    return {
        "commit": commit,
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        **versions,
        "load average (1, 5, 15 min) when the table was written": load,
    }


def ensure_data(size: int, data_dir: Path, fmt: str = "csv") -> Path:
    """``bench/data/N`` (CSV) or ``bench/data/N-parquet``, generated with ``bench/generate.py``
    when missing."""
    folder = data_dir / (str(size) if fmt == "csv" else f"{size}-{fmt}")
    if not (folder / f"events.{fmt}").exists():
        print(f"generating {size} deals into {folder}", flush=True)
        subprocess.run(
            [sys.executable, str(BENCH / "generate.py"), "--deals", str(size), "--out", str(folder),
             "--format", fmt],
            check=True, cwd=ROOT,
        )
    return folder


def voronka_command() -> list[str]:
    """The ``voronka`` console script next to this interpreter (the project's .venv)."""
    script = Path(sys.executable).with_name("voronka")
    return [str(script)] if script.exists() else [sys.executable, "-m", "voronka.cli"]


def render(rows: list[dict[str, str]], info: dict[str, str], repeat: int) -> str:
    """The Markdown results block."""
    lines = [
        START,
        f"Measured {datetime.now():%Y-%m-%d %H:%M} by `bench/run.py` (best of {repeat}; "
        "each run a separate process).",
        "",
        "| deals | input | events rows | files size | `voronka audit` (s) | peak RSS (MB) "
        "| bare DuckDB (s) | bare peak RSS (MB) | audit / bare | funnel numbers |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['deals']} | {r['input']} | {r['events']} | {r['size']} | {r['audit_s']} "
            f"| {r['audit_mb']} "
            f"| {r['bare_s']} | {r['bare_mb']} | {r['ratio']} | {r['check']} |"
        )
    lines += ["", "Machine:", ""]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += ["", f"Target: audit / bare ≤ {TARGET_RATIO}, peak RSS < {TARGET_RSS_MB} MB "
              "for 1,000,000 deals."]
    for r in rows:
        if r["deals"] == "1,000,000":
            met = float(r["ratio"]) <= TARGET_RATIO and float(r["audit_mb"]) < TARGET_RSS_MB
            lines.append(f"Target met in this run ({r['input']}): **{'yes' if met else 'no'}** "
                         f"({r['ratio']}×, {r['audit_mb']} MB).")
    lines.append(END)
    return "\n".join(lines)


def write_readme(block: str) -> None:
    """Replace the results block of ``bench/README.md`` (append one if there is none)."""
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    README.write_text(text, encoding="utf-8")


def _measure(size: int, fmt: str, args: argparse.Namespace) -> dict[str, str]:
    """Time the audit and the bare query on ``size`` deals in ``fmt``; one row of the table."""
    folder = ensure_data(size, args.data, fmt)
    audit_out = args.out / f"audit-{size}-{fmt}.json"
    bare_out = args.out / f"bare-{size}-{fmt}.json"
    audit_cmd = [
        *voronka_command(), "audit", str(folder / f"events.{fmt}"),
        "--deals", str(folder / f"deals.{fmt}"), "--spend", str(folder / f"spend.{fmt}"),
        "--funnel", str(folder / "funnel.toml"), "--format", "json", "-o", str(audit_out),
    ]
    bare_cmd = [sys.executable, str(BENCH / "bare_duckdb.py"), str(folder), "-o", str(bare_out)]
    print(f"{size} deals, {fmt}: voronka audit", flush=True)
    audit = best(audit_cmd, args.repeat)
    print(f"{size} deals, {fmt}: bare DuckDB query", flush=True)
    bare = best(bare_cmd, args.repeat)
    events = json.loads(audit_out.read_text())["data_quality"]["rows_read"]
    n_events = next((v for k, v in events.items() if Path(k).name.startswith("events")), 0)
    size_mb = sum(p.stat().st_size for p in folder.glob(f"*.{fmt}")) / 1024**2
    return {
        "deals": f"{size:,}",
        "input": fmt,
        "events": f"{n_events:,}",
        "size": f"{size_mb:.0f} MB",
        "audit_s": f"{audit.seconds:.2f}",
        "audit_mb": f"{audit.peak_mb:.0f}",
        "bare_s": f"{bare.seconds:.2f}",
        "bare_mb": f"{bare.peak_mb:.0f}",
        "ratio": f"{audit.seconds / bare.seconds:.2f}",
        "check": compare(audit_out, bare_out),
    }


def main(argv: list[str] | None = None) -> int:
    """Generate what is missing, time both sides per size, print and record the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--formats", nargs="+", choices=("csv", "parquet"),
                        default=["csv", "parquet"], help="input formats to time")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=BENCH / "data")
    parser.add_argument("--out", type=Path, default=BENCH / "out")
    parser.add_argument("--no-readme", action="store_true", help="print only")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    compile_package()

    rows = []
    for size in args.sizes:
        for fmt in args.formats:
            rows.append(_measure(size, fmt, args))
    block = render(rows, machine(), args.repeat)
    print(block)
    if not args.no_readme:
        write_readme(block)
        print(f"written to {README}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
