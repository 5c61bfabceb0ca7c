"""The pull tests' fake CRMs (tests/io/crm/crm_fakes.py) with what the live features also ask:
one deal by id with its stage history, and deleted deals, the way each API answers
(../shared/reference/crm-apis.md):

| CRM | one deal | its history | deleted |
|---|---|---|---|
| amoCRM | ``GET /api/v4/leads/{id}`` (204 when gone) | ``/api/v4/events?filter[entity_id]=`` | ``lead_deleted`` events |
| Bitrix24 | ``crm.deal.get`` (400 "Not found") | ``crm.stagehistory.list`` by ``OWNER_ID`` | (absent from ``crm.deal.list``) |
| HubSpot | ``GET /crm/v3/objects/deals/{id}`` (404) | in the same answer | ``?archived=true`` list |
| Pipedrive | ``GET /api/v2/deals/{id}`` (``status: deleted``) | ``/v1/deals/{id}/flow`` | ``?status=deleted`` |

``delete(deal_id, when)`` deletes a deal from the truth; ``requests_for(path)`` counts calls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm_fakes import (
    FakeAmoCrm,
    FakeBitrix24,
    FakeCrm,
    FakeHubSpot,
    FakePipedrive,
    _page,
)
from werkzeug import Request, Response


class Deletes:
    """Deals deleted from a fake's truth (kept aside, with when)."""

    deleted: dict[int, tuple[Any, datetime]]

    def delete(self: Any, deal_id: int, when: datetime) -> None:
        deal = next(d for d in self.deals if d.id == deal_id)
        self.deals.remove(deal)
        self.deleted[deal_id] = (deal, when)

    def requests_for(self: Any, fragment: str) -> int:
        return sum(1 for _, path in self.log if fragment in path)


class LiveAmoCrm(Deletes, FakeAmoCrm):
    def __init__(self, *a: Any, **k: Any) -> None:
        super().__init__(*a, **k)
        self.deleted = {}

    def route(self, request: Request) -> Any:
        a = request.args
        parts = request.path.strip("/").split("/")
        if len(parts) == 4 and parts[:3] == ["api", "v4", "leads"] and parts[3].isdigit():
            deal = next((d for d in self.deals if d.id == int(parts[3])), None)
            return self._lead(deal) if deal is not None else None  # 204: no such lead
        if request.path == "/api/v4/events" and a.get("filter[type]") == "lead_deleted":
            lo = int(a.get("filter[created_at][from]", 0))
            events = [{"id": f"01del{i:04d}", "type": "lead_deleted", "entity_id": i,
                       "entity_type": "lead", "created_by": 1,
                       "created_at": int(when.timestamp()), "value_before": [],
                       "value_after": [], "account_id": 22324900}
                      for i, (_, when) in sorted(self.deleted.items())
                      if when.timestamp() >= lo]
            return self._events_page(events, a)
        if request.path == "/api/v4/events" and "filter[entity_id]" in a:
            events = [e for e in self._events() if str(e["entity_id"]) == a["filter[entity_id]"]]
            events.sort(key=lambda e: (-e["created_at"], e["id"]))
            return self._events_page(events, a)
        return super().route(request)

    def _events_page(self, events: list[dict[str, Any]], a: Any) -> Any:
        page = int(a.get("page", 1))
        chunk, more = _page(events, page, min(int(a.get("limit", 50)), self.EVENTS_PAGE))
        if not chunk:
            return None
        body: dict[str, Any] = {"_page": page, "_links": {"self": {"href": "x"}},
                                "_embedded": {"events": chunk}}
        if more:
            body["_links"]["next"] = {"href": f"/api/v4/events?page={page + 1}"}
        return body


class LiveBitrix24(Deletes, FakeBitrix24):
    def __init__(self, *a: Any, **k: Any) -> None:
        super().__init__(*a, **k)
        self.deleted = {}

    def _history(self) -> list[dict[str, Any]]:
        # History ids stay as they were when a deal is deleted (they number the whole portal).
        kept = self.deals
        self.deals = [*kept, *(d for d, _ in self.deleted.values())]
        try:
            rows = super()._history()
        finally:
            self.deals = kept
        ids = {d.id for d in kept}
        return [r for r in rows if r["OWNER_ID"] in ids]

    def handle(self, request: Request) -> Response:
        method = request.path[len(self.SECRET):]
        if method == "crm.deal.get.json" and self.authorized(request):
            self.log.append((self.clock.monotonic(), request.path))
            wanted = int((request.get_json(silent=True) or {}).get("id", 0))
            deal = next((d for d in self.deals if d.id == wanted), None)
            if deal is None:
                return self.json({"error": "", "error_description": "Not found"}, 400)
            return self.json({"result": self._deal(deal), "time": {"operating": 0}})
        return super().handle(request)

    def route(self, request: Request) -> Any:
        method = request.path[len(self.SECRET):]
        params = request.get_json(silent=True) or {}
        flt = params.get("filter", {})
        if method == "crm.stagehistory.list.json" and "OWNER_ID" in flt:
            rows = [r for r in self._history()
                    if r["OWNER_ID"] == int(flt["OWNER_ID"]) and r["ID"] > int(flt.get(">ID", 0))]
            return {"result": {"items": rows[:50]}, "time": {"operating": 0}}
        return super().route(request)


class LiveHubSpot(Deletes, FakeHubSpot):
    def __init__(self, *a: Any, **k: Any) -> None:
        super().__init__(*a, **k)
        self.deleted = {}

    def handle(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if (len(parts) == 5 and parts[:4] == ["crm", "v3", "objects", "deals"]
                and parts[4].isdigit() and self.authorized(request)):
            self.log.append((self.clock.monotonic(), request.path))
            assert request.args.get("propertiesWithHistory") == "dealstage"
            deal = next((d for d in self.deals if d.id == int(parts[4])), None)
            if deal is None:
                return self.json({"status": "error", "message": "Object not found.",
                                  "category": "OBJECT_NOT_FOUND"}, 404)
            return self.json(self._deal(deal))
        return super().handle(request)

    def route(self, request: Request) -> Any:
        if (request.path == "/crm/v3/objects/deals" and request.method == "GET"
                and request.args.get("archived") == "true"):
            archived = [{"id": str(i), "properties": {"hs_object_id": str(i)}, "archived": True,
                         "archivedAt": when.isoformat()}
                        for i, (_, when) in sorted(self.deleted.items())]
            start = int(request.args.get("after", 0))
            chunk = archived[start : start + self.LIST_PAGE]
            body: dict[str, Any] = {"results": chunk}
            if start + self.LIST_PAGE < len(archived):
                body["paging"] = {"next": {"after": str(start + self.LIST_PAGE)}}
            return body
        return super().route(request)


class LivePipedrive(Deletes, FakePipedrive):
    def __init__(self, *a: Any, **k: Any) -> None:
        super().__init__(*a, **k)
        self.deleted = {}

    def route(self, request: Request) -> Any:
        parts = request.path.strip("/").split("/")
        if len(parts) == 4 and parts[:3] == ["api", "v2", "deals"] and parts[3].isdigit():
            wanted = int(parts[3])
            deal = next((d for d in self.deals if d.id == wanted), None)
            if deal is not None:
                return {"success": True, "data": self._deal(deal)}
            if wanted in self.deleted:  # deleted deals are kept (30 days) as status "deleted"
                data = self._deal(self.deleted[wanted][0])
                return {"success": True, "data": {**data, "status": "deleted", "is_deleted": True}}
            return None
        if request.path == "/api/v2/deals" and request.args.get("status") == "deleted":
            rows = [{**self._deal(d), "status": "deleted", "is_deleted": True,
                     "update_time": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
                    for _, (d, when) in sorted(self.deleted.items())]
            return self._list(rows, request)
        return super().route(request)

    def handle(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if (len(parts) == 4 and parts[:3] == ["api", "v2", "deals"] and parts[3].isdigit()
                and self.authorized(request)):
            wanted = int(parts[3])
            if not any(d.id == wanted for d in self.deals) and wanted not in self.deleted:
                self.log.append((self.clock.monotonic(), request.path))
                return self.json({"success": False, "error": "Deal not found",
                                  "errorCode": 404}, 404)
        return super().handle(request)


LIVE_FAKES: dict[str, type[FakeCrm]] = {
    "amocrm": LiveAmoCrm, "bitrix24": LiveBitrix24, "hubspot": LiveHubSpot,
    "pipedrive": LivePipedrive,
}
