"""Start-up time: ``voronka --help`` and ``python -c "import voronka"``, each a fresh process.

Median (and min, max) wall time of N runs (default 10) of each command, with the load average
at the time; ``--readme`` writes the table into bench/README.md between the ``startup`` markers.

    .venv/bin/python bench/startup.py            # prints the table
    .venv/bin/python bench/startup.py --readme   # and writes it into bench/README.md

Targets (issue 11): ``voronka --help`` ≤ 0.3 s, ``import voronka`` ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "bench" / "README.md"
BEGIN, END = "<!-- startup:begin -->", "<!-- startup:end -->"


def _commands() -> dict[str, list[str]]:
    script = shutil.which("voronka", path=str(Path(sys.executable).parent))
    help_cmd = [script, "--help"] if script else [sys.executable, "-m", "voronka.cli", "--help"]
    return {
        "voronka --help": help_cmd,
        'python -c "import voronka"': [sys.executable, "-c", "import voronka"],
    }


def _time(cmd: list[str], runs: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Wall times and CPU times (user + system of the child) of ``runs`` runs of ``cmd``."""
    subprocess.run(cmd, env=env, capture_output=True, check=True)  # warm the file cache
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    targets = {"voronka --help": 0.3, 'python -c "import voronka"': 0.5}
    load = os.getloadavg()[0]
    rows = []
    for name, cmd in _commands().items():
        times, cpus = _time(cmd, args.runs, env)
        median = statistics.median(times)
        rows.append(
            f"| `{name}` | {median:.3f} | {min(times):.3f} | {max(times):.3f} | "
            f"{statistics.median(cpus):.3f} | "
            f"{targets[name]:.1f} | {'yes' if median <= targets[name] else 'NO'} |"
        )
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    table = "\n".join([
        f"Measured by `bench/startup.py` ({args.runs} runs each, fresh processes) at commit "
        f"`{commit}`, load average {load:.1f} on {os.cpu_count()} cores (the machine is shared: "
        "wall times include waiting for a core; CPU is the process's own user + system time).",
        "",
        "| command | median (s) | min (s) | max (s) | median CPU (s) | target (s) | met |",
        "|---|---:|---:|---:|---:|---:|---|",
        *rows,
    ])
    print(table)
    if args.readme:
        text = README.read_text(encoding="utf-8")
        if BEGIN in text:
            head, rest = text.split(BEGIN, 1)
            text = head + BEGIN + "\n" + table + "\n" + END + rest.split(END, 1)[1]
        else:
            text += f"\n## Start-up\n\n{BEGIN}\n{table}\n{END}\n"
        README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
