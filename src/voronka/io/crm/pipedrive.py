"""Pipedrive (API v2 lists, v1 deal flow): pipelines, stages, deals and each deal's stage moves.

Reference: ../shared/reference/crm-apis.md §4. Won and lost are the deal's ``status``, not stages:
each pipeline gets two closing stages, ``Won`` and ``Lost``, entered when the status changes.
v2 lists page with ``cursor``/``additional_data.next_cursor``; the history is
``/v1/deals/{id}/flow?items=dealChange`` (``start``/``limit``), one call per deal, so an
incremental pull reads it only for deals changed since the previous pull (``updated_since``).
Requests are paced and the ``x-ratelimit-*`` headers of the 2-second window are obeyed.
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

LIST_PAGE = 500
FLOW_PAGE = 500
WON_KEY = "won"
LOST_KEY = "lost"
POLICY = HttpPolicy(rate_per_second=8.0, burst=8)
"""Pipedrive: the smallest plan allows 20 requests per 2-second window per token (§4.1)."""


class PipedriveConnector(Connector):
    """Pull from Pipedrive with a personal API token (``x-api-token``)."""

    crm: ClassVar[str] = "pipedrive"
    phases: ClassVar[tuple[str, ...]] = ("pipelines", "stages", "deals", "flows")

    @classmethod
    def connect(
        cls, credentials: Mapping[str, str], *, clock: Clock, client: httpx.Client | None
    ) -> CrmHttp:
        """``https://<domain>.pipedrive.com`` when a company domain is given, else
        ``https://api.pipedrive.com`` (or ``base_url``)."""
        domain = credentials.get("domain")
        base_url = credentials.get("base_url") or (
            f"https://{domain}.pipedrive.com" if domain else "https://api.pipedrive.com"
        )
        return CrmHttp(
            cls.crm, base_url, policy=POLICY, clock=clock, client=client, budget=_budget,
            headers={"x-api-token": credentials["token"]},
        )

    def fetch(self, phase: str, cursor: Any) -> Page:
        """One page of pipelines, stages, deals (changed since the window) or one deal's flow."""
        if phase in ("pipelines", "stages", "deals"):
            path = {"pipelines": "api/v2/pipelines", "stages": "api/v2/stages",
                    "deals": "api/v2/deals"}[phase]
            params: dict[str, Any] = {"limit": LIST_PAGE}
            if cursor is not None:
                params["cursor"] = cursor
            if phase == "deals":
                params.update(sort_by="id", sort_direction="asc")
                if self.window.since is not None:
                    params["updated_since"] = self.window.since.strftime("%Y-%m-%dT%H:%M:%SZ")
            body = self.http.get(path, params, account_check=phase == "pipelines") or {}
            nxt = (body.get("additional_data") or {}).get("next_cursor")
            return Page([dict(x) for x in body.get("data") or []], nxt, done=not nxt)
        if phase == "flows":
            return self._flow_page(cursor)
        raise KeyError(phase)

    def _flow_page(self, cursor: Any) -> Page:
        deal_ids = [str(d["id"]) for d in self.staging.records("deals")]
        index, start = (cursor or [0, 0])
        if index >= len(deal_ids):
            return Page([], [index, 0], done=True, total=len(deal_ids))
        deal_id = deal_ids[index]
        body = self.http.get(f"v1/deals/{deal_id}/flow", {
            "items": "dealChange", "all_changes": 1, "start": start, "limit": FLOW_PAGE,
        }) or {}
        records = []
        for item in body.get("data") or []:
            data = item.get("data") or {}
            if item.get("object") == "dealChange" and data.get("field_key") in (
                "stage_id", "status", "pipeline_id"
            ):
                records.append({
                    "deal_id": deal_id, "id": data.get("id"), "field": data["field_key"],
                    "old": data.get("old_value"), "new": data.get("new_value"),
                    "at": data.get("log_time") or item.get("timestamp"),
                })
        pagination = (body.get("additional_data") or {}).get("pagination") or {}
        if pagination.get("more_items_in_collection"):
            nxt = [index, int(pagination.get("next_start", start + FLOW_PAGE))]
        else:
            nxt = [index + 1, 0]
        return Page(records, nxt, done=nxt[0] >= len(deal_ids), total=len(deal_ids))

    def fetch_deal(self, deal_id: str) -> bool:
        """The deal (``GET /api/v2/deals/{id}``; gone on 404 or ``status=deleted``) and its
        flow (the connector's own flow pages: with one deal staged, that deal's flow)."""
        body = fetch_or_gone(lambda: self.http.get(f"api/v2/deals/{deal_id}"))
        deal = None if body is GONE else (body or {}).get("data")
        if not isinstance(deal, Mapping) or deal.get("is_deleted") or deal.get("status") == "deleted":
            return False
        self.staging.add("deals", None, [dict(deal)])
        cursor: Any = None
        while True:
            page = self.fetch("flows", cursor)
            self.staging.add("flows", cursor, page.records)
            cursor = page.next_cursor
            if page.done:
                return True

    def assemble(self) -> Pulled:
        """Deals; per deal its first stage at creation, each stage move, and Won/Lost entries."""
        pipelines = self._pipelines()
        owner = {s.key: p.key for p in pipelines for s in p.stages}
        deals = {str(d["id"]): d for d in self.staging.records("deals")}
        changes: dict[str, list[dict[str, Any]]] = {}
        for c in {(c["deal_id"], c["id"], c["field"]): c for c in
                  self.staging.records("flows")}.values():
            changes.setdefault(c["deal_id"], []).append(c)
        rows = []
        entries: list[StageEntry] = []
        for deal_id, d in deals.items():
            status = str(d.get("status") or "open")
            if status == "deleted":
                continue
            outcome: Outcome = status if status in ("won", "lost") else "open"  # type: ignore[assignment]
            pipeline_key = str(d.get("pipeline_id"))
            closed_at = from_iso(d.get("won_time") if outcome == "won" else d.get("lost_time")) \
                if outcome != "open" else None
            value = d.get("value")
            rows.append(DealRow(
                deal_id=deal_id, pipeline_key=pipeline_key, status=outcome,
                created_at=from_iso(d.get("add_time")), closed_at=closed_at,
                amount=float(value) if value not in (None, "") else None,
                manager=str(d["owner_id"]) if d.get("owner_id") else None,
                source=_text(d.get("channel")) or _text(d.get("origin")),
                lost_reason=(d.get("lost_reason") or None) if outcome == "lost" else None,
            ))
            entries.extend(_deal_entries(deal_id, d, changes.get(deal_id, []), owner, closed_at))
        return Pulled(pipelines, tuple(rows), tuple(entries))

    def _pipelines(self) -> tuple[CrmPipeline, ...]:
        stages: dict[str, list[CrmStage]] = {}
        for s in self.staging.records("stages"):
            if s.get("is_deleted"):
                continue
            stages.setdefault(str(s["pipeline_id"]), []).append(
                CrmStage(str(s["id"]), str(s.get("name") or s["id"]), "open",
                         float(s.get("order_nr") or 0))
            )
        out = []
        raw = [p for p in self.staging.records("pipelines") if not p.get("is_deleted")]
        first = min(raw, key=lambda p: (float(p.get("order_nr") or 0), int(p["id"])), default=None)
        for p in raw:
            key = str(p["id"])
            line = stages.get(key, [])
            top = max((s.order for s in line), default=0.0)
            # Won and Lost are statuses in Pipedrive; they close every pipeline's line.
            closing = (CrmStage(f"{key}:{WON_KEY}", "Won", "won", top + 1),
                       CrmStage(f"{key}:{LOST_KEY}", "Lost", "lost", top + 2))
            out.append(CrmPipeline(
                key=key, name=str(p.get("name") or key), is_main=p is first,
                order=float(p.get("order_nr") or 0), stages=(*line, *closing),
            ))
        return tuple(out)


def _deal_entries(
    deal_id: str,
    deal: Mapping[str, Any],
    changes: list[dict[str, Any]],
    owner: Mapping[str, str],
    closed_at: Any,
) -> list[StageEntry]:
    """A deal's stage entries from its flow: first stage at creation, moves, status closes."""
    changes = sorted(changes, key=lambda c: (str(c["at"]), int(c["id"] or 0)))
    moves = [c for c in changes if c["field"] == "stage_id" and c["new"] not in (None, "")]
    out: list[StageEntry] = []
    created = from_iso(deal.get("add_time"))
    first_stage = str(moves[0]["old"]) if moves and moves[0]["old"] else str(deal.get("stage_id"))
    if created is not None:
        out.append(StageEntry(deal_id, owner.get(first_stage), first_stage, created))
    for m in moves:
        at = from_iso(m["at"])
        if at is not None:
            out.append(StageEntry(deal_id, owner.get(str(m["new"])), str(m["new"]), at))
    pipeline_key = str(deal.get("pipeline_id"))
    closes = [c for c in changes if c["field"] == "status" and c["new"] in (WON_KEY, LOST_KEY)]
    for c in closes:
        at = from_iso(c["at"])
        if at is not None:
            out.append(StageEntry(deal_id, pipeline_key, f"{pipeline_key}:{c['new']}", at))
    status = deal.get("status")
    if status in (WON_KEY, LOST_KEY) and closed_at is not None and not any(
        c["new"] == status for c in closes
    ):
        out.append(StageEntry(deal_id, pipeline_key, f"{pipeline_key}:{status}", closed_at))
    return out


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _budget(response: httpx.Response) -> float:
    """Wait for the 2-second window to reset when ``x-ratelimit-remaining`` reaches 0."""
    remaining = response.headers.get("x-ratelimit-remaining")
    if remaining is None or not remaining.strip().isdigit() or int(remaining) > 0:
        return 0.0
    reset = response.headers.get("x-ratelimit-reset", "2")
    try:
        return max(0.0, float(reset))
    except ValueError:
        return 2.0
