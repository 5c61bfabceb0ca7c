"""The webhook events' write path: durable before the 2xx, cheap per request.

A DuckDB commit costs milliseconds of CPU whatever it holds (bench/README.md, "Webhook
receivers"), so committing every few requests made the commit most of a receiver's CPU. Instead:

1. :class:`EventWriter`, one thread, takes whatever requests have queued up (group commit),
   drops the events already known (a CRM's retry or duplicate), appends the new ones to the
   journal ``live.journal`` next to the store, and ``fsync``\\ s it. Only then are the requests'
   futures resolved, so a 2xx always follows a durable write.
2. Every :attr:`~EventWriter.fold_seconds` (or :attr:`~EventWriter.fold_rows` events) the journaled
   events are inserted into ``hook_events`` in one transaction, then the journal is emptied.
3. When the store opens, a journal left by a killed process is folded in first (a line cut short
   by the kill was never acknowledged and is skipped). Inserting is idempotent (the event key is
   the table's primary key), so a journal folded twice stores each event once.

Reads of ``hook_events`` fold first (:meth:`EventWriter.flush`), so they see every acknowledged
event. Which keys are known is kept in memory (the newest :attr:`~EventWriter.remember` keys;
the table still stores each event once if an older one is retried, only that request's ``new``
count would say 1).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from voronka.live.tables import naive_utc

if TYPE_CHECKING:
    from voronka.live.store import HookEvent, LiveStore

log = logging.getLogger("voronka.live.hooks")

JOURNAL_FILE = "live.journal"
"""The journal's file name, next to the store's."""

EVENT_COLUMNS = ("key", "crm", "kind", "deal_id", "pipeline_id", "from_stage", "to_stage",
                 "occurred_at", "received_at", "payload")
EVENT_SCHEMA = pa.schema([
    *((c, pa.string()) for c in EVENT_COLUMNS[:7]),
    ("occurred_at", pa.timestamp("us")), ("received_at", pa.timestamp("us")),
    ("payload", pa.string()),
])

Row = tuple[Any, ...]
_Request = tuple[list["HookEvent"], datetime, Future[int]]


def insert_rows(store: LiveStore, rows: Sequence[Row]) -> list[str]:
    """Insert ``hook_events`` rows in one transaction (a known key is skipped); the new keys."""
    if not rows:
        return []
    table = pa.Table.from_arrays(
        [pa.array([r[i] for r in rows], EVENT_SCHEMA.field(i).type)
         for i in range(len(EVENT_COLUMNS))], schema=EVENT_SCHEMA,
    )
    cols = ", ".join(EVENT_COLUMNS)
    with store.transaction() as con:
        con.register("_hook_batch", table)
        try:
            found = con.execute(
                f"INSERT INTO hook_events ({cols}) SELECT {cols} FROM _hook_batch "
                "ON CONFLICT (key) DO NOTHING RETURNING key").fetchall()
        finally:
            con.unregister("_hook_batch")
    return [k for (k,) in found]


def read_journal(path: Path) -> list[Row]:
    """The rows of a journal (a last line cut short by a kill is skipped: never acknowledged)."""
    if not path.is_file():
        return []
    rows: list[Row] = []
    for line in path.read_bytes().split(b"\n"):
        if not line:
            continue
        try:
            r = json.loads(line)
        except ValueError:
            continue
        rows.append((*r[:7], datetime.fromisoformat(r[7]), datetime.fromisoformat(r[8]), r[9]))
    return rows


def recover(store: LiveStore, path: Path) -> int:
    """Fold a journal left behind into the store, then empty it; returns the rows read."""
    rows = read_journal(path)
    if rows:
        insert_rows(store, rows)
    if path.exists():
        _truncate(path)
    return len(rows)


def _truncate(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.truncate(0)
        fh.flush()
        os.fsync(fh.fileno())


class EventWriter:
    """The one thread that writes webhook events (see the module docstring).

    Args:
        store: the store (its ``hook_events`` table).
        journal: the journal file.
        max_batch: requests taken together at most.
        fold_seconds, fold_rows: journaled events are folded into the table this often, or when
            this many are waiting.
        remember: how many of the newest event keys are kept in memory to answer ``new``.
    """

    def __init__(self, store: LiveStore, journal: Path, *, max_batch: int = 500,
                 fold_seconds: float = 1.0, fold_rows: int = 5000,
                 remember: int = 200_000) -> None:
        self.store = store
        self.journal = journal
        self.max_batch = max_batch
        self.fold_seconds = fold_seconds
        self.fold_rows = fold_rows
        self.remember = remember
        recover(store, journal)
        newest = store.query("SELECT key FROM hook_events ORDER BY received_at DESC LIMIT ?",
                             [remember])
        self._keys: dict[str, None] = dict.fromkeys(reversed([k for (k,) in newest]))
        self._pending: list[Row] = []
        self._folded_at = time.monotonic()
        self._fh = journal.open("ab")
        self._queue: queue.Queue[_Request | Future[None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="voronka-event-writer", daemon=True)
        self._thread.start()

    def submit(self, events: Sequence[HookEvent], received_at: datetime) -> Future[int]:
        """Queue events; the future resolves to how many were new once they are durable."""
        fut: Future[int] = Future()
        self._queue.put((list(events), received_at, fut))
        return fut

    def flush(self, timeout: float = 60.0) -> None:
        """Fold every acknowledged event into the table now (before a read of it)."""
        if threading.current_thread() is self._thread or not self._thread.is_alive():
            return
        done: Future[None] = Future()
        self._queue.put(done)
        done.result(timeout=timeout)

    def stop(self) -> None:
        """Write and fold what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout=60)
        self._fh.close()

    # -- the thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            wait = None
            if self._pending:
                wait = max(0.0, self._folded_at + self.fold_seconds - time.monotonic())
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                self._fold()
                continue
            batch: list[_Request] = []
            flushes: list[Future[None]] = []
            stop = False
            while True:
                if item is None:
                    stop = True
                elif isinstance(item, Future):
                    flushes.append(item)
                else:
                    batch.append(item)
                if stop or len(batch) >= self.max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            if flushes or stop or len(self._pending) >= self.fold_rows or (
                    self._pending and time.monotonic() - self._folded_at >= self.fold_seconds):
                error = self._fold()
                for f in flushes:
                    if error is None:
                        f.set_result(None)
                    else:
                        f.set_exception(error)
            if stop:
                return

    def _write(self, batch: list[_Request]) -> None:
        new: list[Row] = []
        counts = [0] * len(batch)
        fresh: dict[str, None] = {}
        for n, (events, received_at, _) in enumerate(batch):
            received = naive_utc(received_at)
            for e in events:
                if e.key in self._keys or e.key in fresh:
                    continue
                fresh[e.key] = None
                counts[n] += 1
                new.append((e.key, e.crm, e.kind, e.deal_id, e.pipeline_id, e.from_stage,
                            e.to_stage, naive_utc(e.occurred_at), received, e.payload))
        try:
            if new:
                lines = b"".join(
                    json.dumps([*r[:7], r[7].isoformat(), r[8].isoformat(), r[9]],
                               ensure_ascii=False).encode("utf-8") + b"\n" for r in new)
                self._fh.write(lines)
                self._fh.flush()
                os.fsync(self._fh.fileno())
        except Exception as exc:  # not durable: every request of the batch answers 5xx
            for _, _, fut in batch:
                fut.set_exception(exc)
            return
        self._keys.update(fresh)
        while len(self._keys) > self.remember:
            del self._keys[next(iter(self._keys))]
        self._pending.extend(new)
        for (_, _, fut), count in zip(batch, counts, strict=True):
            fut.set_result(count)

    def _fold(self) -> Exception | None:
        self._folded_at = time.monotonic()
        if not self._pending:
            return None
        try:
            insert_rows(self.store, self._pending)
            self._fh.truncate(0)
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except Exception as exc:  # the journal keeps them; the next fold tries again
            log.warning("could not fold %d journaled webhook events into the store (kept in %s, "
                        "tried again): %s", len(self._pending), self.journal, exc)
            return exc
        self._pending = []
        return None
