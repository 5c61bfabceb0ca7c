"""Sync + watch for an hour of simulated time against a fake CRM whose deals keep changing: the
store ends equal to the fake's truth. The test moves the clock; nothing waits."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from crm_fakes import FakeClock, FakeCrm, make_deals
from live_fakes import LIVE_FAKES as FAKES
from pytest_httpserver import HTTPServer

from voronka.live.channels import Channels
from voronka.live.store import HookEvent, LiveStore
from voronka.live.sync import Scheduler, sync_once, sync_scheduler
from voronka.live.watch import run_watch
from voronka.live.watchconfig import parse_watch_config


def change(fake: FakeCrm, when: datetime) -> int:
    """The CRM at ``when``: every other open deal moves one stage on (or is won at the line's
    end), and one new deal arrives. Returns the stage entries added."""
    added = 0
    for d in fake.deals:
        if d.status != "open" or d.id % 2:
            continue
        keys = [s.key for s in d.pipeline.open]
        nxt = keys.index(d.stage) + 1
        d.steps.append((keys[nxt] if nxt < len(keys) else d.pipeline.won.key, when))
        d.updated_at = when
        added += 1
    fresh = make_deals(fake.pipelines, 1, when, first_id=max(d.id for d in fake.deals) + 1)[0]
    fresh.steps = [(fresh.pipeline.open[0].key, when)]
    fresh.updated_at = when
    fake.deals.append(fresh)
    return added + 1


@pytest.mark.parametrize("crm", sorted(FAKES))
def test_an_hour_of_sync_and_watch_ends_with_the_store_equal_to_the_crm(
    crm: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    clock = FakeClock()
    fake = FAKES[crm](clock, n_deals=16)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    data = tmp_path / "data"
    store = LiveStore(data)
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    sched = sync_scheduler(store, data, [crm], every_minutes=5, clock=clock,
                           credentials=fake.credentials(httpserver.url_for("/")), env=env)
    changes: list[int] = []
    # The CRM changes every 7 minutes (first at minute 2), out of step with the syncs.
    sched.add("crm", 7 * 60, lambda: changes.append(change(fake, clock.now())), first_in=120)
    config = parse_watch_config({"recipient": [{"name": "head", "channels": ["json"]}]})
    out = io.StringIO()
    watches: list[Any] = []
    if crm == "amocrm":  # watch (an audit each run) alongside one CRM's syncs keeps the test lean
        sched.add("watch", 30 * 60, lambda: watches.append(run_watch(
            config, store, data=data, now=clock.now(), channels=Channels(config, out=out))),
            first_in=60)
    start = clock.monotonic()
    sched.run_until(3600)
    elapsed = clock.monotonic() - start
    assert 3300 <= elapsed <= 3700  # the pulls' own pacing also runs on the clock
    syncs = sched.jobs[f"sync:{crm}"].results
    assert len(syncs) >= 12 and all(s.error is None for s in syncs)
    assert len(changes) >= 8
    # The last change came after the last sync: one more sync (as the next tick would) heals it.
    last = sync_once(store, data, crm, clock=clock,
                     credentials=fake.credentials(httpserver.url_for("/")), env=env)
    assert last.error is None
    assert store.stage_entries(crm) == fake.expected_events()
    deals = store.deals(crm)
    assert set(deals) == {str(d.id) for d in fake.deals}
    assert {k: v["status"] for k, v in deals.items()} == {str(d.id): d.status for d in fake.deals}
    assert store.last_sync(crm) == last.started
    # Incremental: after the first full pull, each sync fetched only the deals that changed.
    assert max(s.deals_fetched for s in syncs[1:]) < len(fake.deals) // 2
    if crm == "amocrm":
        # Watch ran twice on the synced folder; its first run is the baseline.
        assert len(watches) == 2 and {d.status for d in watches[0].deliveries} == {"baseline"}
        assert watches[1].dataset == str(data / "pulled" / crm)
    store.close()


def test_without_a_single_deal_job_a_trigger_brings_the_sync_forward(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    clock = FakeClock()
    fake = FAKES["bitrix24"](clock)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    data = tmp_path / "data"
    store = LiveStore(data)
    sched = Scheduler(clock)
    sched.add("sync:bitrix24", 3600, lambda: sync_once(
        store, data, "bitrix24", clock=clock, credentials=fake.credentials(httpserver.url_for("/")),
        env={"XDG_CONFIG_HOME": str(tmp_path)}))
    sched.run_due()  # the first full sync
    assert store.pending_deals("bitrix24") == []
    clock.jump(600)
    changed = change(fake, clock.now())
    assert changed > 0
    store.add_events([HookEvent("bitrix24:p:ONCRMDEALUPDATE:2@1", "bitrix24", "trigger", "2",
                                clock.now())], received_at=clock.now())
    sched.nudge("bitrix24", ["2"])
    assert sched.seconds_to_next() == pytest.approx(sched.nudge_delay)
    clock.jump(sched.nudge_delay)
    assert sched.run_due() == ["sync:bitrix24"]
    assert store.pending_deals("bitrix24") == []
    assert store.stage_entries("bitrix24") == fake.expected_events()
    store.close()


def test_a_failing_crm_is_logged_and_the_next_sync_resumes(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    clock = FakeClock()
    fake = FAKES["amocrm"](clock)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    store = LiveStore(tmp_path / "data")
    creds = fake.credentials(httpserver.url_for("/"))
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    fake.always = (503, {"error": "down"})
    failed = sync_once(store, tmp_path / "data", "amocrm", clock=clock, credentials=creds, env=env)
    assert failed.error and "amocrm" in failed.error.lower()
    assert store.last_sync("amocrm") is None
    fake.always = None
    ok = sync_once(store, tmp_path / "data", "amocrm", clock=clock, credentials=creds, env=env)
    assert ok.error is None and store.stage_entries("amocrm") == fake.expected_events()
    assert store.last_sync("amocrm") == ok.started
    assert Scheduler(clock).seconds_to_next() > 0
    store.close()


def test_scheduler_keeps_intervals_on_a_simulated_clock() -> None:
    clock = FakeClock()
    sched = Scheduler(clock)
    seen: list[float] = []
    sched.add("a", 300, lambda: seen.append(clock.monotonic()))
    sched.run_until(1800)
    assert seen == [0, 300, 600, 900, 1200, 1500, 1800]
    assert clock.now() - clock.start == timedelta(seconds=1800)
