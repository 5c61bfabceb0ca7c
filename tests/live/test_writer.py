"""The webhook write path: an event is in the fsync'ed journal before its request is answered, the
journal is folded into the table (also when a killed process left it), each event once."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from voronka.live.store import HookEvent, LiveStore
from voronka.live.writer import EventWriter, read_journal

AT = datetime(2025, 4, 15, 16, 0, tzinfo=UTC)


def event(key: str, deal: str = "7") -> HookEvent:
    return HookEvent(key, "pipedrive", "stage", deal, AT, "1", "2", "3", '{"x": 1}')


def table_count(store: LiveStore) -> int:
    with store._lock:  # straight to the table, without folding the journal first
        row = store._con.execute("SELECT count(*) FROM hook_events").fetchone()
    assert row is not None
    return int(row[0])


def test_acknowledged_means_journaled_and_reads_see_it(tmp_path: Path) -> None:
    store = LiveStore(tmp_path / "d")
    store._writer = EventWriter(store, store.journal, fold_seconds=3600, fold_rows=10**6)
    w = store._writer
    assert w.submit([event("a"), event("b"), event("a")], AT).result(10) == 2
    assert w.submit([event("b"), event("c")], AT).result(10) == 1  # a retry of b
    # Answered: durable in the journal, not yet in the table.
    assert [r[0] for r in read_journal(store.journal)] == ["a", "b", "c"]
    assert table_count(store) == 0
    # A read folds first.
    assert [e.key for e in store.events()] == ["a", "b", "c"]
    assert table_count(store) == 3 and read_journal(store.journal) == []
    assert w.submit([event("c")], AT).result(10) == 0
    store.close()


def test_a_journal_left_by_a_kill_is_folded_in_when_the_store_opens(tmp_path: Path) -> None:
    store = LiveStore(tmp_path / "d")
    assert store.writer().submit([event("old")], AT).result(10) == 1
    store.close()
    journal = store.journal
    lines = [json.dumps([k, "pipedrive", "stage", "9", "1", "2", "3", AT.replace(tzinfo=None)
                         .isoformat(), AT.replace(tzinfo=None).isoformat(), "{}"]) for k in
             ("k1", "k2", "old")]
    # Two whole lines, one already stored, and a line cut short by the kill (never answered).
    journal.write_text("\n".join(lines) + "\n" + lines[0][:25], encoding="utf-8")
    again = LiveStore(tmp_path / "d")
    assert sorted(e.key for e in again.events()) == ["k1", "k2", "old"]
    assert journal.read_bytes() == b""
    # The writer knows the recovered keys: their retries are not new.
    assert again.writer().submit([event("k1"), event("k3")], AT).result(10) == 1
    again.close()
    final = LiveStore(tmp_path / "d")
    assert sorted(e.key for e in final.events()) == ["k1", "k2", "k3", "old"]
    final.close()


def test_the_writer_folds_on_its_own_after_fold_seconds(tmp_path: Path) -> None:
    store = LiveStore(tmp_path / "d")
    store._writer = EventWriter(store, store.journal, fold_seconds=0.05)
    store._writer.submit([event("z")], AT).result(10)
    deadline = time.monotonic() + 10
    while table_count(store) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert table_count(store) == 1
    store.close()
