"""The webhook receivers against the documented payloads of the four CRMs: the store holds exactly
the expected events, whatever the duplicates, retries, order, bad signatures and broken bodies."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hookdata import (
    AMO_TOKEN,
    BITRIX_TOKEN,
    HUBSPOT_SECRET,
    NOW,
    PD_PASSWORD,
    amocrm_status,
    basic,
    bitrix24_update,
    config,
    dumps,
    form,
    hubspot_event,
    hubspot_headers,
    pipedrive_change,
)

from voronka.live.receivers import router
from voronka.live.store import LiveStore

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HS_URL = "http://testserver/hooks/hubspot"


@pytest.fixture
def hooks(tmp_path: Path) -> Iterator[tuple[TestClient, LiveStore, list[tuple[str, list[str]]]]]:
    store = LiveStore(tmp_path / "data")
    nudged: list[tuple[str, list[str]]] = []
    app = FastAPI()
    app.include_router(router(store, config(), on_trigger=lambda c, d: nudged.append((c, d))))
    with TestClient(app) as client:
        yield client, store, nudged
    store.close()


Hooks = tuple[TestClient, LiveStore, list[tuple[str, list[str]]]]


def rows(store: LiveStore, crm: str) -> list[tuple[Any, ...]]:
    return [(e.kind, e.deal_id, e.pipeline_id, e.from_stage, e.to_stage, e.occurred_at)
            for e in store.events(crm)]


def ts(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


# -- amoCRM ---------------------------------------------------------------------------------------
def test_amocrm_status_lead_is_stored_once_with_from_and_to(hooks: Hooks) -> None:
    client, store, _ = hooks
    body = form(amocrm_status())
    url = f"/hooks/amocrm?token={AMO_TOKEN}"
    first = client.post(url, content=body, headers=FORM)
    assert first.status_code == 200 and first.json() == {"received": 1, "new": 1}
    # amoCRM resends the same body (a retry, or the same hook subscribed twice): stored once.
    for _ in range(2):
        again = client.post(url, content=body, headers=FORM)
        assert again.status_code == 200 and again.json()["new"] == 0
    # A later move of the same deal, delivered before... and the first (older) move again.
    later = form(amocrm_status(old=142, new=143, modified=1539782700))
    assert client.post(url, content=later, headers=FORM).json()["new"] == 1
    assert rows(store, "amocrm") == [
        ("stage", "10701093", "9217056", "20067736", "142", ts(1539782664)),
        ("stage", "10701093", "9217056", "142", "143", ts(1539782700)),
    ]
    event = store.events("amocrm")[0]
    assert "Семинар" in event.payload and AMO_TOKEN not in event.payload


def test_amocrm_refuses_a_missing_or_wrong_token_and_logs_no_secret(
    hooks: Hooks, caplog: pytest.LogCaptureFixture
) -> None:
    client, store, _ = hooks
    body = form(amocrm_status())
    with caplog.at_level(logging.WARNING, logger="voronka.live.hooks"):
        assert client.post("/hooks/amocrm", content=body, headers=FORM).status_code == 401
        wrong = client.post("/hooks/amocrm?token=guess-" + AMO_TOKEN, content=body, headers=FORM)
        assert wrong.status_code == 401
    assert store.events() == []
    assert "401" in caplog.text and AMO_TOKEN not in caplog.text


@pytest.mark.parametrize("pairs", [
    [("account[id]", "1")],                                        # no leads section
    [("leads[status][0][id]", "5"), ("leads[status][0][pipeline_id]", "9")],  # no status_id
    [("leads[status][0][id]", "5"), ("leads[status][0][status_id]", "1"),
     ("leads[status][0][pipeline_id]", "9"), ("leads[status][0][last_modified]", "soon")],
])
def test_amocrm_malformed_body_is_400(hooks: Hooks, pairs: list[tuple[str, str]]) -> None:
    client, store, _ = hooks
    r = client.post(f"/hooks/amocrm?token={AMO_TOKEN}", content=form(pairs), headers=FORM)
    assert r.status_code == 400 and r.json()["error"]
    assert store.events() == []


# -- Bitrix24 -------------------------------------------------------------------------------------
def test_bitrix24_update_is_a_trigger_for_the_next_pull(hooks: Hooks) -> None:
    client, store, nudged = hooks
    for body in (bitrix24_update(), bitrix24_update(), bitrix24_update(deal=760, ts=1736405900)):
        assert client.post("/hooks/bitrix24", content=form(body), headers=FORM).status_code == 200
    assert rows(store, "bitrix24") == [
        ("trigger", "759", None, None, None, ts(1736405807)),
        ("trigger", "760", None, None, None, ts(1736405900)),
    ]
    assert store.pending_deals("bitrix24") == ["759", "760"]
    assert nudged[0] == ("bitrix24", ["759"])
    assert all(BITRIX_TOKEN not in e.payload and "refresh_token" not in e.payload
               for e in store.events())


def test_bitrix24_refuses_a_wrong_application_token_and_reads_only_deal_events(
    hooks: Hooks
) -> None:
    client, store, _ = hooks
    bad = form(bitrix24_update(token="0" * 32))
    assert client.post("/hooks/bitrix24", content=bad, headers=FORM).status_code == 401
    no_token = form([p for p in bitrix24_update() if p[0] != "auth[application_token]"])
    assert client.post("/hooks/bitrix24", content=no_token, headers=FORM).status_code == 401
    other = form(bitrix24_update(event="ONCRMCONTACTUPDATE"))
    assert client.post("/hooks/bitrix24", content=other, headers=FORM).json()["received"] == 0
    no_id = form([p for p in bitrix24_update() if p[0] != "data[FIELDS][ID]"])
    assert client.post("/hooks/bitrix24", content=no_id, headers=FORM).status_code == 400
    assert store.events() == []


# -- HubSpot --------------------------------------------------------------------------------------
def post_hubspot(client: TestClient, events: list[dict[str, Any]], **kw: Any) -> Any:
    body = dumps(events)
    return client.post("/hooks/hubspot", content=body, headers=hubspot_headers(body, HS_URL, **kw))


def test_hubspot_batches_retries_and_out_of_order_events(hooks: Hooks) -> None:
    client, store, _ = hooks
    t0 = 1556094637139
    a = hubspot_event(value="appointmentscheduled", event_id=1, occurred=t0)
    b = hubspot_event(value="qualifiedtobuy", event_id=2, occurred=t0 + 60_000)
    c = hubspot_event(value="closedwon", event_id=3, occurred=t0 + 120_000)
    amount = hubspot_event(prop="amount", value="500", event_id=4, occurred=t0 + 130_000)
    # The last two arrive first, in one request; then the first; then a retry of the second.
    assert post_hubspot(client, [c, amount]).json() == {"received": 2, "new": 2}
    assert post_hubspot(client, [a]).json()["new"] == 1
    assert post_hubspot(client, [{**b, "attemptNumber": 1}]).json()["new"] == 1
    assert post_hubspot(client, [{**b, "attemptNumber": 2}, a]).json()["new"] == 0
    deal = "697680835"
    assert store.stage_changes("hubspot") == [
        (deal, None, "appointmentscheduled", ts(t0 / 1000)),
        (deal, "appointmentscheduled", "qualifiedtobuy", ts(t0 / 1000 + 60)),
        (deal, "qualifiedtobuy", "closedwon", ts(t0 / 1000 + 120)),
    ]
    assert [e.kind for e in store.events("hubspot")] == ["stage", "stage", "stage", "trigger"]


def test_hubspot_refuses_bad_missing_or_stale_signatures(
    hooks: Hooks, caplog: pytest.LogCaptureFixture
) -> None:
    client, store, _ = hooks
    body = dumps([hubspot_event()])
    good = hubspot_headers(body, HS_URL)
    with caplog.at_level(logging.WARNING, logger="voronka.live.hooks"):
        assert post_hubspot(client, [hubspot_event()], secret="another-secret").status_code == 401
        tampered = dumps([hubspot_event(value="closedwon")])
        assert client.post("/hooks/hubspot", content=tampered, headers=good).status_code == 401
        bare = {"Content-Type": "application/json"}
        assert client.post("/hooks/hubspot", content=body, headers=bare).status_code == 401
        stale = post_hubspot(client, [hubspot_event()], at=NOW - timedelta(minutes=6))
        assert stale.status_code == 401
    assert store.events() == []
    assert HUBSPOT_SECRET not in caplog.text and good["X-HubSpot-Signature-v3"] not in caplog.text
    # Within the 5-minute window the same body is accepted.
    assert post_hubspot(client, [hubspot_event()], at=NOW - timedelta(minutes=4)).status_code == 200


@pytest.mark.parametrize("body", [b"{not json", b'{"objectId": 1}', b'[{"eventId": 5}]', b"[7]"])
def test_hubspot_malformed_body_is_400(hooks: Hooks, body: bytes) -> None:
    client, store, _ = hooks
    r = client.post("/hooks/hubspot", content=body, headers=hubspot_headers(body, HS_URL))
    assert r.status_code == 400
    assert store.events() == []


# -- Pipedrive ------------------------------------------------------------------------------------
def test_pipedrive_change_deal_with_previous_stage_retries_and_order(hooks: Hooks) -> None:
    client, store, nudged = hooks
    first = pipedrive_change("ev-1", old=1, new=2, at="2025-04-15T15:39:01.000Z")
    second = pipedrive_change("ev-2", old=2, new=3, at="2025-04-15T15:45:00.000Z")
    won = pipedrive_change("ev-3", new=3, previous={"status": "open"}, status="won",
                           at="2025-04-15T15:50:00.000Z")
    renamed = pipedrive_change("ev-4", new=3, previous={"title": "Deal 1"},
                               at="2025-04-15T15:55:00.000Z")
    for body in (second, first, {**first, "meta": {**first["meta"], "attempt": 2}}, won,
                 renamed, second):
        r = client.post("/hooks/pipedrive", content=dumps(body), headers=basic())
        assert r.status_code == 200
    at = datetime(2025, 4, 15, 15, 39, 1, tzinfo=UTC)
    assert rows(store, "pipedrive") == [
        ("stage", "1", "1", "1", "2", at),
        ("stage", "1", "1", "2", "3", at + timedelta(seconds=359)),
        ("stage", "1", "1", "3", "won", at + timedelta(seconds=659)),
        ("trigger", "1", "1", None, None, at + timedelta(seconds=959)),
    ]
    assert nudged == [("pipedrive", ["1"])]


def test_pipedrive_refuses_wrong_basic_auth_and_rejects_broken_bodies(
    hooks: Hooks, caplog: pytest.LogCaptureFixture
) -> None:
    client, store, _ = hooks
    body = dumps(pipedrive_change())
    with caplog.at_level(logging.WARNING, logger="voronka.live.hooks"):
        for headers in (basic(password="nope"), basic(user="other"),
                        {"Content-Type": "application/json"},
                        {"Authorization": "Basic !!!", "Content-Type": "application/json"}):
            assert client.post("/hooks/pipedrive", content=body, headers=headers).status_code == 401
    assert PD_PASSWORD not in caplog.text
    for broken in (b"[]", b"{", dumps({"meta": {"entity": "deal", "version": "2.0"}}),
                   dumps({**pipedrive_change(), "meta": {**pipedrive_change()["meta"],
                                                          "version": "1.0"}})):
        assert client.post("/hooks/pipedrive", content=broken, headers=basic()).status_code == 400
    person = dumps({"meta": {"action": "change", "entity": "person", "id": "p1", "version": "2.0"}})
    assert client.post("/hooks/pipedrive", content=person, headers=basic()).json()["received"] == 0
    assert store.events() == []


def test_a_receiver_without_its_secret_refuses_everything(tmp_path: Path) -> None:
    store = LiveStore(tmp_path / "d")
    app = FastAPI()
    app.include_router(router(store, config(amocrm_token=None, pipedrive_password=None)))
    with TestClient(app) as client:
        r = client.post("/hooks/amocrm?token=", content=form(amocrm_status()), headers=FORM)
        assert r.status_code == 401
        r = client.post("/hooks/pipedrive", content=dumps(pipedrive_change()), headers=basic())
        assert r.status_code == 401
        assert client.get("/hooks/health").json()["receivers"] == ["bitrix24", "hubspot"]
    store.close()


def test_the_store_survives_reopening(tmp_path: Path) -> None:
    store = LiveStore(tmp_path / "d")
    app = FastAPI()
    app.include_router(router(store, config()))
    with TestClient(app) as client:
        client.post(f"/hooks/amocrm?token={AMO_TOKEN}", content=form(amocrm_status()),
                    headers=FORM)
    store.close()
    again = LiveStore(tmp_path / "d")
    assert [e.to_stage for e in again.events()] == ["142"]
    again.close()
