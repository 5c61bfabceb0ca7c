"""Keeping single deals current: a webhook's deal pulled right away, deleted deals removed.

- :class:`DealSync` is the ``deals:<crm>`` job of the scheduler: webhook triggers and delete
  notifications queue their deal ids and make it due at once; it pulls each deal alone
  (:mod:`voronka.live.onedeal`) and writes it into the store and the pulled folder (the audit's
  input), replacing that deal's rows; a deal the CRM no longer has is removed.
- :func:`gone_since` asks a CRM which deals it deleted, the way its API allows, for the scheduled
  sync (:func:`voronka.live.sync.sync_once`), which removes them too:

| CRM | deleted deals | cost |
|---|---|---|
| amoCRM | ``GET /api/v4/events?filter[type]=lead_deleted`` since the last sync | one page a 100 |
| Bitrix24 | no feed: the list of all deal ids (``crm.deal.list``, ``select=[ID]``) compared with the store | one call a 50 deals, so at most every ``BITRIX24_ID_CHECK_HOURS`` |
| HubSpot | ``GET /crm/v3/objects/deals?archived=true`` (kept 90 days) | one page a 100 |
| Pipedrive | ``GET /api/v2/deals?status=deleted&updated_since=`` (kept 30 days) | one page a 500 |

A deleted deal is recorded in the store's ``deleted_deals`` and its rows leave ``deals.csv`` and
``events.csv`` of the pulled folder, so the next audit does not count it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from voronka.io.crm import Clock, CrmError, load_credentials
from voronka.io.crm.store import (
    DEAL_COLUMNS,
    EVENT_COLUMNS,
    natural_key,
    read_csv_rows,
    write_csv_rows,
)
from voronka.live.onedeal import DealFetcher, OneDeal
from voronka.live.store import LiveStore

log = logging.getLogger("voronka.live.deals")

BITRIX24_ID_CHECK_HOURS = 24.0
"""Bitrix24 has no feed of deleted deals: its full id list is compared at most this often."""


def prune_folder(folder: Path, deal_ids: Iterable[str]) -> int:
    """Remove deals (and their stage entries) from a pulled folder; returns the deals removed."""
    ids = set(deal_ids)
    deals_csv, events_csv = folder / "deals.csv", folder / "events.csv"
    if not ids or not deals_csv.is_file():
        return 0
    deals = read_csv_rows(deals_csv)
    kept = [d for d in deals if d["deal_id"] not in ids]
    if len(kept) != len(deals):
        write_csv_rows(deals_csv, DEAL_COLUMNS, kept)
    events = read_csv_rows(events_csv)
    kept_events = [e for e in events if e["deal_id"] not in ids]
    if len(kept_events) != len(events):
        write_csv_rows(events_csv, EVENT_COLUMNS, kept_events)
    return len(deals) - len(kept)


def put_deal(folder: Path, one: OneDeal) -> None:
    """Write one pulled deal into a pulled folder, replacing its rows (only into a folder a
    sync has made: the funnel files come from there)."""
    deals_csv, events_csv = folder / "deals.csv", folder / "events.csv"
    if one.deal is None or not deals_csv.is_file():
        return
    by_id = {d["deal_id"]: d for d in read_csv_rows(deals_csv)}
    by_id[one.deal_id] = {c: one.deal.get(c, "") for c in DEAL_COLUMNS}
    write_csv_rows(deals_csv, DEAL_COLUMNS, [by_id[k] for k in sorted(by_id, key=natural_key)])
    events = [e for e in read_csv_rows(events_csv) if e["deal_id"] != one.deal_id]
    events += [dict(e) for e in one.entries]
    unique = {(e["deal_id"], e["stage"], e["entered_at"]) for e in events}
    rows = sorted(unique, key=lambda r: (natural_key(r[0]), r[2], r[1]))
    write_csv_rows(events_csv, EVENT_COLUMNS,
                   ({"deal_id": d, "stage": s, "entered_at": at} for d, s, at in rows))


def remove_deals(store: LiveStore, folder: Path, crm: str, deal_ids: Iterable[str],
                 at: datetime, how: str) -> int:
    """Record deals as deleted and take them out of the store and the pulled folder."""
    ids = set(deal_ids)
    if not ids:
        return 0
    store.mark_deleted(crm, ids, at, how)
    prune_folder(folder, ids)
    log.info("%s: %d deleted deal(s) removed (%s)", crm, len(ids), how)
    return len(ids)


class DealSync:
    """The queue of single deals to pull for one CRM (the scheduler's ``deals:<crm>`` job).

    Args:
        store: the live store.
        folder: the CRM's pulled folder (``<data>/pulled/<crm>``).
        crm: the CRM.
        clock: the scheduler's clock.
        credentials, config, env: as for :func:`voronka.io.crm.pull`.
        client: an :class:`httpx.Client` (tests).
    """

    def __init__(self, store: LiveStore, folder: Path, crm: str, *, clock: Clock,
                 credentials: Mapping[str, str] | None = None, config: str | Path | None = None,
                 env: Mapping[str, str] | None = None, client: httpx.Client | None = None,
                 **_: Any) -> None:
        self.store, self.folder, self.crm, self.clock = store, folder, crm, clock
        self._creds = (credentials, config, env)
        self.client = client
        self._fetcher: DealFetcher | None = None
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    def add(self, deal_ids: Iterable[str]) -> None:
        """Queue deals to pull."""
        with self._lock:
            self._pending.update(str(i) for i in deal_ids)

    def pending(self) -> set[str]:
        """Deals queued and not pulled yet."""
        with self._lock:
            return set(self._pending)

    def fetcher(self) -> DealFetcher:
        if self._fetcher is None:
            given, config, env = self._creds
            creds = load_credentials(self.crm, given=given, config=config, env=env)
            self._fetcher = DealFetcher(self.crm, creds, clock=self.clock, client=self.client)
        return self._fetcher

    def run(self) -> list[OneDeal]:
        """Pull every queued deal; a deal whose pull failed stays queued (and the error is
        raised after the others were tried, for the scheduler's log)."""
        with self._lock:
            todo, self._pending = sorted(self._pending, key=natural_key), set()
        done: list[OneDeal] = []
        failed: list[str] = []
        error: CrmError | None = None
        for deal_id in todo:
            try:
                one = self.fetcher().fetch(deal_id)
            except CrmError as exc:
                failed.append(deal_id)
                error = exc
                continue
            self.apply(one)
            done.append(one)
        if failed:
            self.add(failed)
            assert error is not None
            raise error
        return done

    def apply(self, one: OneDeal) -> None:
        """Write a pulled deal into the store and the folder (or remove it when gone)."""
        now = self.clock.now()
        if one.gone:
            remove_deals(self.store, self.folder, self.crm, [one.deal_id], now, "webhook")
        else:
            assert one.deal is not None
            self.store.unmark_deleted(self.crm, [one.deal_id])
            self.store.replace_deal(self.crm, one.deal, one.entries)
            put_deal(self.folder, one)
        self.store.mark_deal_pulled(self.crm, one.deal_id, now)


# -- deleted deals seen by a sync -----------------------------------------------------------------
def gone_since(
    crm: str, known: set[str], store: LiveStore, since: datetime | None, *, now: datetime,
    clock: Clock, credentials: Mapping[str, str], client: httpx.Client | None = None,
) -> set[str] | None:
    """Of the ``known`` deals, those the CRM has deleted since ``since`` (None: this CRM's check
    is not due, or there was no sync before)."""
    from voronka.io.crm.runner import CONNECTORS

    if since is None:
        return None
    if crm == "bitrix24":
        last = store.mark_time(crm, "id_check")
        if last is not None and now - last < timedelta(hours=BITRIX24_ID_CHECK_HOURS):
            return None
    http = CONNECTORS[crm].connect(credentials, clock=clock, client=client)
    try:
        if crm == "amocrm":
            gone = _amocrm_deleted(http, since)
        elif crm == "bitrix24":
            gone = known - _bitrix24_ids(http)
            store.set_mark(crm, "id_check", now)
        elif crm == "hubspot":
            gone = _hubspot_archived(http)
        else:
            gone = _pipedrive_deleted(http, since)
    finally:
        http.close()
    return gone & known


def _amocrm_deleted(http: Any, since: datetime) -> set[str]:
    out: set[str] = set()
    page = 1
    while True:
        body = http.get("api/v4/events", {
            "filter[type]": "lead_deleted", "filter[entity]": "lead", "limit": 100, "page": page,
            "filter[created_at][from]": int(since.timestamp()),
        })
        out.update(str(e["entity_id"]) for e in (body or {}).get("_embedded", {}).get("events", []))
        if not (body and body.get("_links", {}).get("next")):
            return out
        page += 1


def _bitrix24_ids(http: Any) -> set[str]:
    out: set[str] = set()
    last = 0
    while True:
        body = http.post("crm.deal.list.json", {"order": {"ID": "ASC"}, "filter": {">ID": last},
                                                "select": ["ID"], "start": -1})
        items = (body or {}).get("result") or []
        out.update(str(x["ID"]) for x in items)
        if len(items) < 50:
            return out
        last = max(int(x["ID"]) for x in items)


def _hubspot_archived(http: Any) -> set[str]:
    out: set[str] = set()
    after: Any = None
    while True:
        params: dict[str, Any] = {"archived": "true", "limit": 100, "properties": "hs_object_id"}
        if after is not None:
            params["after"] = after
        body = http.get("crm/v3/objects/deals", params) or {}
        out.update(str(r["id"]) for r in body.get("results", []))
        after = body.get("paging", {}).get("next", {}).get("after")
        if after is None:
            return out


def _pipedrive_deleted(http: Any, since: datetime) -> set[str]:
    out: set[str] = set()
    cursor: Any = None
    while True:
        params: dict[str, Any] = {"status": "deleted", "limit": 500,
                                  "updated_since": since.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if cursor is not None:
            params["cursor"] = cursor
        body = http.get("api/v2/deals", params) or {}
        out.update(str(d["id"]) for d in body.get("data") or [])
        cursor = (body.get("additional_data") or {}).get("next_cursor")
        if not cursor:
            return out
