"""A leak that closes and later reopens is told again; a steady leak is told once.

"Closed": a finding told before and missing (resolved, or no longer significant) from
``thresholds.close_after_runs`` watch runs in a row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_watch_rules import Recorder, result, run

from voronka.live.store import LiveStore
from voronka.live.watchconfig import WatchConfig, parse_watch_config


def config(close_after: int = 2) -> WatchConfig:
    return parse_watch_config({
        "thresholds": {"close_after_runs": close_after},
        "recipient": [{"name": "head", "language": "en", "channels": ["json"]}],
    })


def leak(n: float) -> dict[str, Any]:
    return result(leaks=[(None, n)])


def insignificant() -> dict[str, Any]:
    """The same step, still losing deals but no longer beyond noise."""
    res = leak(30.0)
    res["leaks"][0]["significant"] = False
    return res


def told(ch: Recorder) -> list[tuple[str, str]]:
    return [(n.finding.key, n.reason) for _, _, d in ch.sent for n in d.news]


def test_open_closed_reopened_sends_two_digests(tmp_path: Path) -> None:
    cfg = config(close_after=2)
    store = LiveStore(tmp_path / "d")
    ch = Recorder(cfg)
    run(cfg, store, result(), ch, 9)                        # baseline: nothing
    run(cfg, store, leak(30.0), ch, 10)                     # opens: told
    run(cfg, store, leak(31.0), ch, 11)                     # steady: silent
    run(cfg, store, insignificant(), ch, 12)                # below the threshold: 1 run
    run(cfg, store, result(), ch, 13)                       # gone: 2 runs → closed
    run(cfg, store, leak(29.0), ch, 14)                     # back: told again, as reopened
    run(cfg, store, leak(30.0), ch, 15)                     # steady again: silent
    assert told(ch) == [("leak:new>call:all", "new"), ("leak:new>call:all", "reopened")]
    assert "has reopened" in ch.sent[1][2].text
    store.close()


def test_a_steady_leak_sends_one_digest(tmp_path: Path) -> None:
    cfg = config(close_after=2)
    store = LiveStore(tmp_path / "d")
    ch = Recorder(cfg)
    run(cfg, store, result(), ch, 9)
    for hour in range(10, 20):
        run(cfg, store, leak(30.0 + hour % 3), ch, hour)
    assert told(ch) == [("leak:new>call:all", "new")]
    store.close()


@pytest.mark.parametrize(("gap", "reopened"), [(1, False), (2, True)])
def test_a_leak_missing_for_fewer_runs_than_the_threshold_is_not_closed(
    tmp_path: Path, gap: int, reopened: bool
) -> None:
    cfg = config(close_after=2)
    store = LiveStore(tmp_path / "d")
    ch = Recorder(cfg)
    run(cfg, store, result(), ch, 9)
    run(cfg, store, leak(30.0), ch, 10)
    for k in range(gap):
        run(cfg, store, result(), ch, 11 + k)
    run(cfg, store, leak(30.0), ch, 15)
    assert len(ch.sent) == (2 if reopened else 1)
    store.close()
