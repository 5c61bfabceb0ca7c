"""The live store: one DuckDB file under ``--data`` holding what the receivers, sync and watch keep.

Tables:

- ``hook_events``: every event a CRM webhook delivered, once (``key`` is the CRM's own event
  identity, so a retry or a duplicate is one row); ``kind`` is ``stage`` (the payload says which
  stage the deal entered, and for amoCRM and Pipedrive which one it left) or ``trigger`` (the
  payload only names the deal: it is pulled by the next incremental sync, ``pulled_at`` says when).
- ``deals`` and ``stage_entries``: the CRM's truth as the last sync pulled it.
- ``sync_runs``: every sync, with its counts, error and time.
- ``deleted_deals``: deals the CRM deleted (a delete webhook confirmed by the API, or a sync that
  saw them gone): removed from ``deals``, ``stage_entries`` and the pulled folder, so the audit
  no longer counts them; a deal that comes back (restored) is taken off the list.
- ``live_marks``: when periodic checks last ran (e.g. Bitrix24's list of deal ids).
- ``watch_runs`` and ``watch_known``: the findings of each ``voronka watch`` run, and per recipient
  what was already delivered (or recorded as the baseline), so that nothing is sent twice.
- ``watch_absent``: per recipient, findings told before and missing from the latest runs (how
  many in a row); one missing from enough runs is *closed*: forgotten from ``watch_known`` so that
  it is told again (as reopened) when it comes back.

One process owns the file (DuckDB allows one writer process). Inside it every statement goes
through one connection behind a lock, and webhook writes go through
:class:`~voronka.live.writer.EventWriter`, a single writer thread that makes each batch durable
(an fsync'ed journal next to the file) before the receivers answer 2xx and folds the journal into
``hook_events`` in bulk; a journal left by a killed process is folded in when the store opens, so
an acknowledged event survives the process being killed.

This module holds the file, its connection and the webhook events; the tables' DDL is in
:mod:`voronka.live.tables`, the synced deals' part of the store in :mod:`voronka.live.synced`,
the watch's in :mod:`voronka.live.watchmemory`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb

from voronka.live.synced import SyncedDeals
from voronka.live.tables import SCHEMA, naive_utc
from voronka.live.watchmemory import WatchMemory
from voronka.live.writer import EventWriter, recover

STORE_FILE = "live.duckdb"
"""The store's file name inside the data folder."""

EventKind = Literal["stage", "trigger", "delete"]


@dataclass(frozen=True)
class HookEvent:
    """One event a CRM webhook delivered.

    Attributes:
        key: the event's identity (``crm:account:…``); a retry or a duplicate has the same key.
        crm: ``amocrm``, ``bitrix24``, ``hubspot`` or ``pipedrive``.
        kind: ``stage`` (the payload names the stage entered), ``trigger`` (pull the deal) or
            ``delete`` (the CRM says the deal was deleted; pulled to confirm).
        deal_id: the CRM's deal id.
        occurred_at: when the change happened in the CRM (UTC; the receipt time when the payload
            carries none).
        pipeline_id: the deal's pipeline, when the payload says.
        from_stage: the stage left, when the payload says (amoCRM ``old_status_id``, Pipedrive
            ``previous.stage_id``).
        to_stage: the stage entered (None for a trigger).
        payload: the event's JSON as received (secrets removed).
    """

    key: str
    crm: str
    kind: EventKind
    deal_id: str
    occurred_at: datetime
    pipeline_id: str | None = None
    from_stage: str | None = None
    to_stage: str | None = None
    payload: str = "{}"


class LiveStore(SyncedDeals, WatchMemory):
    """The DuckDB file of the live features (see the module docstring).

    Args:
        path: the DuckDB file (created with its tables when missing), or a data folder, in
            which case the file is ``<folder>/live.duckdb``.
    """

    def __init__(self, path: str | Path) -> None:
        p = Path(path)
        if p.is_dir() or p.suffix == "":
            p.mkdir(parents=True, exist_ok=True)
            p = p / STORE_FILE
        self.path = p
        self._lock = threading.RLock()
        self._con = duckdb.connect(str(p))
        with self._lock:
            # One thread: the store's statements are small and many; the threads DuckDB would
            # start for each cost more CPU than they save (measured in bench/load_webhooks.py).
            self._con.execute("SET threads = 1")
            self._con.execute(SCHEMA)
            self._con.execute("CHECKPOINT")
        self.journal = p.parent / (p.stem + ".journal")
        recover(self, self.journal)
        self._writer: EventWriter | None = None
        self._writer_lock = threading.Lock()

    # -- plumbing -------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection inside one transaction (committed on success, rolled back on error)."""
        with self._lock:
            self._con.execute("BEGIN TRANSACTION")
            try:
                yield self._con
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read query (of every acknowledged webhook event too)."""
        if "hook_events" in sql:
            self._fold_events()
        with self._lock:
            return self._con.execute(sql, list(params)).fetchall()

    def columns(self, table: str) -> list[str]:
        """The column names of one of the store's tables, in order."""
        with self._lock:
            return [d[0] for d in self._con.execute(f"SELECT * FROM {table} LIMIT 0").description]

    def writer(self) -> EventWriter:
        """The single writer thread of webhook events (started on first use).

        Never waits for the store's lock once the writer runs: the receivers call this on the
        event loop while the writer may be committing."""
        writer = self._writer
        if writer is not None:
            return writer
        with self._writer_lock:
            if self._writer is None:
                self._writer = EventWriter(self, self.journal)
            return self._writer

    def _fold_events(self) -> None:
        """Bring the journaled (acknowledged) webhook events into ``hook_events``."""
        writer = self._writer
        if writer is not None:
            writer.flush()

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file."""
        with self._lock:
            self._con.execute("CHECKPOINT")

    def close(self) -> None:
        """Stop the writer and close the file (a checkpoint first)."""
        if self._writer is not None:
            self._writer.stop()
            self._writer = None
        with self._lock:
            try:
                self._con.execute("CHECKPOINT")
            finally:
                self._con.close()

    # -- webhook events -------------------------------------------------------------------------
    def add_events(self, events: Iterable[HookEvent], received_at: datetime | None = None) -> int:
        """Store events once each, committed before return; returns how many were new."""
        if self._writer is not None:  # the receivers' path: its memory of keys stays whole
            writer = self._writer
            fut = writer.submit(list(events), received_at or datetime.now(UTC))
            new = fut.result(timeout=60)
            self._fold_events()
            return new
        rows = [
            (e.key, e.crm, e.kind, e.deal_id, e.pipeline_id, e.from_stage, e.to_stage,
             naive_utc(e.occurred_at), naive_utc(received_at or datetime.now(UTC)), e.payload)
            for e in events
        ]
        if not rows:
            return 0
        with self.transaction() as con:
            before = con.execute("SELECT count(*) FROM hook_events").fetchone()
            con.executemany(
                "INSERT INTO hook_events (key, crm, kind, deal_id, pipeline_id, from_stage, "
                "to_stage, occurred_at, received_at, payload) VALUES (?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (key) DO NOTHING",
                rows,
            )
            after = con.execute("SELECT count(*) FROM hook_events").fetchone()
        assert before is not None and after is not None
        return int(after[0]) - int(before[0])

    def events(self, crm: str | None = None) -> list[HookEvent]:
        """Stored events (of one CRM), in the order they happened."""
        where, params = ("WHERE crm = ?", [crm]) if crm else ("", [])
        rows = self.query(
            "SELECT key, crm, kind, deal_id, occurred_at, pipeline_id, from_stage, to_stage, "
            f"payload FROM hook_events {where} ORDER BY occurred_at, key", params,
        )
        return [
            HookEvent(r[0], r[1], r[2], r[3], r[4].replace(tzinfo=UTC), r[5], r[6], r[7], r[8])
            for r in rows
        ]

    def stage_changes(self, crm: str) -> list[tuple[str, str | None, str, datetime]]:
        """``(deal_id, from_stage, to_stage, occurred_at)`` of every stage event, in the order the
        changes happened whatever the order they arrived in. Where the payload has no ``from``
        (HubSpot), it is the stage of the deal's previous event."""
        rows = self.query(
            "SELECT deal_id, coalesce(from_stage, lag(to_stage) OVER w), to_stage, occurred_at "
            "FROM hook_events WHERE crm = ? AND kind = 'stage' "
            "WINDOW w AS (PARTITION BY deal_id ORDER BY occurred_at, key) "
            "ORDER BY occurred_at, deal_id, key",
            [crm],
        )
        return [(r[0], r[1], r[2], r[3].replace(tzinfo=UTC)) for r in rows]

    def pending_deals(self, crm: str) -> list[str]:
        """Deals that webhooks named and no sync has pulled since."""
        rows = self.query(
            "SELECT DISTINCT deal_id FROM hook_events WHERE crm = ? AND pulled_at IS NULL "
            "ORDER BY deal_id", [crm],
        )
        return [r[0] for r in rows]

    def mark_pulled(self, crm: str, started_before: datetime, at: datetime) -> int:
        """Mark the events received before a sync began as pulled by it; returns how many."""
        self._fold_events()
        with self.transaction() as con:
            n = con.execute(
                "UPDATE hook_events SET pulled_at = ? WHERE crm = ? AND pulled_at IS NULL "
                "AND received_at <= ? RETURNING key",
                [naive_utc(at), crm, naive_utc(started_before)],
            ).fetchall()
        return len(n)

    def mark_deal_pulled(self, crm: str, deal_id: str, at: datetime) -> int:
        """Mark the webhook events of one deal as pulled (a single-deal pull covered them)."""
        self._fold_events()
        with self.transaction() as con:
            n = con.execute(
                "UPDATE hook_events SET pulled_at = ? WHERE crm = ? AND deal_id = ? "
                "AND pulled_at IS NULL RETURNING key", [naive_utc(at), crm, deal_id],
            ).fetchall()
        return len(n)
