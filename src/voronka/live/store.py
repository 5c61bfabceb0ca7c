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
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from voronka.live.watchmemory import WatchMemory
from voronka.live.writer import EventWriter, recover

STORE_FILE = "live.duckdb"

"""The store's file name inside the data folder."""

EventKind = Literal["stage", "trigger", "delete"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hook_events (
    key VARCHAR PRIMARY KEY, crm VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    deal_id VARCHAR NOT NULL, pipeline_id VARCHAR, from_stage VARCHAR, to_stage VARCHAR,
    occurred_at TIMESTAMP NOT NULL, received_at TIMESTAMP NOT NULL, pulled_at TIMESTAMP,
    payload VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS deals (
    crm VARCHAR NOT NULL, deal_id VARCHAR NOT NULL, created_at VARCHAR, source VARCHAR,
    manager VARCHAR, amount VARCHAR, status VARCHAR, closed_at VARCHAR, lost_reason VARCHAR,
    pipeline VARCHAR, PRIMARY KEY (crm, deal_id)
);
CREATE TABLE IF NOT EXISTS stage_entries (
    crm VARCHAR NOT NULL, deal_id VARCHAR NOT NULL, stage VARCHAR NOT NULL,
    entered_at VARCHAR NOT NULL, PRIMARY KEY (crm, deal_id, stage, entered_at)
);
CREATE TABLE IF NOT EXISTS sync_runs (
    crm VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,
    deals_fetched INTEGER, events_added INTEGER, requests INTEGER, error VARCHAR
);
CREATE TABLE IF NOT EXISTS watch_runs (
    run_at TIMESTAMP NOT NULL, dataset VARCHAR, findings VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS watch_known (
    recipient VARCHAR NOT NULL, key VARCHAR NOT NULL, value DOUBLE, told_at TIMESTAMP NOT NULL,
    delivered BOOLEAN NOT NULL, PRIMARY KEY (recipient, key)
);
CREATE TABLE IF NOT EXISTS deleted_deals (
    crm VARCHAR NOT NULL, deal_id VARCHAR NOT NULL, deleted_at TIMESTAMP NOT NULL,
    how VARCHAR NOT NULL, PRIMARY KEY (crm, deal_id)
);
CREATE TABLE IF NOT EXISTS live_marks (
    crm VARCHAR NOT NULL, name VARCHAR NOT NULL, ran_at TIMESTAMP NOT NULL, PRIMARY KEY (crm, name)
);
CREATE TABLE IF NOT EXISTS watch_absent (
    recipient VARCHAR NOT NULL, key VARCHAR NOT NULL, misses INTEGER NOT NULL,
    closed BOOLEAN NOT NULL, PRIMARY KEY (recipient, key)
);
"""


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


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


class LiveStore(WatchMemory):
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
            self._con.execute(_SCHEMA)
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
             _naive_utc(e.occurred_at), _naive_utc(received_at or datetime.now(UTC)), e.payload)
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
                [_naive_utc(at), crm, _naive_utc(started_before)],
            ).fetchall()
        return len(n)

    # -- the pulled truth -----------------------------------------------------------------------
    def replace_pulled(
        self, crm: str, deals: Sequence[Mapping[str, str]], entries: Sequence[Mapping[str, str]]
    ) -> None:
        """Replace one CRM's deals and stage entries with a pulled folder's rows."""
        deal_cols = ("deal_id", "created_at", "source", "manager", "amount", "status",
                     "closed_at", "lost_reason", "pipeline")
        deal_table = pa.table({
            "crm": pa.array([crm] * len(deals), pa.string()),
            **{c: pa.array([d.get(c) or None for d in deals], pa.string()) for c in deal_cols},
        })
        entry_table = pa.table({
            "crm": pa.array([crm] * len(entries), pa.string()),
            **{c: pa.array([e[c] for e in entries], pa.string())
               for c in ("deal_id", "stage", "entered_at")},
        })
        with self.transaction() as con:
            con.execute("DELETE FROM deals WHERE crm = ?", [crm])
            con.execute("DELETE FROM stage_entries WHERE crm = ?", [crm])
            con.register("_pulled_deals", deal_table)
            con.register("_pulled_entries", entry_table)
            try:
                con.execute(f"INSERT INTO deals (crm, {', '.join(deal_cols)}) "
                            f"SELECT crm, {', '.join(deal_cols)} FROM _pulled_deals")
                con.execute("INSERT INTO stage_entries SELECT DISTINCT crm, deal_id, stage, "
                            "entered_at FROM _pulled_entries")
            finally:
                con.unregister("_pulled_deals")
                con.unregister("_pulled_entries")

    def replace_deal(
        self, crm: str, deal: Mapping[str, str], entries: Sequence[Mapping[str, str]]
    ) -> None:
        """Replace one deal's row and stage entries (a single-deal pull)."""
        cols = ("deal_id", "created_at", "source", "manager", "amount", "status", "closed_at",
                "lost_reason", "pipeline")
        with self.transaction() as con:
            con.execute("DELETE FROM deals WHERE crm = ? AND deal_id = ?", [crm, deal["deal_id"]])
            con.execute("DELETE FROM stage_entries WHERE crm = ? AND deal_id = ?",
                        [crm, deal["deal_id"]])
            con.execute(f"INSERT INTO deals (crm, {', '.join(cols)}) VALUES "
                        f"(?, {', '.join('?' * len(cols))})",
                        [crm, *(deal.get(c) or None for c in cols)])
            rows = {(e["stage"], e["entered_at"]) for e in entries}
            if rows:
                con.executemany("INSERT INTO stage_entries VALUES (?, ?, ?, ?)",
                                [(crm, deal["deal_id"], s, at) for s, at in sorted(rows)])

    def mark_deleted(self, crm: str, deal_ids: Iterable[str], at: datetime, how: str) -> int:
        """Record deals as deleted in the CRM (``how``: ``webhook`` or ``sync``) and drop their
        rows; returns how many were given."""
        ids = sorted(set(deal_ids))
        if not ids:
            return 0
        with self.transaction() as con:
            con.executemany(
                "INSERT INTO deleted_deals VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(crm, i, _naive_utc(at), how) for i in ids])
            for table in ("deals", "stage_entries"):
                con.executemany(f"DELETE FROM {table} WHERE crm = ? AND deal_id = ?",
                                [(crm, i) for i in ids])
        return len(ids)

    def unmark_deleted(self, crm: str, deal_ids: Iterable[str]) -> None:
        """Deals the CRM has again (restored)."""
        ids = sorted(set(deal_ids))
        if ids:
            with self.transaction() as con:
                con.executemany("DELETE FROM deleted_deals WHERE crm = ? AND deal_id = ?",
                                [(crm, i) for i in ids])

    def deleted(self, crm: str) -> set[str]:
        """Deals of ``crm`` known to be deleted."""
        return {r[0] for r in self.query(
            "SELECT deal_id FROM deleted_deals WHERE crm = ?", [crm])}

    def mark_deal_pulled(self, crm: str, deal_id: str, at: datetime) -> int:
        """Mark the webhook events of one deal as pulled (a single-deal pull covered them)."""
        self._fold_events()
        with self.transaction() as con:
            n = con.execute(
                "UPDATE hook_events SET pulled_at = ? WHERE crm = ? AND deal_id = ? "
                "AND pulled_at IS NULL RETURNING key", [_naive_utc(at), crm, deal_id],
            ).fetchall()
        return len(n)

    def mark_time(self, crm: str, name: str) -> datetime | None:
        """When the check ``name`` of ``crm`` last ran (None: never)."""
        rows = self.query("SELECT ran_at FROM live_marks WHERE crm = ? AND name = ?", [crm, name])
        return rows[0][0].replace(tzinfo=UTC) if rows else None

    def set_mark(self, crm: str, name: str, at: datetime) -> None:
        """Record that the check ``name`` of ``crm`` ran at ``at``."""
        with self.transaction() as con:
            con.execute("INSERT OR REPLACE INTO live_marks VALUES (?, ?, ?)",
                        [crm, name, _naive_utc(at)])

    def stage_entries(self, crm: str) -> set[tuple[str, str, str]]:
        """``(deal_id, stage, entered_at)`` of one CRM, as last synced."""
        rows = self.query(
            "SELECT deal_id, stage, entered_at FROM stage_entries WHERE crm = ?", [crm]
        )
        return {(r[0], r[1], r[2]) for r in rows}

    def deals(self, crm: str) -> dict[str, dict[str, Any]]:
        """Deal id → its synced row."""
        cur_rows = self.query("SELECT * FROM deals WHERE crm = ?", [crm])
        with self._lock:
            names = [d[0] for d in self._con.execute("SELECT * FROM deals LIMIT 0").description]
        return {r[1]: dict(zip(names, r, strict=True)) for r in cur_rows}

    def record_sync(
        self, crm: str, started: datetime, finished: datetime | None, *, deals_fetched: int = 0,
        events_added: int = 0, requests: int = 0, error: str | None = None,
    ) -> None:
        """Log one sync run."""
        with self.transaction() as con:
            con.execute(
                "INSERT INTO sync_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                [crm, _naive_utc(started), _naive_utc(finished) if finished else None,
                 deals_fetched, events_added, requests, error],
            )

    def last_sync(self, crm: str) -> datetime | None:
        """When the last successful sync of ``crm`` began (None before the first)."""
        rows = self.query(
            "SELECT max(started_at) FROM sync_runs WHERE crm = ? AND error IS NULL "
            "AND finished_at IS NOT NULL", [crm],
        )
        value = rows[0][0] if rows else None
        return value.replace(tzinfo=UTC) if value is not None else None
