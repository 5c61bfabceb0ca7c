"""Load test of the webhook receivers on loopback: a fixed rate for a fixed time, then stop.

Starts ``uvicorn --factory voronka.live.app:app_from_env`` on 127.0.0.1 with a fresh data folder,
sends ``--rate`` webhooks a second for ``--seconds`` seconds from one local asyncio client (an
open loop: request i is sent at ``i / rate`` whatever the answers; at most ``--concurrency`` in
flight), the four CRMs' documented bodies in turn, every ``--dup-every``-th one a duplicate of an
earlier one (a CRM's retry). Then it stops the server cleanly, opens the store and checks that
every acknowledged (2xx) event is stored, exactly once, and nothing else.

    .venv/bin/python bench/load_webhooks.py --readme           # 200/s for 60 s, table → README
    .venv/bin/python bench/load_webhooks.py --rate 50 --seconds 5

Prints the table and one summary line (``RESULT ...``); with ``--readme`` also writes the table
into bench/README.md (section "Webhook receivers"). Exits 1 when an acknowledged event was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from voronka.live.payloads import (  # noqa: E402
    amocrm_events,
    bitrix24_events,
    hubspot_events,
    parse_form,
    parse_json,
    pipedrive_events,
)
from voronka.live.receivers import hubspot_signature  # noqa: E402
from voronka.live.store import LiveStore  # noqa: E402

SECRETS = {
    "VORONKA_HOOK_AMOCRM_TOKEN": "bench-amo-token",
    "VORONKA_HOOK_BITRIX24_TOKEN": "bench-bitrix-token",
    "VORONKA_HOOK_HUBSPOT_SECRET": "bench-hubspot-secret",
    "VORONKA_HOOK_PIPEDRIVE_USER": "bench",
    "VORONKA_HOOK_PIPEDRIVE_PASSWORD": "bench-pipedrive-pass",
}
DRAIN = 300.0
"""Seconds to wait for the answers after the last request was sent."""
MARK_START = "<!-- load_webhooks:start -->"
MARK_END = "<!-- load_webhooks:end -->"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request_for(i: int, url: str) -> tuple[str, str, bytes, dict[str, str]]:
    """(crm, url, body, headers) of webhook ``i``: the four CRMs in turn, unique events."""
    crm = ("amocrm", "bitrix24", "hubspot", "pipedrive")[i % 4]
    deal = 10_000 + i % 997
    if crm == "amocrm":
        p = "leads[status][0]"
        body = urlencode([(f"{p}[id]", deal), (f"{p}[status_id]", 142),
                          (f"{p}[old_status_id]", 20067736), (f"{p}[pipeline_id]", 9217056),
                          (f"{p}[last_modified]", 1_700_000_000 + i),
                          ("account[id]", 17769199)]).encode()
        return crm, f"{url}/hooks/amocrm?token={SECRETS['VORONKA_HOOK_AMOCRM_TOKEN']}", body, {
            "Content-Type": "application/x-www-form-urlencoded"}
    if crm == "bitrix24":
        body = urlencode([("event", "ONCRMDEALUPDATE"), ("data[FIELDS][ID]", deal),
                          ("ts", 1_700_000_000 + i), ("auth[member_id]", "a223c6b3"),
                          ("auth[application_token]",
                           SECRETS["VORONKA_HOOK_BITRIX24_TOKEN"])]).encode()
        return crm, f"{url}/hooks/bitrix24", body, {
            "Content-Type": "application/x-www-form-urlencoded"}
    if crm == "hubspot":
        body = json.dumps([{"objectId": deal, "propertyName": "dealstage",
                            "propertyValue": "closedwon", "changeSource": "CRM_UI",
                            "eventId": i, "subscriptionId": 92894, "portalId": 5799819,
                            "appId": 186886, "occurredAt": 1_700_000_000_000 + i,
                            "subscriptionType": "deal.propertyChange",
                            "attemptNumber": 0}]).encode()
        return crm, f"{url}/hooks/hubspot", body, {"Content-Type": "application/json"}
    body = json.dumps({
        "meta": {"action": "change", "entity": "deal", "company_id": 123123, "entity_id": deal,
                 "id": f"bench-{i}", "timestamp": "2025-04-15T15:39:01.000Z", "version": "2.0",
                 "attempt": 1},
        "data": {"id": deal, "status": "open", "pipeline_id": 1, "stage_id": 3},
        "previous": {"stage_id": 2}}).encode()
    auth = base64.b64encode(
        f"bench:{SECRETS['VORONKA_HOOK_PIPEDRIVE_PASSWORD']}".encode()).decode()
    return crm, f"{url}/hooks/pipedrive", body, {"Content-Type": "application/json",
                                                  "Authorization": f"Basic {auth}"}


def keys_of(crm: str, body: bytes) -> set[str]:
    now = datetime.now(UTC)
    if crm == "amocrm":
        events = amocrm_events(parse_form(body), now)
    elif crm == "bitrix24":
        events = bitrix24_events(parse_form(body), now)
    elif crm == "hubspot":
        events = hubspot_events(parse_json(body), now)
    else:
        events = pipedrive_events(parse_json(body), now)
    return {e.key for e in events}


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str,
                    target: str, body: bytes, headers: dict[str, str]) -> int:
    """One HTTP/1.1 request on a kept-alive connection; returns the status code."""
    head = [f"POST {target} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    await writer.drain()
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = next((int(x.split(":", 1)[1]) for x in lines[1:]
                   if x.lower().startswith("content-length:")), 0)
    if length:
        await reader.readexactly(length)
    return status


async def fire(url: str, rate: float, seconds: float, concurrency: int,
               dup_every: int) -> dict[str, object]:
    """Send ``rate * seconds`` webhooks on schedule over ``concurrency`` kept-alive connections
    (a minimal HTTP/1.1 client: the load generator should not eat the CPU the server needs)."""
    total = int(rate * seconds)
    latencies: list[float] = []
    service: list[float] = []
    acked: set[str] = set()
    errors: dict[str, int] = {}
    duplicates = 0
    host = url.removeprefix("http://")
    hostname, port = host.split(":")
    due_queue: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
    answered = 0

    def plan(i: int) -> tuple[str, str, bytes, dict[str, str]]:
        nonlocal duplicates
        j = i
        if dup_every and i % dup_every == dup_every - 1 and i >= 8:
            j = i - 8  # a retry of an earlier event of the same CRM
            duplicates += 1
        crm, target, body, headers = request_for(j, url)
        if crm == "hubspot":  # signed when sent, as HubSpot does
            stamp = str(int(time.time() * 1000))
            headers = {**headers, "X-HubSpot-Request-Timestamp": stamp,
                       "X-HubSpot-Signature-v3": hubspot_signature(
                           SECRETS["VORONKA_HOOK_HUBSPOT_SECRET"], "POST",
                           f"{url}/hooks/hubspot", body, stamp)}
        return crm, target.removeprefix(url), body, headers

    async def worker() -> None:
        nonlocal answered
        reader, writer = await asyncio.open_connection(hostname, int(port))
        try:
            while True:
                i, due = await due_queue.get()
                crm, target, body, headers = plan(i)
                t0 = time.perf_counter()
                try:
                    status = await _exchange(reader, writer, host, target, body, headers)
                except (OSError, asyncio.IncompleteReadError) as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(hostname, int(port))
                    due_queue.task_done()
                    continue
                done = time.perf_counter()
                answered += 1
                latencies.append(done - due)  # from when it was due: queueing included
                service.append(done - t0)
                if 200 <= status < 300:
                    acked.update(keys_of(crm, body))
                else:
                    errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1
                due_queue.task_done()
        finally:
            writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    start = time.perf_counter()
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due_queue.put_nowait((i, due))
    sent_for = time.perf_counter() - start
    # Bounded: whatever is still unanswered DRAIN seconds later is abandoned and counted.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(due_queue.join(), timeout=DRAIN)
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    elapsed = time.perf_counter() - start
    return {"total": total, "latencies": latencies, "service": service, "acked": acked,
            "errors": errors, "duplicates": duplicates, "sent_for": sent_for,
            "elapsed": elapsed, "unanswered": total - answered - sum(
                v for k, v in errors.items() if not k.startswith("HTTP"))}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--dup-every", type=int, default=20)
    ap.add_argument("--readme", action="store_true",
                    help="write the table into bench/README.md (section 'Webhook receivers')")
    ap.add_argument("--http", default="auto", help="uvicorn's HTTP parser: auto, h11, httptools")
    ap.add_argument("--loop", default="auto", help="uvicorn's event loop: auto, asyncio, uvloop")
    args = ap.parse_args()
    if args.rate * args.seconds > 100_000:
        sys.exit("bounded: at most 100,000 requests a run")

    with tempfile.TemporaryDirectory(prefix="voronka-load-") as tmp:
        data = Path(tmp) / "data"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, **SECRETS, "VORONKA_DATA": str(data),
               "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "voronka.live.app:app_from_env",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
             "--no-access-log", "--http", args.http, "--loop", args.loop], env=env)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{url}/hooks/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    sys.exit("the receiver did not start")
                time.sleep(0.2)
            load_before = os.getloadavg()
            server_cpu, client_cpu = cpu_seconds(proc.pid), time.process_time()
            result = asyncio.run(fire(url, args.rate, args.seconds, args.concurrency,
                                      args.dup_every))
            server_cpu = cpu_seconds(proc.pid) - server_cpu
            client_cpu = time.process_time() - client_cpu
            load_after = os.getloadavg()
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        store = LiveStore(data)
        stored = {e.key for e in store.events()}
        store.close()

    acked: set[str] = result["acked"]  # type: ignore[assignment]
    lat: list[float] = result["latencies"]  # type: ignore[assignment]
    lost = acked - stored
    extra = stored - acked
    ms = [x * 1000 for x in lat]
    sv = [x * 1000 for x in result["service"]]  # type: ignore[attr-defined]
    n_ok = len(lat) - sum(v for k, v in result["errors"].items()  # type: ignore[attr-defined]
                          if k.startswith("HTTP"))
    rows = {
        "requests sent": f"{result['total']} ({args.rate:g}/s for {args.seconds:g} s; "
                         f"sending took {result['sent_for']:.1f} s)",
        "of them duplicates (retries)": str(result["duplicates"]),
        "acknowledged (2xx)": f"{n_ok} in {result['elapsed']:.1f} s "
                              f"({n_ok / result['elapsed']:.0f}/s)",  # type: ignore[operator]
        "unanswered after the drain (cancelled)": str(result["unanswered"]),
        "errors": json.dumps(result["errors"]) if result["errors"] else "none",
        "unique events acknowledged": str(len(acked)),
        "events in the store": str(len(stored)),
        "lost (acknowledged, not stored)": str(len(lost)),
        "stored but never acknowledged": str(len(extra)),
        "ack latency from when due, p50 / p95 / p99 / max (ms)":
            f"{pct(ms, .5):.1f} / {pct(ms, .95):.1f} / {pct(ms, .99):.1f} / {max(ms):.1f}",
        "ack latency from the send, p50 / p95 / p99 / max (ms)":
            f"{pct(sv, .5):.1f} / {pct(sv, .95):.1f} / {pct(sv, .99):.1f} / {max(sv):.1f}",
        "CPU per answered request, server / client (ms)":
            f"{1000 * server_cpu / max(1, len(lat)):.2f} / {1000 * client_cpu / max(1, len(lat)):.2f}",
        "load average before / after": f"{load_before[0]:.1f} / {load_after[0]:.1f}",
    }
    width = max(map(len, rows))
    for k, v in rows.items():
        print(f"{k:<{width}}  {v}")
    print(f"RESULT webhooks {args.rate:g}/s x {args.seconds:g} s: "
          f"{n_ok}/{result['total']} acknowledged, sustained "
          f"{n_ok / result['elapsed']:.0f}/s, lost {len(lost)}, "  # type: ignore[operator]
          f"p99 ack {pct(ms, .99):.0f} ms from due / {pct(sv, .99):.0f} ms from send, "
          f"server CPU {1000 * server_cpu / max(1, len(lat)):.2f} ms/request, "
          f"load {load_before[0]:.1f}->{load_after[0]:.1f}")
    if lost:
        print("LOST:", sorted(lost)[:10])
    if args.readme:
        write_readme(rows)
    if lost:
        sys.exit(1)


def write_readme(rows: dict[str, str]) -> None:
    readme = ROOT / "bench" / "README.md"
    text = readme.read_text(encoding="utf-8")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    table = "\n".join(["| measure | value |", "|---|---|",
                       *(f"| {k} | {v} |" for k, v in rows.items())])
    block = (f"{MARK_START}\nMeasured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit `{commit}`, "
             f"{os.cpu_count()} cores shared with other work:\n\n{table}\n{MARK_END}")
    if MARK_START in text:
        text = re.sub(re.escape(MARK_START) + ".*?" + re.escape(MARK_END), lambda _: block,
                      text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + SECTION + "\n" + block + "\n"
    readme.write_text(text, encoding="utf-8")


SECTION = """## Webhook receivers (`load_webhooks.py`)

`bench/load_webhooks.py` starts the receivers (`uvicorn --factory voronka.live.app:app_from_env`)
on 127.0.0.1 and posts the documented bodies of amoCRM, Bitrix24, HubSpot (signed) and Pipedrive
(basic auth) in turn at a fixed rate for a fixed time from one local asyncio client (open loop: a
minimal HTTP/1.1 client on 64 kept-alive connections, so that the load generator leaves the CPU
to the server), every 20th a retry of an earlier event. It stops by itself, shuts the server
down, and compares the store with what was acknowledged: *lost* counts events that got a 2xx but
are not in the store. Latency is measured by the client up to the 2xx, both from when the request
was due (the open loop's schedule: queueing in the client included, what a CRM would see) and
from when it was actually sent; it includes the commit to DuckDB (the receivers answer only after
it). Client and server share the machine; requests still unanswered 300 s after the last was sent
are cancelled and counted (never as lost: they were not acknowledged).
"""


if __name__ == "__main__":
    main()
