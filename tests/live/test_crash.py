"""A receiver killed with SIGKILL right after acknowledging still has every acknowledged event when
it comes back (a real uvicorn process on 127.0.0.1)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from hookdata import basic, dumps, pipedrive_change
from server import Receiver

from voronka.live.store import LiveStore


def _body(i: int) -> bytes:
    return dumps(pipedrive_change(f"ev-{i}", deal=1000 + i % 37, old=1, new=2,
                                  at=f"2025-04-15T15:{i // 60 % 60:02d}:{i % 60:02d}.000Z"))


def test_sigkill_after_acknowledging_loses_no_acknowledged_event(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Receiver(data)
    server.start()
    acked: set[int] = set()
    lock = threading.Lock()
    enough = threading.Event()
    kill_after = 60

    client = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=8))

    def send(i: int) -> None:
        try:
            r = client.post(server.url + "/hooks/pipedrive", content=_body(i), headers=basic())
        except httpx.HTTPError:
            return  # in flight when the process died: not acknowledged
        if r.status_code == 200:
            with lock:
                acked.add(i)
                if len(acked) >= kill_after:
                    enough.set()

    try:
        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(send, i) for i in range(200)]
            assert enough.wait(60), "the receiver did not acknowledge enough events"
            server.kill()  # right after the 60th acknowledgement, with requests in flight
            for f in futures:
                f.result()
    finally:
        client.close()
        if server.proc is not None and server.proc.poll() is None:
            server.kill()
    assert len(acked) >= kill_after
    assert len(acked) < 200, "the kill came after every request was answered"

    # Restarted on the same file: every acknowledged event is there, and a CRM's retry of one
    # of them is recognised as a duplicate.
    again = Receiver(data, port=server.port)
    again.start()
    try:
        retry = httpx.post(again.url + "/hooks/pipedrive", content=_body(min(acked)),
                           headers=basic(), timeout=10)
        assert retry.status_code == 200 and retry.json()["new"] == 0
    finally:
        again.stop()
    store = LiveStore(data)
    stored = {int(e.key.split(":")[2].removeprefix("ev-")) for e in store.events("pipedrive")}
    store.close()
    assert acked <= stored
    assert stored <= set(range(200))
