"""Write a demo CRM export of N deals for the benchmarks.

    .venv/bin/python bench/generate.py --deals 1000000 --out bench/data/1000000

Uses the same generator as ``voronka demo`` and the tests (:func:`voronka.demo.generate_demo`),
so the benchmark data has the same shape, planted effects and data-entry errors.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from voronka.demo import generate_demo, write_demo


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, generate, write; print what was written and how long it took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, required=True, help="number of deals, e.g. 100000")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--months", type=int, default=18)
    parser.add_argument("--format", choices=("csv", "parquet", "xlsx"), default="csv")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    data = generate_demo(args.deals, seed=args.seed, months=args.months)
    generated = time.perf_counter()
    files = write_demo(data, args.out, fmt=args.format)
    written = time.perf_counter()
    print(
        f"{args.deals} deals, {len(data.events)} events -> {files.folder} "
        f"(generate {generated - started:.1f} s, write {written - generated:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
