"""Bitrix24 (REST through an inbound webhook): categories, stages, deals, ``crm.stagehistory.list``.

Reference: ../shared/reference/crm-apis.md §2. Pipelines are deal categories (id 0 = the default
one); stages come from ``crm.status.list`` with ``ENTITY_ID`` ``DEAL_STAGE`` / ``DEAL_STAGE_<id>``
and their ``SEMANTICS`` (S = success, F = failure). Large lists are read with the documented
fast path: ``order ID ASC``, filter ``>ID`` of the last row, ``start = -1`` (50 rows a call).
The portal's leaky bucket drains 2 requests a second; ``QUERY_LIMIT_EXCEEDED`` is waited out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from voronka.io.crm.base import GONE, Connector, fetch_or_gone
from voronka.io.crm.errors import (
    CrmAccountNotFound,
    CrmAuthError,
    CrmError,
    CrmScopeError,
    CrmTokenExpired,
)
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

PAGE = 50
POLICY = HttpPolicy(rate_per_second=2.0, burst=1)
"""Bitrix24: its leaky bucket drains 2 requests a second on non-Enterprise plans (§2.1). The
portal allows a burst of 50, but other apps share it, so the pull never bursts."""

DEAL_FIELDS = [
    "ID", "CATEGORY_ID", "STAGE_ID", "STAGE_SEMANTIC_ID", "OPPORTUNITY", "ASSIGNED_BY_ID",
    "DATE_CREATE", "DATE_MODIFY", "CLOSEDATE", "CLOSED", "SOURCE_ID", "UTM_SOURCE", "UTM_MEDIUM",
    "UTM_CAMPAIGN",
]
HISTORY_FIELDS = ["ID", "TYPE_ID", "OWNER_ID", "CREATED_TIME", "CATEGORY_ID", "STAGE_ID"]


class Bitrix24Connector(Connector):
    """Pull from a Bitrix24 portal through an inbound webhook URL with the ``crm`` scope."""

    crm: ClassVar[str] = "bitrix24"
    phases: ClassVar[tuple[str, ...]] = ("pipelines", "deals", "history")

    @classmethod
    def connect(
        cls, credentials: Mapping[str, str], *, clock: Clock, client: httpx.Client | None
    ) -> CrmHttp:
        """The webhook ``https://<portal>/rest/<user>/<secret>/`` (or ``base_url``)."""
        base_url = credentials.get("base_url") or credentials["webhook"]
        return CrmHttp(
            cls.crm, base_url, policy=POLICY, clock=clock, client=client, classify=_classify
        )

    def fetch(self, phase: str, cursor: Any) -> Page:
        """One page: all pipelines at once, or 50 deals / history rows after the cursor's id."""
        if phase == "pipelines":
            return Page([p.to_json() for p in self._pipelines()], None, done=True)
        last_id = int(cursor or 0)
        if phase == "deals":
            flt: dict[str, Any] = {">ID": last_id}
            if self.window.since is not None:
                flt[">=DATE_MODIFY"] = self.window.since.isoformat()
            body = self.http.post("crm.deal.list.json", {
                "order": {"ID": "ASC"}, "filter": flt, "select": DEAL_FIELDS, "start": -1,
            })
            items = _result_list(body)
        elif phase == "history":
            if cursor is None:
                last_id = int(self.window.marks.get("history_id", 0))
            flt = {">ID": last_id}
            if self.window.since is not None and "history_id" not in self.window.marks:
                flt[">=CREATED_TIME"] = self.window.since.isoformat()
            body = self.http.post("crm.stagehistory.list.json", {
                "entityTypeId": 2, "order": {"ID": "ASC"}, "filter": flt,
                "select": HISTORY_FIELDS, "start": -1,
            })
            items = _result_list(body)
        else:
            raise KeyError(phase)
        records = [dict(x) for x in items]
        next_id = max([int(x["ID"]) for x in items], default=last_id)
        return Page(records, next_id, done=len(items) < PAGE)

    def fetch_deal(self, deal_id: str) -> bool:
        """The deal (``crm.deal.get``; gone on "Not found") and its stage history
        (``crm.stagehistory.list`` filtered by ``OWNER_ID``)."""
        body = fetch_or_gone(lambda: self.http.post("crm.deal.get.json", {"id": deal_id}))
        deal = None if body is GONE else (body or {}).get("result")
        if not isinstance(deal, Mapping) or not deal.get("ID"):
            return False
        self.staging.add("deals", None, [dict(deal)])
        last = 0
        while True:
            answer = self.http.post("crm.stagehistory.list.json", {
                "entityTypeId": 2, "order": {"ID": "ASC"},
                "filter": {"OWNER_ID": int(deal_id) if deal_id.isdigit() else deal_id,
                           ">ID": last},
                "select": HISTORY_FIELDS, "start": -1,
            })
            result = (answer or {}).get("result") or {}
            items = result.get("items", []) if isinstance(result, Mapping) else list(result)
            self.staging.add("history", last, [dict(x) for x in items])
            if len(items) < PAGE:
                return True
            last = max(int(x["ID"]) for x in items)

    def assemble(self) -> Pulled:
        """Deals and one stage entry per history row (creation, move, pipeline change)."""
        pipelines = self.staged_pipelines()
        lost_stages = {
            (p.key, s.key): s.name for p in pipelines for s in p.stages if s.outcome == "lost"
        }
        deals = {str(d["ID"]): d for d in self.staging.records("deals")}
        rows = []
        for d in deals.values():
            semantic = str(d.get("STAGE_SEMANTIC_ID") or "P")
            status: Outcome = "won" if semantic == "S" else "lost" if semantic == "F" else "open"
            pipeline_key = str(d.get("CATEGORY_ID") or 0)
            stage_id = str(d.get("STAGE_ID") or "")
            # No standard lost-reason field: a custom failure stage (not the plain LOSE) says why.
            reason = None
            if status == "lost" and not stage_id.endswith("LOSE"):
                reason = lost_stages.get((pipeline_key, stage_id))
            amount = d.get("OPPORTUNITY")
            rows.append(DealRow(
                deal_id=str(d["ID"]),
                pipeline_key=pipeline_key,
                status=status,
                created_at=from_iso(d.get("DATE_CREATE")),
                closed_at=from_iso(d.get("CLOSEDATE")) if d.get("CLOSED") == "Y" else None,
                amount=float(amount) if amount not in (None, "") else None,
                manager=str(d["ASSIGNED_BY_ID"]) if d.get("ASSIGNED_BY_ID") else None,
                source=d.get("UTM_SOURCE") or d.get("SOURCE_ID") or None,
                utm_source=d.get("UTM_SOURCE") or None,
                utm_medium=d.get("UTM_MEDIUM") or None,
                utm_campaign=d.get("UTM_CAMPAIGN") or None,
                lost_reason=reason,
            ))
        entries = []
        for h in {str(h["ID"]): h for h in self.staging.records("history")}.values():
            at = from_iso(h.get("CREATED_TIME"))
            if at is None or not h.get("STAGE_ID"):
                continue
            entries.append(StageEntry(
                str(h["OWNER_ID"]), str(h.get("CATEGORY_ID") or 0), str(h["STAGE_ID"]), at
            ))
        return Pulled(pipelines, tuple(rows), tuple(entries))

    def marks(self) -> dict[str, Any]:
        """The last history row's id: the next pull reads the history after it."""
        ids = [int(h["ID"]) for h in self.staging.records("history")]
        previous = int(self.window.marks.get("history_id", 0))
        return {"history_id": max([previous, *ids])}

    # -- pipelines ----------------------------------------------------------------------------
    def _pipelines(self) -> list[CrmPipeline]:
        categories = self._list_all("crm.category.list.json", {"entityTypeId": 2}, first=True)
        out = []
        for cat in categories:
            cid = int(cat["id"])
            entity = "DEAL_STAGE" if cid == 0 else f"DEAL_STAGE_{cid}"
            statuses = self._list_all("crm.status.list.json", {
                "order": {"SORT": "ASC"}, "filter": {"ENTITY_ID": entity},
            })
            stages = []
            for s in statuses:
                semantics = s.get("SEMANTICS")
                outcome: Outcome = (
                    "won" if semantics == "S" else "lost" if semantics == "F" else "open"
                )
                stages.append(CrmStage(
                    str(s["STATUS_ID"]), str(s.get("NAME") or s["STATUS_ID"]), outcome,
                    float(s.get("SORT") or 0),
                ))
            out.append(CrmPipeline(
                key=str(cid), name=str(cat.get("name") or cid),
                is_main=cid == 0 or str(cat.get("isDefault", "N")).upper() == "Y",
                order=float(cat.get("sort") or 0), stages=tuple(stages),
            ))
        return out

    def _list_all(
        self, method: str, params: Mapping[str, Any], *, first: bool = False
    ) -> list[dict[str, Any]]:
        """Every row of a small list method, following ``next``."""
        rows: list[dict[str, Any]] = []
        start: int | None = 0
        while start is not None:
            body = self.http.post(method, {**params, "start": start}, account_check=first)
            first = False
            rows.extend(_result_list(body))
            nxt = (body or {}).get("next")
            start = int(nxt) if nxt not in (None, "") else None
        return rows


def _result_list(body: Any) -> list[dict[str, Any]]:
    """The rows of a Bitrix24 answer: ``result`` is a list, or holds ``items``/``categories``."""
    result = (body or {}).get("result")
    if isinstance(result, list):
        return result
    if isinstance(result, Mapping):
        for key in ("items", "categories"):
            if isinstance(result.get(key), list):
                return list(result[key])
    return []


def _classify(response: httpx.Response) -> CrmError | None:
    """Bitrix24's error codes (``{"error": ..., "error_description": ...}``)."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, Mapping):
        return None
    code = str(body.get("error", "")).upper()
    if code == "EXPIRED_TOKEN":
        return CrmTokenExpired.make("bitrix24_expired")
    if code in ("INSUFFICIENT_SCOPE", "ACCESS_DENIED"):
        return CrmScopeError.make("bitrix24_scope")
    if code in ("NO_AUTH_FOUND", "INVALID_CREDENTIALS", "INVALID_TOKEN", "WRONG_AUTH_TYPE"):
        return CrmAuthError.make("bitrix24_auth")
    if code in ("PORTAL_DELETED", "NOT_FOUND") and response.status_code in (404, 410):
        return CrmAccountNotFound.make(
            "not_found", crm="bitrix24", host=response.request.url.host
        )
    return None
