"""What ``voronka watch`` remembers in the live store: its runs, what each recipient was told, and
which findings went missing (closed) — the ``watch_*`` tables of :mod:`voronka.live.store`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from voronka.live.tables import StoreTables, naive_utc


class WatchMemory(StoreTables):
    """The watch part of :class:`~voronka.live.store.LiveStore` (a mixin: it uses the store's
    ``query`` and ``transaction``)."""

    def save_watch_run(self, at: datetime, dataset: str, findings: Any) -> None:
        """Record one watch run's findings."""
        with self.transaction() as con:
            con.execute("INSERT INTO watch_runs VALUES (?, ?, ?)",
                        [naive_utc(at), dataset, json.dumps(findings, ensure_ascii=False)])

    def known(self, recipient: str) -> dict[str, tuple[float | None, bool]]:
        """Finding key → (value when last told, delivered) for one recipient."""
        rows = self.query(
            "SELECT key, value, delivered FROM watch_known WHERE recipient = ?", [recipient]
        )
        return {r[0]: (r[1], bool(r[2])) for r in rows}

    def remember(
        self, recipient: str, items: Mapping[str, float | None], at: datetime, delivered: bool
    ) -> None:
        """Record findings as told to ``recipient`` (or as the baseline, ``delivered=False``)."""
        if not items:
            return
        with self.transaction() as con:
            con.executemany(
                "INSERT OR REPLACE INTO watch_known VALUES (?, ?, ?, ?, ?)",
                [(recipient, k, v, naive_utc(at), delivered) for k, v in items.items()],
            )


    def track_absence(
        self, recipient: str, present: Iterable[str], close_after: int, ignore: Iterable[str] = ()
    ) -> set[str]:
        """Count, for ``recipient``, the known findings missing from this run (``present`` are the
        keys of the run); one missing from ``close_after`` runs in a row is closed (forgotten
        from what the recipient was told). A known key present again starts its count anew.
        Returns the keys this call closed."""
        here = set(present)
        skip = set(ignore)
        closed: set[str] = set()
        with self.transaction() as con:
            known = [r[0] for r in con.execute(
                "SELECT key FROM watch_known WHERE recipient = ?", [recipient]).fetchall()]
            misses = dict(con.execute(
                "SELECT key, misses FROM watch_absent WHERE recipient = ? AND NOT closed",
                [recipient]).fetchall())
            for key in known:
                if key in skip:
                    continue
                if key in here:
                    if key in misses:
                        con.execute("DELETE FROM watch_absent WHERE recipient = ? AND key = ?",
                                    [recipient, key])
                    continue
                count = int(misses.get(key, 0)) + 1
                shut = count >= close_after
                con.execute("INSERT OR REPLACE INTO watch_absent VALUES (?, ?, ?, ?)",
                            [recipient, key, count, shut])
                if shut:
                    con.execute("DELETE FROM watch_known WHERE recipient = ? AND key = ?",
                                [recipient, key])
                    closed.add(key)
        return closed

    def closed_findings(self, recipient: str) -> set[str]:
        """Findings of ``recipient`` closed (missing long enough) and not back since."""
        rows = self.query("SELECT key FROM watch_absent WHERE recipient = ? AND closed",
                          [recipient])
        return {r[0] for r in rows}

    def reopened(self, recipient: str, keys: Iterable[str]) -> None:
        """Closed findings told again: they are open (known) once more."""
        keys = list(keys)
        if not keys:
            return
        with self.transaction() as con:
            con.executemany("DELETE FROM watch_absent WHERE recipient = ? AND key = ?",
                            [(recipient, k) for k in keys])
