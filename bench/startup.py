"""Start-up time: ``voronka --help``, ``python -c "import voronka"`` and the imports of a JSON audit.

Median (and min, max) wall time and median CPU time of N runs (default 10) of each command, each a
fresh process, with the load average at the time; ``--readme`` writes the table into
bench/README.md between the ``startup`` markers.

    .venv/bin/python bench/startup.py            # prints the table
    .venv/bin/python bench/startup.py --readme   # and writes it into bench/README.md
    .venv/bin/python bench/startup.py --src /tmp/old/src   # another checkout's code, to compare

The commands:

* ``voronka --help`` and ``python -c "import voronka"``;
* ``python -c "import voronka.api, voronka.audit.run"``: the audit's run path as modules import it;
* *the imports of a JSON audit*: first a ``voronka audit … --format json`` of a small generated
  demo export runs in a subprocess and lists the modules it loaded (``sys.modules`` at its end,
  the ones imported inside functions included, those of a bare interpreter left out); then a
  fresh interpreter imports exactly those, in the order the audit loaded them. That is the start-up
  a JSON audit pays, whatever the size of its data.

Bytecode: voronka's source is compiled first (``bench/pycache.py``), as ``pip install`` does for an
installed copy; ``--no-pyc`` leaves it out (on this machine, where ``PYTHONDONTWRITEBYTECODE=1``,
each process then compiles every voronka module it imports, unless an earlier compilation's
``.pyc`` files are still there: remove the ``__pycache__`` folders of ``src/voronka`` first).

Targets (issue 11): ``voronka --help`` ≤ 0.3 s, ``import voronka`` ≤ 0.5 s, the imports of a JSON
audit ≤ 0.7 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pycache import compile_package

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "bench" / "README.md"
BEGIN, END = "<!-- startup:begin -->", "<!-- startup:end -->"
JSON_AUDIT = "imports of a JSON audit"
TARGETS = {"voronka --help": 0.3, 'python -c "import voronka"': 0.5, JSON_AUDIT: 0.7}

_LIST_MODULES = """
import json, sys
start = set(json.loads(sys.argv[1]))
from voronka.cli import main
try:
    main(["audit", *sys.argv[2:]])
except SystemExit as stop:
    if stop.code:
        raise
print(json.dumps([m for m in sys.modules if m not in start and m != "__main__"]))
"""

_IMPORT_ALL = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    if name not in sys.modules:
        try:
            importlib.import_module(name)
        except Exception:  # a module the audit's order let load but a lone import cannot
            pass
"""


def _environment(src: Path = ROOT / "src") -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def json_audit_modules(env: dict[str, str]) -> list[str]:
    """The modules a ``voronka audit … --format json`` loads, in the order it loads them (beyond
    those of a bare interpreter), from the audit of a small generated demo export."""
    bare = subprocess.run([sys.executable, "-c", "import json, sys; print(json.dumps(list(sys.modules)))"],
                          env=env, capture_output=True, text=True, check=True).stdout
    with tempfile.TemporaryDirectory(prefix="voronka-startup-") as tmp:
        folder = Path(tmp)
        subprocess.run(
            [sys.executable, "-c",
             "import sys; from voronka.demo import generate_demo, write_demo; "
             "write_demo(generate_demo(2000, seed=0, months=19, end_day=15), sys.argv[1])",
             str(folder)], env=env, capture_output=True, check=True)
        done = subprocess.run(
            [sys.executable, "-c", _LIST_MODULES, bare.strip(), str(folder / "events.csv"),
             "--deals", str(folder / "deals.csv"), "--spend", str(folder / "spend.csv"),
             "--funnel", str(folder / "funnel.toml"), "--format", "json",
             "-o", str(folder / "audit.json")],
            env=env, capture_output=True, text=True, check=True)
    modules: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return modules


def _commands(env: dict[str, str]) -> dict[str, list[str]]:
    script = shutil.which("voronka", path=str(Path(sys.executable).parent))
    help_cmd = [script, "--help"] if script else [sys.executable, "-m", "voronka.cli", "--help"]
    return {
        "voronka --help": help_cmd,
        'python -c "import voronka"': [sys.executable, "-c", "import voronka"],
        'python -c "import voronka.api, voronka.audit.run"':
            [sys.executable, "-c", "import voronka.api, voronka.audit.run"],
        JSON_AUDIT: [sys.executable, "-c", _IMPORT_ALL, json.dumps(json_audit_modules(env))],
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
    parser.add_argument("--no-pyc", action="store_true",
                        help="do not compile voronka's bytecode first (see the docstring)")
    parser.add_argument("--src", type=Path, default=ROOT / "src",
                        help="the source tree to time (e.g. an older commit's, for a comparison)")
    args = parser.parse_args()
    env = _environment(args.src.resolve())
    if not args.no_pyc:
        compile_package(env)
    load = os.getloadavg()[0]
    rows = []
    for name, cmd in _commands(env).items():
        times, cpus = _time(cmd, args.runs, env)
        median = statistics.median(times)
        target = TARGETS.get(name)
        met = "" if target is None else "yes" if median <= target else "NO"
        label = f"`{name}`" if name != JSON_AUDIT else f"{name} ({len(json.loads(cmd[-1]))} modules)"
        rows.append(
            f"| {label} | {median:.3f} | {min(times):.3f} | {max(times):.3f} | "
            f"{statistics.median(cpus):.3f} | {'' if target is None else f'{target:.1f}'} | {met} |"
        )
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    if args.src.resolve() != (ROOT / "src").resolve():
        commit = f"{commit}, the code of {args.src}"
    table = "\n".join([
        f"Measured by `bench/startup.py` ({args.runs} runs each, fresh processes) at commit "
        f"`{commit}`, load average {load:.1f} on {os.cpu_count()} cores (the machine is shared: "
        "wall times include waiting for a core; CPU is the process's own user + system time); "
        + ("voronka's bytecode not compiled first (`--no-pyc`)." if args.no_pyc
           else "voronka's bytecode compiled first, as an installed copy has it."),
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
