"""The live store's tables (:data:`SCHEMA`, described in :mod:`voronka.live.store`) and what its
parts share: the statements they call on the store (:class:`StoreTables`) and moments kept as
naive UTC (:func:`naive_utc`)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import duckdb

SCHEMA = """
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
"""The DDL of every table of the store (idempotent: run each time the file opens)."""


def naive_utc(value: datetime) -> datetime:
    """``value`` as the store keeps moments: in UTC without a zone (a naive value is taken to be
    UTC already)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


class StoreTables:
    """What the parts of :class:`~voronka.live.store.LiveStore` (the mixins
    :class:`~voronka.live.synced.SyncedDeals` and :class:`~voronka.live.watchmemory.WatchMemory`)
    call on the store, which implements it: one connection behind a lock."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read query."""
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """The connection inside one transaction (committed on success, rolled back on error)."""
        raise NotImplementedError

    def columns(self, table: str) -> list[str]:
        """The column names of one of the store's tables, in order."""
        raise NotImplementedError
