"""The CRM's truth in the live store as the syncs pulled it: ``deals`` and ``stage_entries``,
``deleted_deals``, ``sync_runs`` and ``live_marks`` (the tables of :mod:`voronka.live.store`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from voronka.live.tables import StoreTables, naive_utc

DEAL_COLUMNS = ("deal_id", "created_at", "source", "manager", "amount", "status", "closed_at",
                "lost_reason", "pipeline")
"""The columns of a pulled deal the ``deals`` table keeps (besides ``crm``)."""


class SyncedDeals(StoreTables):
    """The synced part of :class:`~voronka.live.store.LiveStore` (a mixin: it uses the store's
    ``query``, ``transaction`` and ``columns``)."""

    def replace_pulled(
        self, crm: str, deals: Sequence[Mapping[str, str]], entries: Sequence[Mapping[str, str]]
    ) -> None:
        """Replace one CRM's deals and stage entries with a pulled folder's rows."""
        deal_table = pa.table({
            "crm": pa.array([crm] * len(deals), pa.string()),
            **{c: pa.array([d.get(c) or None for d in deals], pa.string()) for c in DEAL_COLUMNS},
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
                con.execute(f"INSERT INTO deals (crm, {', '.join(DEAL_COLUMNS)}) "
                            f"SELECT crm, {', '.join(DEAL_COLUMNS)} FROM _pulled_deals")
                con.execute("INSERT INTO stage_entries SELECT DISTINCT crm, deal_id, stage, "
                            "entered_at FROM _pulled_entries")
            finally:
                con.unregister("_pulled_deals")
                con.unregister("_pulled_entries")

    def replace_deal(
        self, crm: str, deal: Mapping[str, str], entries: Sequence[Mapping[str, str]]
    ) -> None:
        """Replace one deal's row and stage entries (a single-deal pull)."""
        with self.transaction() as con:
            con.execute("DELETE FROM deals WHERE crm = ? AND deal_id = ?", [crm, deal["deal_id"]])
            con.execute("DELETE FROM stage_entries WHERE crm = ? AND deal_id = ?",
                        [crm, deal["deal_id"]])
            con.execute(f"INSERT INTO deals (crm, {', '.join(DEAL_COLUMNS)}) VALUES "
                        f"(?, {', '.join('?' * len(DEAL_COLUMNS))})",
                        [crm, *(deal.get(c) or None for c in DEAL_COLUMNS)])
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
                [(crm, i, naive_utc(at), how) for i in ids])
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

    def mark_time(self, crm: str, name: str) -> datetime | None:
        """When the check ``name`` of ``crm`` last ran (None: never)."""
        rows = self.query("SELECT ran_at FROM live_marks WHERE crm = ? AND name = ?", [crm, name])
        return rows[0][0].replace(tzinfo=UTC) if rows else None

    def set_mark(self, crm: str, name: str, at: datetime) -> None:
        """Record that the check ``name`` of ``crm`` ran at ``at``."""
        with self.transaction() as con:
            con.execute("INSERT OR REPLACE INTO live_marks VALUES (?, ?, ?)",
                        [crm, name, naive_utc(at)])

    def stage_entries(self, crm: str) -> set[tuple[str, str, str]]:
        """``(deal_id, stage, entered_at)`` of one CRM, as last synced."""
        rows = self.query(
            "SELECT deal_id, stage, entered_at FROM stage_entries WHERE crm = ?", [crm]
        )
        return {(r[0], r[1], r[2]) for r in rows}

    def deals(self, crm: str) -> dict[str, dict[str, Any]]:
        """Deal id → its synced row."""
        cur_rows = self.query("SELECT * FROM deals WHERE crm = ?", [crm])
        names = self.columns("deals")
        return {r[1]: dict(zip(names, r, strict=True)) for r in cur_rows}

    def record_sync(
        self, crm: str, started: datetime, finished: datetime | None, *, deals_fetched: int = 0,
        events_added: int = 0, requests: int = 0, error: str | None = None,
    ) -> None:
        """Log one sync run."""
        with self.transaction() as con:
            con.execute(
                "INSERT INTO sync_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                [crm, naive_utc(started), naive_utc(finished) if finished else None,
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
