"""amoCRM / Kommo (API v4): pipelines, leads and ``lead_status_changed`` events.

Reference: ../shared/reference/crm-apis.md §1. Status ids 142 (won) and 143 (lost) repeat in every
pipeline, so a stage is the pair (pipeline id, status id). Timestamps are Unix seconds. Lists are
HAL pages (``page``, ``limit``, ``_links.next``), an empty result is HTTP 204. At most 7 requests
per second.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx

from voronka.io.crm.base import GONE, Connector, fetch_or_gone
from voronka.io.crm.errors import CrmTokenExpired
from voronka.io.crm.http import Clock, CrmHttp, HttpPolicy
from voronka.io.crm.model import (
    CrmPipeline,
    CrmStage,
    DealRow,
    Outcome,
    Page,
    Pulled,
    StageEntry,
    from_unix,
)

WON_STATUS_ID = 142
LOST_STATUS_ID = 143
LEADS_PAGE = 250
EVENTS_PAGE = 100
POLICY = HttpPolicy(rate_per_second=7.0, burst=1)
"""amoCRM: "not more than 7 requests per second" (crm-apis.md §1.1)."""


class AmoCrmConnector(Connector):
    """Pull from amoCRM or Kommo with a long-lived token and the account's subdomain."""

    crm: ClassVar[str] = "amocrm"
    phases: ClassVar[tuple[str, ...]] = ("pipelines", "leads", "events")

    @classmethod
    def connect(
        cls, credentials: Mapping[str, str], *, clock: Clock, client: httpx.Client | None
    ) -> CrmHttp:
        """The account ``https://<subdomain>.<domain>`` (``amocrm.ru`` unless ``domain`` says
        ``kommo.com``), or ``base_url``; an expired JWT token is refused before any request."""
        token = credentials["token"]
        expires = _jwt_expiry(token)
        if expires is not None and expires <= clock.now():
            raise CrmTokenExpired.make("amocrm_expired", date=expires.date().isoformat())
        base_url = credentials.get("base_url") or (
            f"https://{credentials['subdomain']}.{credentials.get('domain') or 'amocrm.ru'}"
        )
        return CrmHttp(
            cls.crm, base_url, policy=POLICY, clock=clock, client=client,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/hal+json"},
        )

    def fetch(self, phase: str, cursor: Any) -> Page:
        """One page of ``pipelines``, ``leads`` (changed since the window) or ``events``."""
        if phase == "pipelines":
            body = self.http.get("api/v4/leads/pipelines", account_check=True) or {}
            pipelines = [_pipeline(p) for p in body.get("_embedded", {}).get("pipelines", [])]
            return Page([p.to_json() for p in pipelines], None, done=True)
        page = int(cursor or 1)
        params: dict[str, Any]
        if phase == "leads":
            # Ordered by id, filtered only from below: leads changed during the pull keep their
            # place and new ones land at the end, so page numbers stay valid on resume.
            params = {"with": "loss_reason,source_id", "limit": LEADS_PAGE, "page": page,
                      "order[id]": "asc"}
            if self.window.since is not None:
                params["filter[updated_at][from]"] = int(self.window.since.timestamp())
            body = self.http.get("api/v4/leads", params)
            items = (body or {}).get("_embedded", {}).get("leads", [])
            records = [_lead(x) for x in items]
        elif phase == "events":
            # Events never change; bounding the window above makes the pages fixed.
            params = {"filter[type]": "lead_status_changed", "filter[entity]": "lead",
                      "limit": EVENTS_PAGE, "page": page,
                      "filter[created_at][to]": int(self.window.until.timestamp())}
            if self.window.since is not None:
                params["filter[created_at][from]"] = int(self.window.since.timestamp())
            body = self.http.get("api/v4/events", params)
            items = (body or {}).get("_embedded", {}).get("events", [])
            records = [r for r in (_event(x) for x in items) if r is not None]
        else:
            raise KeyError(phase)
        has_next = bool(body and body.get("_links", {}).get("next"))
        return Page(records, page + 1, done=not has_next)

    def fetch_deal(self, deal_id: str) -> bool:
        """The lead (``GET /api/v4/leads/{id}``; gone on 204/404 or ``is_deleted``) and its
        status changes (``GET /api/v4/events`` filtered by the lead)."""
        lead = fetch_or_gone(lambda: self.http.get(f"api/v4/leads/{deal_id}",
                                                   {"with": "loss_reason,source_id"}))
        if lead is GONE or not lead or lead.get("is_deleted"):
            return False
        self.staging.add("leads", None, [_lead(lead)])
        page = 1
        while True:
            body = self.http.get("api/v4/events", {
                "filter[type]": "lead_status_changed", "filter[entity]": "lead",
                "filter[entity_id]": deal_id, "limit": EVENTS_PAGE, "page": page,
            })
            items = (body or {}).get("_embedded", {}).get("events", [])
            self.staging.add("events", page, [r for r in (_event(x) for x in items) if r is not None])
            if not (body and body.get("_links", {}).get("next")):
                return True
            page += 1

    def assemble(self) -> Pulled:
        """Deals from the leads; one entry per status change, plus each new deal's first stage
        at its creation (the status before its first change, else its current status)."""
        pipelines = self.staged_pipelines()
        leads = {r["id"]: r for r in self.staging.records("leads")}
        events = {r["id"]: r for r in self.staging.records("events")}
        entries: list[StageEntry] = []
        first: dict[str, dict[str, Any]] = {}
        for ev in sorted(events.values(), key=lambda e: (e["at"], e["id"])):
            at = from_unix(ev["at"])
            assert at is not None
            entries.append(StageEntry(ev["deal_id"], ev["after"][0], ev["after"][1], at))
            first.setdefault(ev["deal_id"], ev)
        since = self.window.since
        for lead in leads.values():
            created = from_unix(lead["created_at"])
            # A deal created before the window got its first stage in an earlier pull.
            if created is None or (since is not None and created < since):
                continue
            earliest = first.get(lead["id"])
            pipeline_key, status = (earliest["before"] if earliest and earliest["before"] else
                                    (lead["pipeline_id"], lead["status_id"]))
            entries.append(StageEntry(lead["id"], pipeline_key, status, created))
        deals = tuple(_deal(lead) for lead in leads.values())
        return Pulled(pipelines, deals, tuple(entries))


def _pipeline(raw: Mapping[str, Any]) -> CrmPipeline:
    stages = []
    for s in raw.get("_embedded", {}).get("statuses", []):
        sid = int(s["id"])
        outcome: Outcome = (
            "won" if sid == WON_STATUS_ID else "lost" if sid == LOST_STATUS_ID else "open"
        )
        stages.append(CrmStage(str(sid), str(s.get("name", sid)), outcome, float(s.get("sort", 0))))
    return CrmPipeline(
        key=str(raw["id"]), name=str(raw.get("name", raw["id"])), is_main=bool(raw.get("is_main")),
        order=float(raw.get("sort", 0)), stages=tuple(stages),
    )


def _lead(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a lead the pull keeps (the staged record)."""
    utm: dict[str, str] = {}
    for field in raw.get("custom_fields_values") or []:
        code = str(field.get("field_code") or "").upper()
        values = field.get("values") or []
        if code in ("UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN") and values:
            value = values[0].get("value")
            if value not in (None, ""):
                utm[code.lower()] = str(value)
    reasons = raw.get("_embedded", {}).get("loss_reason") or []
    if isinstance(reasons, Mapping):
        reasons = [reasons]
    return {
        "id": str(raw["id"]),
        "pipeline_id": str(raw.get("pipeline_id")),
        "status_id": str(raw.get("status_id")),
        "price": raw.get("price"),
        "responsible_user_id": raw.get("responsible_user_id"),
        "created_at": raw.get("created_at"),
        "closed_at": raw.get("closed_at"),
        "loss_reason": reasons[0].get("name") if reasons else None,
        "source_id": raw.get("source_id"),
        **utm,
    }


def _status_pair(value: Any) -> list[str] | None:
    """``[pipeline id, status id]`` from a ``value_before``/``value_after`` array."""
    if not value:
        return None
    status = value[0].get("lead_status") if isinstance(value[0], Mapping) else None
    if not status:
        return None
    return [str(status.get("pipeline_id")), str(status.get("id"))]


def _event(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    after = _status_pair(raw.get("value_after"))
    if raw.get("type") != "lead_status_changed" or after is None:
        return None
    return {
        "id": str(raw["id"]),
        "deal_id": str(raw["entity_id"]),
        "at": int(raw["created_at"]),
        "before": _status_pair(raw.get("value_before")),
        "after": after,
    }


def _deal(lead: Mapping[str, Any]) -> DealRow:
    status_id = int(lead["status_id"]) if str(lead["status_id"]).isdigit() else 0
    status: Outcome = (
        "won" if status_id == WON_STATUS_ID else "lost" if status_id == LOST_STATUS_ID else "open"
    )
    source = lead.get("utm_source") or (
        str(lead["source_id"]) if lead.get("source_id") not in (None, "") else None
    )
    return DealRow(
        deal_id=lead["id"],
        pipeline_key=lead["pipeline_id"],
        status=status,
        created_at=from_unix(lead.get("created_at")),
        closed_at=from_unix(lead.get("closed_at")) if status != "open" else None,
        amount=float(lead["price"]) if lead.get("price") is not None else None,
        manager=str(lead["responsible_user_id"]) if lead.get("responsible_user_id") else None,
        source=source,
        utm_source=lead.get("utm_source"),
        utm_medium=lead.get("utm_medium"),
        utm_campaign=lead.get("utm_campaign"),
        lost_reason=lead.get("loss_reason") if status == "lost" else None,
    )


def _jwt_expiry(token: str) -> datetime | None:
    """The ``exp`` of a JWT (amoCRM's long-lived tokens are JWTs), None for other tokens."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded))
        return from_unix(int(payload["exp"]))
    except (ValueError, KeyError, TypeError):
        return None
