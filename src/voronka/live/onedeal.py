"""Pull one deal (and its stage history) from a CRM's API: what a webhook trigger asks for.

A webhook that only names a deal (Bitrix24 always, amoCRM's ``leads[add|update]``, HubSpot
properties other than the stage, Pipedrive changes other than the stage) or says it was deleted
is followed, right away, by a pull of that one deal, the way each API allows
(../shared/reference/crm-apis.md):

| CRM | the deal | its stage history | gone when |
|---|---|---|---|
| amoCRM | ``GET /api/v4/leads/{id}`` | ``GET /api/v4/events?filter[entity_id]={id}`` | 204/404, ``is_deleted`` |
| Bitrix24 | ``crm.deal.get`` | ``crm.stagehistory.list`` filtered by ``OWNER_ID`` | "Not found" |
| HubSpot | ``GET /crm/v3/objects/deals/{id}`` with ``propertiesWithHistory=dealstage`` | (same call) | 404, ``archived`` |
| Pipedrive | ``GET /api/v2/deals/{id}`` | ``GET /v1/deals/{id}/flow`` | 404, ``status=deleted`` |

Each connector of :mod:`voronka.io.crm` fetches the deal itself
(:meth:`~voronka.io.crm.base.Connector.fetch_deal`): the records are staged the way its own pull
stages them and :meth:`~voronka.io.crm.base.Connector.assemble` turns them into the deal
row and stage entries, so a deal pulled alone reads exactly as in a full pull. The pipelines (stage
names) are fetched once and kept for :attr:`DealFetcher.catalogue_ttl` seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from voronka.io.crm import Clock
from voronka.io.crm.base import Connector, stage_owner
from voronka.io.crm.funnels import pipeline_funnels
from voronka.io.crm.model import Pulled, RunWindow
from voronka.io.crm.runner import CONNECTORS
from voronka.io.crm.store import format_amount, format_datetime

CATALOGUE_PHASES = ("pipelines", "stages")
"""The phases of a pull that fetch the account's pipelines and stages, not deals."""


class MemoryStaging:
    """A connector's staging kept in memory (one deal is never resumed)."""

    def __init__(self) -> None:
        self._records: dict[str, list[dict[str, Any]]] = {}

    def add(self, phase: str, cursor: Any, records: list[dict[str, Any]]) -> None:
        self._records.setdefault(phase, []).extend(records)

    def records(self, phase: str) -> list[dict[str, Any]]:
        return list(self._records.get(phase, []))

    def count(self, phase: str) -> int:
        return len(self._records.get(phase, []))

    def clear(self) -> None:
        self._records.clear()


@dataclass(frozen=True)
class OneDeal:
    """One deal as its CRM has it now.

    Attributes:
        crm: the CRM.
        deal_id: the deal.
        gone: the CRM no longer has it (deleted, archived).
        deal: its row of ``deals.csv`` (None when gone).
        entries: its rows of ``events.csv`` (deal_id, stage name, entered_at), the whole history.
        requests: HTTP requests made.
    """

    crm: str
    deal_id: str
    gone: bool
    deal: dict[str, str] | None = None
    entries: tuple[dict[str, str], ...] = ()
    requests: int = 0


class DealFetcher:
    """Fetches single deals of one CRM account.

    Args:
        crm: ``amocrm``, ``bitrix24``, ``hubspot`` or ``pipedrive``.
        credentials: the account's credentials (as :func:`voronka.io.crm.load_credentials` gives).
        clock: the clock (pacing and the catalogue's age).
        client: an :class:`httpx.Client` to send with (tests).
        catalogue_ttl: seconds the pipelines and stages are reused before being fetched again.
    """

    def __init__(self, crm: str, credentials: Mapping[str, str], *, clock: Clock,
                 client: httpx.Client | None = None, catalogue_ttl: float = 900.0) -> None:
        self.crm = crm
        self.cls: type[Connector] = CONNECTORS[crm]
        self.credentials = dict(credentials)
        self.clock = clock
        self.client = client
        self.catalogue_ttl = catalogue_ttl
        self._catalogue: dict[str, list[dict[str, Any]]] | None = None
        self._catalogue_at = 0.0

    def fetch(self, deal_id: str) -> OneDeal:
        """The deal ``deal_id`` now (raises :class:`~voronka.io.crm.CrmError` when the CRM
        cannot be asked)."""
        http = self.cls.connect(self.credentials, clock=self.clock, client=self.client)
        staging = MemoryStaging()
        connector = self.cls(http, RunWindow(None, self.clock.now()), staging)  # type: ignore[arg-type]
        try:
            for phase, records in self._pipelines(connector).items():
                staging.add(phase, None, records)
            found = connector.fetch_deal(str(deal_id))
            pulled = connector.assemble() if found else None
        finally:
            http.close()
        if pulled is None or not pulled.deals:
            return OneDeal(self.crm, str(deal_id), True, requests=http.requests)
        deal, entries = rows_of(pulled, str(deal_id))
        return OneDeal(self.crm, str(deal_id), False, deal, tuple(entries), http.requests)

    def _pipelines(self, connector: Connector) -> dict[str, list[dict[str, Any]]]:
        now = self.clock.monotonic()
        if self._catalogue is None or now - self._catalogue_at > self.catalogue_ttl:
            catalogue: dict[str, list[dict[str, Any]]] = {}
            for phase in (p for p in self.cls.phases if p in CATALOGUE_PHASES):
                cursor: Any = None
                while True:
                    page = connector.fetch(phase, cursor)
                    catalogue.setdefault(phase, []).extend(page.records)
                    cursor = page.next_cursor
                    if page.done:
                        break
            self._catalogue, self._catalogue_at = catalogue, now
        return self._catalogue


def rows_of(pulled: Pulled, deal_id: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The ``deals.csv`` row and ``events.csv`` rows of one assembled deal (the same columns and
    formats as a pull writes)."""
    funnels = pipeline_funnels(pulled.pipelines)
    names = {(pf.pipeline.key, k): v for pf in funnels for k, v in pf.names.items()}
    pipeline_names = {pf.pipeline.key: pf.pipeline.name for pf in funnels}
    owner = stage_owner(pulled.pipelines)
    d = next(x for x in pulled.deals if x.deal_id == deal_id)
    deal = {
        "deal_id": d.deal_id, "created_at": format_datetime(d.created_at),
        "source": d.source or "", "utm_source": d.utm_source or "",
        "utm_medium": d.utm_medium or "", "utm_campaign": d.utm_campaign or "",
        "manager": d.manager or "", "amount": format_amount(d.amount), "status": d.status,
        "closed_at": format_datetime(d.closed_at), "lost_reason": d.lost_reason or "",
        "pipeline": pipeline_names.get(d.pipeline_key, d.pipeline_key),
    }
    entries = []
    for e in pulled.entries:
        if e.deal_id != deal_id:
            continue
        key = e.pipeline_key if e.pipeline_key is not None else owner.get(e.stage_key)
        name = names.get((key or "", e.stage_key))
        if name is not None:
            entries.append({"deal_id": deal_id, "stage": name,
                            "entered_at": format_datetime(e.entered_at)})
    return deal, entries
