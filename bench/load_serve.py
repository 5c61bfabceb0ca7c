"""Load test of ``voronka serve`` on loopback: concurrent users filtering a large dataset.

Starts ``voronka serve`` as its own process on 127.0.0.1 with a fresh ``--data`` folder, uploads
the demo export of ``--deals`` deals (``bench/generate.py``; generated when missing) as a ZIP,
then:

1. **cold**: asks each filter of the set once, one after another (the first audit of a filter);
2. **load**: ``--users`` threads, each for ``--seconds``, ask the dashboard's panel (the htmx
   request a filter change makes) with a random filter of the same set;

and samples the server's resident memory every second. Prints per-phase latency percentiles,
errors and memory, and writes ``bench/out/load_serve.json``. Stops by itself (the server
included). Not part of the test suite's pass/fail.

    .venv/bin/python bench/load_serve.py --deals 100000 --users 20 --seconds 60
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _filters(folder: Path, per_column: int) -> list[dict[str, str]]:
    """A set of filters a head of sales would use: each of the top managers, each of the top
    sources, and a few periods (quarters of the data)."""
    with (folder / "deals.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    def top(column: str) -> list[str]:
        counts: dict[str, int] = {}
        for r in rows:
            if r[column]:
                counts[r[column]] = counts.get(r[column], 0) + 1
        return sorted(counts, key=lambda v: -counts[v])[:per_column]
    out: list[dict[str, str]] = [{}]
    out += [{"manager": m} for m in top("Ответственный")]
    out += [{"source": s} for s in top("Источник")]
    days = sorted(r["Дата создания"][6:10] + "-" + r["Дата создания"][3:5] for r in rows)
    months = sorted(set(days))
    for i in range(0, len(months) - 2, 3):
        out.append({"from": f"{months[i]}-01", "to": f"{months[i + 2]}-28"})
    return out


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _summary(latencies: list[float], errors: int) -> dict[str, float]:
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_s": round(_percentile(latencies, 0.5), 3),
        "p95_s": round(_percentile(latencies, 0.95), 3),
        "max_s": round(max(latencies), 3) if latencies else float("nan"),
        "mean_s": round(statistics.fmean(latencies), 3) if latencies else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--per-column", type=int, default=4, help="managers/sources in the set")
    args = parser.parse_args(argv)

    folder = ROOT / "bench" / "data" / str(args.deals)
    if not (folder / "events.csv").exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "--deals",
                        str(args.deals), "--out", str(folder)], check=True)
    filters = _filters(folder, args.per_column)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("events.csv", "deals.csv", "spend.csv", "funnel.toml"):
            zf.write(folder / name, f"export/{name}")

    port = _free_port()
    data = Path(tempfile.mkdtemp(prefix="voronka-load-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen(
        [sys.executable, "-c", "from voronka.cli import main; raise SystemExit(main())", "serve",
         "--host", "127.0.0.1", "--port", str(port), "--data", str(data)],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    memory: list[tuple[float, float]] = []
    stop = threading.Event()
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            for _ in range(300):
                try:
                    client.get("/api/v1/datasets")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            t0 = time.perf_counter()
            up = client.post("/api/v1/datasets", files={"file": ("export.zip", archive.getvalue())})
            up.raise_for_status()
            dataset = up.json()["id"]
            upload_s = time.perf_counter() - t0

            def sample() -> None:
                start = time.perf_counter()
                while not stop.is_set():
                    memory.append((round(time.perf_counter() - start, 1), _rss_mb(server.pid)))
                    stop.wait(1.0)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            cold: list[float] = []
            cold_errors = 0
            for flt in filters:
                t = time.perf_counter()
                r = client.get(f"/d/{dataset}", params=flt, headers={"HX-Request": "true"})
                cold.append(time.perf_counter() - t)
                cold_errors += r.status_code != 200
            rss_after_cold = _rss_mb(server.pid)

        latencies: list[float] = []
        errors = [0]
        lock = threading.Lock()
        deadline = time.perf_counter() + args.seconds

        def user(seed: int) -> None:
            rng = random.Random(seed)
            with httpx.Client(base_url=base, timeout=120) as c:
                while time.perf_counter() < deadline:
                    flt = rng.choice(filters)
                    t = time.perf_counter()
                    try:
                        r = c.get(f"/d/{dataset}", params=flt, headers={"HX-Request": "true"})
                        ok = r.status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    with lock:
                        latencies.append(time.perf_counter() - t)
                        errors[0] += not ok

        threads = [threading.Thread(target=user, args=(i,)) for i in range(args.users)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        rss_end = _rss_mb(server.pid)
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)

    load_rss = [m for _, m in memory]
    result = {
        "deals": args.deals,
        "users": args.users,
        "seconds": args.seconds,
        "filters": len(filters),
        "upload_s": round(upload_s, 2),
        "cold": _summary(cold, cold_errors),
        "load": _summary(latencies, errors[0]),
        "rss_mb": {
            "after_cold": round(rss_after_cold, 1),
            "end": round(rss_end, 1),
            "max": round(max(load_rss), 1) if load_rss else None,
        },
        "load_average": os.getloadavg(),
        "memory_series": memory[:: max(1, len(memory) // 40)],
    }
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "load_serve.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "memory_series"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
