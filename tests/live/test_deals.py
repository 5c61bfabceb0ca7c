"""A webhook's deal is pulled alone, right away; deleted deals leave the store and the audit's input
(a delete webhook, or a sync that sees them gone), per CRM against its fake API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from crm_fakes import FakeClock, FakeCrm
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hookdata import (
    AMO_TOKEN,
    basic,
    bitrix24_update,
    config,
    dumps,
    form,
    hubspot_headers,
)
from live_fakes import LIVE_FAKES
from pytest_httpserver import HTTPServer

from voronka.io.crm.store import read_csv_rows
from voronka.live.receivers import router
from voronka.live.store import HookEvent, LiveStore
from voronka.live.sync import Scheduler, pulled_folder, sync_once, sync_scheduler

CRMS = sorted(LIVE_FAKES)


@dataclass
class World:
    crm: str
    clock: FakeClock
    fake: Any
    store: LiveStore
    data: Path
    sched: Scheduler
    options: dict[str, Any]

    def folder_events(self) -> set[tuple[str, str, str]]:
        rows = read_csv_rows(pulled_folder(self.data, self.crm) / "events.csv")
        return {(r["deal_id"], r["stage"], r["entered_at"]) for r in rows}

    def folder_deals(self) -> dict[str, str]:
        rows = read_csv_rows(pulled_folder(self.data, self.crm) / "deals.csv")
        return {r["deal_id"]: r["status"] for r in rows}

    def truth_deals(self) -> dict[str, str]:
        return {str(d.id): d.status for d in self.fake.deals}


@pytest.fixture(params=CRMS)
def world(request: pytest.FixtureRequest, httpserver: HTTPServer,
          tmp_path: Path) -> Iterator[World]:
    crm = request.param
    clock = FakeClock()
    fake = LIVE_FAKES[crm](clock, n_deals=12)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    data = tmp_path / "data"
    store = LiveStore(data)
    options = {"credentials": fake.credentials(httpserver.url_for("/")),
               "env": {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}}
    sched = sync_scheduler(store, data, [crm], every_minutes=60, clock=clock, **options)
    assert sched.run_due() == [f"sync:{crm}"]  # the first full sync
    yield World(crm, clock, fake, store, data, sched, options)
    store.close()


def move_on(fake: FakeCrm, deal_id: int, when: datetime) -> None:
    """One deal of the truth moves one stage on (won at the line's end)."""
    d = next(d for d in fake.deals if d.id == deal_id)
    keys = [s.key for s in d.pipeline.open]
    nxt = keys.index(d.stage) + 1
    d.steps.append((keys[nxt] if nxt < len(keys) else d.pipeline.won.key, when))
    d.updated_at = when


def open_deal(fake: FakeCrm) -> int:
    return next(d.id for d in fake.deals if d.status == "open")


def test_a_trigger_pulls_that_one_deal_at_once(world: World) -> None:
    w = world
    w.clock.jump(600)
    deal = open_deal(w.fake)
    move_on(w.fake, deal, w.clock.now())
    assert w.store.stage_entries(w.crm) != w.fake.expected_events()
    w.store.add_events([HookEvent(f"{w.crm}:t:{deal}", w.crm, "trigger", str(deal),
                                  w.clock.now())], received_at=w.clock.now())
    log_before = len(w.fake.log)
    w.sched.nudge(w.crm, [str(deal)])
    assert w.sched.seconds_to_next() == 0  # right away, not at the next sync (an hour away)
    assert w.sched.run_due() == [f"deals:{w.crm}"]
    # Only that deal was asked for: no list of deals, no account-wide history feed.
    paths = [p for _, p in w.fake.log[log_before:]]
    lists = ("/api/v4/leads", "crm.deal.list.json", "/crm/v3/objects/deals", "/api/v2/deals",
             "/search", "/batch/read")
    assert any(str(deal) in p for p in paths)
    assert not any(p.endswith(lists) for p in paths), paths
    assert w.store.stage_entries(w.crm) == w.fake.expected_events()
    assert w.folder_events() == w.fake.expected_events()
    assert w.folder_deals() == w.truth_deals()
    assert {k: v["status"] for k, v in w.store.deals(w.crm).items()} == w.truth_deals()
    assert w.store.pending_deals(w.crm) == []
    # Idle again until the next webhook.
    assert w.sched.run_due() == []
    # The next full sync agrees with what the single pull wrote.
    w.clock.jump(60)
    again = sync_once(w.store, w.data, w.crm, clock=w.clock, **w.options)
    assert again.error is None and w.store.stage_entries(w.crm) == w.fake.expected_events()


def test_a_delete_webhook_removes_the_deal(world: World) -> None:
    w = world
    w.clock.jump(600)
    victim = w.fake.deals[3].id
    w.fake.delete(victim, w.clock.now())
    assert str(victim) in w.folder_deals()
    w.store.add_events([HookEvent(f"{w.crm}:d:{victim}", w.crm, "delete", str(victim),
                                  w.clock.now())], received_at=w.clock.now())
    w.sched.nudge(w.crm, [str(victim)])
    assert w.sched.run_due() == [f"deals:{w.crm}"]
    assert str(victim) not in w.folder_deals()
    assert all(e[0] != str(victim) for e in w.folder_events())
    assert str(victim) not in w.store.deals(w.crm)
    assert w.store.deleted(w.crm) == {str(victim)}
    assert w.folder_deals() == w.truth_deals()
    assert w.store.stage_entries(w.crm) == w.fake.expected_events()
    # The next sync does not bring it back.
    w.clock.jump(3600)
    assert w.sched.run_due() == [f"sync:{w.crm}"]
    assert w.folder_deals() == w.truth_deals()
    assert w.store.stage_entries(w.crm) == w.fake.expected_events()


def test_a_sync_sees_deleted_deals_gone(world: World) -> None:
    w = world
    w.clock.jump(3600)
    w.sched.run_due()  # a second sync: from now on the CRM is asked for deletions
    w.clock.jump(600)
    victims = [w.fake.deals[2].id, w.fake.deals[5].id]
    for v in victims:
        w.fake.delete(v, w.clock.now())
    move_on(w.fake, open_deal(w.fake), w.clock.now())
    w.clock.jump(3600 if w.crm != "bitrix24" else 24 * 3600)
    assert w.sched.run_due() == [f"sync:{w.crm}"]
    assert w.store.deleted(w.crm) == {str(v) for v in victims}
    assert w.folder_deals() == w.truth_deals()
    assert w.folder_events() == w.fake.expected_events()
    assert w.store.stage_entries(w.crm) == w.fake.expected_events()
    assert set(w.store.deals(w.crm)) == set(w.truth_deals())


def test_a_failing_single_pull_stays_queued(world: World) -> None:
    w = world
    deal = open_deal(w.fake)
    w.fake.always = (503, {"error": "down"})
    w.sched.nudge(w.crm, [str(deal)])
    assert w.sched.run_due() == [f"deals:{w.crm}"]
    assert w.sched.jobs[f"deals:{w.crm}"].last_error is not None
    assert w.sched.deal_queues[w.crm].pending() == {str(deal)}
    w.fake.always = None
    w.clock.jump(31)
    assert w.sched.run_due() == [f"deals:{w.crm}"]
    assert w.sched.deal_queues[w.crm].pending() == set()


# -- the receivers call for the pull: the delete notifications of each CRM -------------------------
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _delete_bodies() -> list[tuple[str, str, bytes, dict[str, str], str]]:
    amo = form([("leads[delete][0][id]", "4821"), ("leads[delete][0][status_id]", "142"),
                ("leads[delete][0][pipeline_id]", "11"), ("account[id]", "17769199")])
    bitrix = form(bitrix24_update(deal=759, event="ONCRMDEALDELETE"))
    hub = dumps([{"objectId": 697680835, "changeSource": "CRM_UI", "eventId": 9001,
                  "subscriptionId": 92895, "portalId": 5799819, "appId": 186886,
                  "occurredAt": 1556094637139, "subscriptionType": "deal.deletion",
                  "attemptNumber": 0}])
    pd2 = dumps({"meta": {"action": "delete", "entity": "deal", "company_id": 123123,
                          "entity_id": 55, "id": "ev-del-1", "version": "2.0",
                          "timestamp": "2025-04-15T15:39:01.000Z", "attempt": 1},
                 "data": None, "previous": {"id": 55, "title": "Deal 55", "status": "open"}})
    pd1 = dumps({"v": 1, "event": "deleted.deal", "retry": 0, "current": None,
                 "previous": {"id": 56, "title": "Deal 56"},
                 "meta": {"v": 1, "action": "deleted", "object": "deal", "id": 56,
                          "company_id": 123123, "user_id": 1, "timestamp": 1713195541,
                          "timestamp_micro": 1713195541123456}})
    return [
        ("amocrm", f"/hooks/amocrm?token={AMO_TOKEN}", amo, FORM, "4821"),
        ("bitrix24", "/hooks/bitrix24", bitrix, FORM, "759"),
        ("hubspot", "/hooks/hubspot", hub,
         hubspot_headers(hub, "http://testserver/hooks/hubspot"), "697680835"),
        ("pipedrive", "/hooks/pipedrive", pd2, basic(), "55"),
        ("pipedrive", "/hooks/pipedrive", pd1, basic(), "56"),
    ]


@pytest.mark.parametrize(("crm", "path", "body", "headers", "deal"), _delete_bodies())
def test_delete_notifications_are_stored_once_and_ask_for_the_deal(
    tmp_path: Path, crm: str, path: str, body: bytes, headers: dict[str, str], deal: str
) -> None:
    store = LiveStore(tmp_path / "data")
    asked: list[tuple[str, list[str]]] = []
    app = FastAPI()
    app.include_router(router(store, config(), on_trigger=lambda c, d: asked.append((c, d))))
    with TestClient(app) as client:
        first = client.post(path, content=body, headers=headers)
        retry = client.post(path, content=body, headers=headers)
    assert first.status_code == 200 and first.json()["new"] == 1
    assert retry.status_code == 200 and retry.json()["new"] == 0
    assert [(e.kind, e.deal_id) for e in store.events(crm)] == [("delete", deal)]
    assert asked == [(crm, [deal]), (crm, [deal])]
    store.close()


@pytest.mark.parametrize("world", ["bitrix24"], indirect=True)
def test_a_real_webhook_through_the_receiver_pulls_its_deal(world: World) -> None:
    w = world
    w.clock.jump(600)
    deal = open_deal(w.fake)
    move_on(w.fake, deal, w.clock.now())
    app = FastAPI()
    app.include_router(router(w.store, config(), on_trigger=w.sched.nudge))
    with TestClient(app) as client:
        answer = client.post("/hooks/bitrix24", content=form(bitrix24_update(deal=deal)),
                             headers=FORM)
    assert answer.status_code == 200 and answer.json()["new"] == 1
    assert w.store.pending_deals(w.crm) == [str(deal)]
    assert w.sched.run_due() == [f"deals:{w.crm}"]
    assert w.store.pending_deals(w.crm) == []
    assert w.store.stage_entries(w.crm) == w.fake.expected_events()
    assert w.folder_events() == w.fake.expected_events()


@pytest.mark.parametrize("world", ["hubspot"], indirect=True)
def test_the_running_scheduler_wakes_for_a_trigger(world: World) -> None:
    import threading

    w = world
    deal = open_deal(w.fake)
    move_on(w.fake, deal, w.clock.now())
    ran = threading.Event()
    job = w.sched.jobs[f"deals:{w.crm}"]
    pull = job.run
    job.run = lambda: (pull(), ran.set())
    w.sched.start(tick=3600)  # without the wake-up it would look again only in an hour
    try:
        w.sched.nudge(w.crm, [str(deal)])
        assert ran.wait(60)
    finally:
        w.sched.stop()
    assert w.store.stage_entries(w.crm) == w.fake.expected_events()
