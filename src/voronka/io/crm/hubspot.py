"""HubSpot (CRM API v3): deal pipelines, deals and ``propertiesWithHistory=dealstage``.

Reference: ../shared/reference/crm-apis.md §3. Stage ids are unique across pipelines; a stage is
won when ``metadata.isClosed`` is true with probability 1.0, lost when closed otherwise. Lists use
the cursor ``paging.next.after``; with property history a page holds at most 50 deals. An
incremental pull finds changed deals with the search API (``hs_lastmodifieddate``) and reads their
history with the batch read, 50 at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from voronka.io.crm.base import GONE, Connector, fetch_or_gone
from voronka.io.crm.http import Clock, CrmHttp, HttpPolicy
from voronka.io.crm.model import (
    CrmPipeline,
    CrmStage,
    DealRow,
    Outcome,
    Page,
    Pulled,
    StageEntry,
    from_iso,
)

HISTORY_PAGE = 50
SEARCH_PAGE = 100
SEARCH_CAP = 10_000
"""The search API returns at most 10 000 results per query (§3.4): beyond, list everything."""

POLICY = HttpPolicy(rate_per_second=10.0, burst=10)
"""HubSpot: 100 requests per 10 seconds on the smallest plans (§3.1)."""

PROPERTIES = [
    "dealname", "amount", "dealstage", "pipeline", "createdate", "closedate",
    "hs_lastmodifieddate", "hubspot_owner_id", "hs_is_closed", "hs_is_closed_won",
    "closed_lost_reason", "hs_analytics_source", "hs_analytics_source_data_1", "hs_campaign",
]


class HubSpotConnector(Connector):
    """Pull from HubSpot with a Service Key or private-app token (scopes
    ``crm.objects.deals.read``, ``crm.schemas.deals.read``)."""

    crm: ClassVar[str] = "hubspot"
    phases: ClassVar[tuple[str, ...]] = ("pipelines", "changed", "deals")

    @classmethod
    def connect(
        cls, credentials: Mapping[str, str], *, clock: Clock, client: httpx.Client | None
    ) -> CrmHttp:
        """``https://api.hubapi.com`` (or ``base_url``) with the Bearer token."""
        return CrmHttp(
            cls.crm, credentials.get("base_url") or "https://api.hubapi.com", policy=POLICY,
            clock=clock, client=client, budget=_budget,
            headers={"Authorization": f"Bearer {credentials['token']}"},
        )

    def fetch(self, phase: str, cursor: Any) -> Page:
        """One page of pipelines, of changed deal ids (incremental), or of deals with history."""
        if phase == "pipelines":
            body = self.http.get("crm/v3/pipelines/deals", account_check=True) or {}
            return Page([_pipeline(p).to_json() for p in body.get("results", [])], None, True)
        if phase == "changed":
            return self._changed(cursor)
        if phase == "deals":
            if self._list_all():
                return self._list_page(cursor)
            return self._batch_page(int(cursor or 0))
        raise KeyError(phase)

    def _list_all(self) -> bool:
        changed = self.staging.records("changed")
        return self.window.since is None or any(r.get("too_many") for r in changed)

    def _changed(self, cursor: Any) -> Page:
        if self.window.since is None:
            return Page([], None, done=True)
        filters = [
            {"propertyName": "hs_lastmodifieddate", "operator": "GTE",
             "value": str(int(self.window.since.timestamp() * 1000))},
            {"propertyName": "hs_lastmodifieddate", "operator": "LTE",
             "value": str(int(self.window.until.timestamp() * 1000))},
        ]
        body: dict[str, Any] = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "properties": ["hs_object_id"], "limit": SEARCH_PAGE,
        }
        if cursor is not None:
            body["after"] = cursor
        answer = self.http.post("crm/v3/objects/deals/search", body) or {}
        total = answer.get("total")
        if isinstance(total, int) and total > SEARCH_CAP:
            return Page([{"too_many": True}], None, done=True, total=total)
        records = [{"id": str(r["id"])} for r in answer.get("results", [])]
        after = answer.get("paging", {}).get("next", {}).get("after")
        return Page(records, after, done=after is None, total=total)

    def _list_page(self, cursor: Any) -> Page:
        params: dict[str, Any] = {
            "limit": HISTORY_PAGE, "properties": ",".join(PROPERTIES),
            "propertiesWithHistory": "dealstage", "archived": "false",
        }
        if cursor is not None:
            params["after"] = cursor
        body = self.http.get("crm/v3/objects/deals", params) or {}
        after = body.get("paging", {}).get("next", {}).get("after")
        return Page([_deal_record(r) for r in body.get("results", [])], after, done=after is None)

    def _batch_page(self, index: int) -> Page:
        ids = sorted({r["id"] for r in self.staging.records("changed") if "id" in r}, key=int)
        chunk = ids[index : index + HISTORY_PAGE]
        if not chunk:
            return Page([], index, done=True, total=len(ids))
        body = self.http.post("crm/v3/objects/deals/batch/read", {
            "inputs": [{"id": i} for i in chunk], "properties": PROPERTIES,
            "propertiesWithHistory": ["dealstage"],
        }) or {}
        nxt = index + len(chunk)
        return Page(
            [_deal_record(r) for r in body.get("results", [])], nxt, done=nxt >= len(ids),
            total=len(ids),
        )

    def fetch_deal(self, deal_id: str) -> bool:
        """The deal with its stage history (``GET /crm/v3/objects/deals/{id}`` with
        ``propertiesWithHistory=dealstage``; gone on 404 or ``archived``)."""
        raw = fetch_or_gone(lambda: self.http.get(f"crm/v3/objects/deals/{deal_id}", {
            "properties": ",".join(PROPERTIES), "propertiesWithHistory": "dealstage",
        }))
        if raw is GONE or not raw or raw.get("archived"):
            return False
        self.staging.add("deals", None, [_deal_record(raw)])
        return True

    def assemble(self) -> Pulled:
        """Deals, and one entry per value in each deal's ``dealstage`` history."""
        pipelines = self.staged_pipelines()
        outcome = {s.key: s.outcome for p in pipelines for s in p.stages}
        deals = {r["id"]: r for r in self.staging.records("deals")}
        rows = []
        entries = []
        for d in deals.values():
            p = d["properties"]
            status: Outcome = outcome.get(str(p.get("dealstage")), "open")
            if str(p.get("dealstage")) not in outcome:
                closed = str(p.get("hs_is_closed")).lower() == "true"
                won = str(p.get("hs_is_closed_won")).lower() == "true"
                status = "won" if won else "lost" if closed else "open"
            amount = p.get("amount")
            rows.append(DealRow(
                deal_id=d["id"],
                pipeline_key=str(p.get("pipeline") or "default"),
                status=status,
                created_at=from_iso(p.get("createdate") or d.get("createdAt")),
                closed_at=from_iso(p.get("closedate")) if status != "open" else None,
                amount=float(amount) if amount not in (None, "") else None,
                manager=p.get("hubspot_owner_id") or None,
                source=p.get("hs_analytics_source") or None,
                utm_campaign=p.get("hs_campaign") or None,
                lost_reason=(p.get("closed_lost_reason") or None) if status == "lost" else None,
            ))
            for h in d["history"]:
                at = from_iso(h.get("timestamp"))
                if at is not None and h.get("value"):
                    entries.append(StageEntry(d["id"], None, str(h["value"]), at))
        return Pulled(pipelines, tuple(rows), tuple(entries))


def _pipeline(raw: Mapping[str, Any]) -> CrmPipeline:
    stages = []
    for s in raw.get("stages", []):
        if s.get("archived"):
            continue
        meta = s.get("metadata") or {}
        closed = str(meta.get("isClosed", "false")).lower() == "true"
        try:
            probability = float(meta.get("probability", 0) or 0)
        except (TypeError, ValueError):
            probability = 0.0
        outcome: Outcome = "open" if not closed else "won" if probability >= 1.0 else "lost"
        stages.append(CrmStage(
            str(s["id"]), str(s.get("label") or s["id"]), outcome, float(s.get("displayOrder", 0))
        ))
    return CrmPipeline(
        key=str(raw["id"]), name=str(raw.get("label") or raw["id"]),
        is_main=str(raw["id"]) == "default", order=float(raw.get("displayOrder", 0)),
        stages=tuple(stages),
    )


def _deal_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    history = (raw.get("propertiesWithHistory") or {}).get("dealstage") or []
    return {
        "id": str(raw["id"]),
        "createdAt": raw.get("createdAt"),
        "properties": {k: v for k, v in (raw.get("properties") or {}).items() if k in PROPERTIES},
        "history": [{"value": h.get("value"), "timestamp": h.get("timestamp")} for h in history],
    }


def _budget(response: httpx.Response) -> float:
    """Wait out the 10-second window when ``X-HubSpot-RateLimit-Remaining`` reaches 0."""
    remaining = response.headers.get("x-hubspot-ratelimit-remaining")
    if remaining is None or not remaining.strip().isdigit() or int(remaining) > 0:
        return 0.0
    interval = response.headers.get("x-hubspot-ratelimit-interval-milliseconds", "10000")
    return int(interval) / 1000 if interval.isdigit() else 10.0
