"""Fake CRM servers for the pull tests, serving the payload shapes of ../shared/reference/crm-apis.md.

Each fake holds a *truth*: deals and the dated stages each went through. It renders that truth the
way its CRM's API does (amoCRM leads + ``lead_status_changed`` events, Bitrix24 deals +
``crm.stagehistory.list``, HubSpot deals with ``propertiesWithHistory``, Pipedrive deals + deal
flow), with small pages so that every list has several, and honours the filters the connectors
use for incremental pulls. The tests compare the pulled folder with the truth, so a connector can
only pass by reconstructing the history from the API shapes.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug import Request, Response

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
"""The wall clock at the first pull."""

GOOD_TOKEN = "good-token"


class FakeClock:
    """A clock whose time moves only when the pull sleeps; it records every sleep."""

    def __init__(self, start: datetime = T0) -> None:
        self.t = 0.0
        self.start = start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(0.0, seconds)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t)

    def jump(self, seconds: float) -> None:
        """Let time pass between two pulls (not a sleep of the pull)."""
        self.t += seconds


@dataclass
class Stage:
    key: str
    name: str


@dataclass
class Pipeline:
    key: str
    name: str
    open: list[Stage]
    won: Stage
    lost: list[Stage]

    def name_of(self, key: str) -> str:
        for s in (*self.open, self.won, *self.lost):
            if s.key == key:
                return s.name
        raise KeyError(key)


@dataclass
class Deal:
    id: int
    pipeline: Pipeline
    steps: list[tuple[str, datetime]]
    amount: float
    manager: int
    source: str
    updated_at: datetime = field(default=T0)

    @property
    def created_at(self) -> datetime:
        return self.steps[0][1]

    @property
    def stage(self) -> str:
        return self.steps[-1][0]

    @property
    def status(self) -> str:
        if self.stage == self.pipeline.won.key:
            return "won"
        if self.stage in {s.key for s in self.pipeline.lost}:
            return "lost"
        return "open"

    @property
    def closed_at(self) -> datetime | None:
        return self.steps[-1][1] if self.status != "open" else None

    @property
    def lost_reason(self) -> str | None:
        return "Дорого" if self.status == "lost" else None


def make_deals(pipelines: list[Pipeline], n: int, base: datetime, first_id: int = 1) -> list[Deal]:
    """``n`` deals: three in four in the first pipeline; deal ``i`` moves ``i % len(open)`` stages
    along the line a day apart, then is won, lost or left open in turn."""
    deals = []
    for i in range(n):
        p = pipelines[0] if i % 4 or len(pipelines) == 1 else pipelines[1]
        created = base + timedelta(hours=7 * i)
        depth = i % len(p.open)
        steps = [(p.open[k].key, created + timedelta(days=k)) for k in range(depth + 1)]
        last = steps[-1][1]
        if i % 3 == 0:
            steps.append((p.won.key, last + timedelta(days=1)))
        elif i % 3 == 1:
            steps.append((p.lost[i % len(p.lost)].key, last + timedelta(days=1)))
        deals.append(Deal(
            id=first_id + i, pipeline=p, steps=steps, amount=1000.0 * (i + 1) + 0.5 * (i % 2),
            manager=100 + i % 3, source=["yandex", "google", "site"][i % 3],
            updated_at=steps[-1][1],
        ))
    return deals


def advance(fake: FakeCrm, when: datetime, new_deals: int = 2) -> int:
    """Change the truth at ``when``: move every open deal one stage on (or win it at the line's
    end) and add new deals. Returns the number of stage entries added."""
    added = 0
    for d in fake.deals:
        if d.status != "open":
            continue
        keys = [s.key for s in d.pipeline.open]
        nxt = keys.index(d.stage) + 1
        d.steps.append((keys[nxt] if nxt < len(keys) else d.pipeline.won.key, when))
        d.updated_at = when
        added += 1
    start = max(d.id for d in fake.deals) + 1
    fresh = make_deals(fake.pipelines, new_deals, when, first_id=start)
    for d in fresh:
        # New deals: created at ``when``, one move an hour later.
        d.steps = [(d.pipeline.open[0].key, when), (d.pipeline.open[1].key, when + timedelta(hours=1))]
        d.updated_at = when + timedelta(hours=1)
        added += 2
    fake.deals.extend(fresh)
    return added


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


class FakeCrm:
    """The common part: a request log, planned faults, a token check."""

    crm = ""
    pipelines: list[Pipeline]

    def __init__(self, clock: FakeClock, n_deals: int) -> None:
        self.clock = clock
        self.deals = make_deals(self.pipelines, n_deals, T0 - timedelta(days=60))
        self.log: list[tuple[float, str]] = []
        self.faults: dict[int, tuple[int, dict[str, str], Any]] = {}
        self.always: tuple[int, Any] | None = None
        self.page_headers: dict[str, str] = {}

    # -- expectations ---------------------------------------------------------------------------
    def stage_name(self, deal: Deal, key: str) -> str:
        return deal.pipeline.name_of(key)

    def expected_events(self) -> set[tuple[str, str, str]]:
        return {(str(d.id), self.stage_name(d, k), iso(at)) for d in self.deals for k, at in d.steps}

    def credentials(self, base_url: str) -> dict[str, str]:
        raise NotImplementedError

    # -- serving --------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        self.log.append((self.clock.monotonic(), request.path))
        n = len(self.log)
        if n in self.faults:
            status, headers, body = self.faults.pop(n)
            return self.json(body, status, headers)
        if self.always is not None:
            return self.json(self.always[1], self.always[0])
        if not self.authorized(request):
            return self.unauthorized()
        body = self.route(request)
        if body is None:
            return Response(status=204)
        return self.json(body, 200, self.page_headers)

    def json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers or {},
                        content_type="application/json")

    def authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {GOOD_TOKEN}"

    def unauthorized(self) -> Response:
        return self.json({"status": 401, "title": "Unauthorized"}, 401)

    def route(self, request: Request) -> Any:
        raise NotImplementedError


def _page(items: list[Any], page: int, size: int) -> tuple[list[Any], bool]:
    chunk = items[(page - 1) * size : page * size]
    return chunk, page * size < len(items)


# ------------------------------------------------------------------------------------------------
class FakeAmoCrm(FakeCrm):
    """amoCRM API v4 (§1): HAL pages, 204 on an empty list, 142/143 in every pipeline."""

    crm = "amocrm"
    pipelines = [
        Pipeline("3177727", "Воронка", [
            Stage("32392153", "Неразобранное"), Stage("32392156", "Первичный контакт"),
            Stage("32392159", "Переговоры"), Stage("32392162", "Принимают решение"),
        ], Stage("142", "Успешно реализовано"), [Stage("143", "Закрыто и не реализовано")]),
        Pipeline("3177730", "Партнёры", [Stage("32392170", "Заявка"), Stage("32392173", "Встреча")],
                 Stage("142", "Успешно реализовано"), [Stage("143", "Закрыто и не реализовано")]),
    ]
    LEADS_PAGE = 5
    EVENTS_PAGE = 7

    def __init__(self, clock: FakeClock, n_deals: int = 14) -> None:
        super().__init__(clock, n_deals)

    def credentials(self, base_url: str) -> dict[str, str]:
        return {"token": GOOD_TOKEN, "subdomain": "example", "base_url": base_url}

    def unauthorized(self) -> Response:
        return self.json({"title": "Unauthorized", "type": "https://httpstatus.es/401",
                          "status": 401, "detail": "Неверный логин или пароль"}, 401)

    def route(self, request: Request) -> Any:
        a = request.args
        if request.path == "/api/v4/leads/pipelines":
            return {"_total_items": len(self.pipelines), "_embedded": {"pipelines": [
                {"id": int(p.key), "name": p.name, "sort": 1 + i, "is_main": i == 0,
                 "is_unsorted_on": True, "is_archive": False, "account_id": 28805383,
                 "_embedded": {"statuses": [
                     {"id": int(s.key), "name": s.name, "sort": sort, "is_editable": True,
                      "pipeline_id": int(p.key), "color": "#99ccff",
                      "type": 1 if s.name == "Неразобранное" else 0, "account_id": 28805383}
                     for s, sort in [*((s, 10 * (k + 1)) for k, s in enumerate(p.open)),
                                     (p.won, 10000), (p.lost[0], 11000)]
                 ]}}
                for i, p in enumerate(self.pipelines)
            ]}}
        if request.path == "/api/v4/leads":
            leads = sorted(self.deals, key=lambda d: d.id)
            if "filter[updated_at][from]" in a:
                since = int(a["filter[updated_at][from]"])
                leads = [d for d in leads if d.updated_at.timestamp() >= since]
            page = int(a.get("page", 1))
            size = min(int(a.get("limit", 50)), self.LEADS_PAGE)
            chunk, more = _page(leads, page, size)
            if not chunk:
                return None
            body: dict[str, Any] = {"_page": page, "_links": {"self": {"href": "x"}},
                                    "_embedded": {"leads": [self._lead(d) for d in chunk]}}
            if more:
                body["_links"]["next"] = {"href": f"/api/v4/leads?page={page + 1}"}
            return body
        if request.path == "/api/v4/events":
            assert a.get("filter[type]") == "lead_status_changed"
            events = self._events()
            lo = int(a.get("filter[created_at][from]", 0))
            hi = int(a.get("filter[created_at][to]", 10**12))
            events = [e for e in events if lo <= e["created_at"] <= hi]
            # Newest first, as the events feed lists them.
            events.sort(key=lambda e: (-e["created_at"], e["id"]))
            page = int(a.get("page", 1))
            chunk, more = _page(events, page, min(int(a.get("limit", 50)), self.EVENTS_PAGE))
            if not chunk:
                return None
            body = {"_page": page, "_links": {"self": {"href": "x"}},
                    "_embedded": {"events": chunk}}
            if more:
                body["_links"]["next"] = {"href": f"/api/v4/events?page={page + 1}"}
            return body
        return None

    def _lead(self, d: Deal) -> dict[str, Any]:
        lead: dict[str, Any] = {
            "id": d.id, "name": f"Сделка {d.id}", "price": d.amount,
            "responsible_user_id": d.manager, "group_id": 0, "status_id": int(d.stage),
            "pipeline_id": int(d.pipeline.key), "loss_reason_id": 7 if d.lost_reason else None,
            "created_by": d.manager, "updated_by": d.manager,
            "created_at": int(d.created_at.timestamp()), "updated_at": int(d.updated_at.timestamp()),
            "closed_at": int(d.closed_at.timestamp()) if d.closed_at else None,
            "closest_task_at": None, "is_deleted": False, "score": None, "account_id": 22324900,
            "custom_fields_values": [{"field_id": 555, "field_name": "utm_source",
                                      "field_code": "UTM_SOURCE", "field_type": "tracking_data",
                                      "values": [{"value": d.source}]}],
            "_links": {"self": {"href": f"https://example.amocrm.ru/api/v4/leads/{d.id}"}},
            "_embedded": {"tags": [], "companies": []},
        }
        if d.lost_reason:
            lead["_embedded"]["loss_reason"] = [{"id": 7, "name": d.lost_reason}]
        return lead

    def _events(self) -> list[dict[str, Any]]:
        out = []
        for d in self.deals:
            for (k0, _), (k1, at) in zip(d.steps, d.steps[1:], strict=False):
                out.append({
                    "id": f"01ev{d.id:04d}{int(at.timestamp())}", "type": "lead_status_changed",
                    "entity_id": d.id, "entity_type": "lead", "created_by": d.manager,
                    "created_at": int(at.timestamp()),
                    "value_before": [{"lead_status": {"id": int(k0), "pipeline_id": int(d.pipeline.key)}}],
                    "value_after": [{"lead_status": {"id": int(k1), "pipeline_id": int(d.pipeline.key)}}],
                    "account_id": 22324900, "_links": {"self": {"href": "x"}},
                })
        return out


# ------------------------------------------------------------------------------------------------
class FakeBitrix24(FakeCrm):
    """Bitrix24 REST through a webhook (§2): ``result``, 50 rows a call, ``>ID`` + ``start=-1``."""

    crm = "bitrix24"
    pipelines = [
        Pipeline("0", "Общая", [
            Stage("NEW", "Новая"), Stage("PREPARATION", "Подготовка документов"),
            Stage("PREPAYMENT_INVOICE", "Cчет на предоплату"), Stage("EXECUTING", "В работе"),
            Stage("FINAL_INVOICE", "Финальный счет"),
        ], Stage("WON", "Сделка успешна"),
            [Stage("LOSE", "Сделка провалена"), Stage("APOLOGY", "Анализ причины провала")]),
        Pipeline("1", "Опт", [Stage("C1:NEW", "Новая"), Stage("C1:EXECUTING", "В работе")],
                 Stage("C1:WON", "Сделка успешна"), [Stage("C1:LOSE", "Сделка провалена")]),
    ]
    SECRET = "/rest/1/s3cr3t/"

    def __init__(self, clock: FakeClock, n_deals: int = 60) -> None:
        super().__init__(clock, n_deals)

    def credentials(self, base_url: str) -> dict[str, str]:
        return {"webhook": base_url.rstrip("/") + self.SECRET}

    def authorized(self, request: Request) -> bool:
        return request.path.startswith(self.SECRET)

    def unauthorized(self) -> Response:
        return self.json({"error": "INVALID_CREDENTIALS", "error_description": "Invalid request credentials"}, 401)

    def _history(self) -> list[dict[str, Any]]:
        rows = []
        for d in self.deals:
            for j, (k, at) in enumerate(d.steps):
                semantic = {"won": "S", "lost": "F"}.get(d.status, "P") if j == len(d.steps) - 1 else "P"
                rows.append({"OWNER_ID": d.id, "CREATED_TIME": at.isoformat(), "CATEGORY_ID": int(d.pipeline.key),
                             "STAGE_SEMANTIC_ID": semantic, "STAGE_ID": k,
                             "TYPE_ID": 1 if j == 0 else 3 if semantic != "P" else 2})
        rows.sort(key=lambda r: (r["CREATED_TIME"], r["OWNER_ID"]))
        # IDs grow with time, as they do in a portal.
        for i, r in enumerate(rows, start=1):
            r["ID"] = i
        return rows

    def route(self, request: Request) -> Any:
        method = request.path[len(self.SECRET):]
        params = request.get_json(silent=True) or {}
        time = {"start": 1.0, "finish": 1.1, "duration": 0.1, "processing": 0.05, "operating": 0}
        if method == "crm.category.list.json":
            assert params.get("entityTypeId") == 2
            cats = [{"id": int(p.key), "name": p.name, "sort": 100 * (i + 1), "entityTypeId": 2,
                     "isDefault": "Y" if i == 0 else "N", "originId": "", "originatorId": ""}
                    for i, p in enumerate(self.pipelines)]
            return {"result": {"categories": cats}, "total": len(cats), "time": time}
        if method == "crm.status.list.json":
            entity = params["filter"]["ENTITY_ID"]
            p = next(p for p in self.pipelines
                     if entity == ("DEAL_STAGE" if p.key == "0" else f"DEAL_STAGE_{p.key}"))
            rows = []
            for sort, (s, sem) in enumerate(
                [*((s, None) for s in p.open), (p.won, "S"), *((s, "F") for s in p.lost)], start=1
            ):
                rows.append({"ID": str(100 + sort), "ENTITY_ID": entity, "STATUS_ID": s.key,
                             "NAME": s.name, "NAME_INIT": s.name, "SORT": str(10 * sort),
                             "SYSTEM": "Y", "CATEGORY_ID": None if p.key == "0" else p.key,
                             "COLOR": "#39A8EF", "SEMANTICS": sem,
                             "EXTRA": {"SEMANTICS": {"S": "success", "F": "failure"}.get(sem or "", "process")}})
            return {"result": rows, "total": len(rows), "time": time}
        flt = params.get("filter", {})
        assert params.get("start") == -1 and params.get("order") == {"ID": "ASC"}
        if method == "crm.deal.list.json":
            deals = sorted(self.deals, key=lambda d: d.id)
            deals = [d for d in deals if d.id > int(flt.get(">ID", 0))]
            if ">=DATE_MODIFY" in flt:
                since = datetime.fromisoformat(flt[">=DATE_MODIFY"])
                deals = [d for d in deals if d.updated_at >= since]
            return {"result": [self._deal(d) for d in deals[:50]], "time": time}
        if method == "crm.stagehistory.list.json":
            assert params.get("entityTypeId") == 2
            rows = [r for r in self._history() if r["ID"] > int(flt.get(">ID", 0))]
            if ">=CREATED_TIME" in flt:
                since = datetime.fromisoformat(flt[">=CREATED_TIME"])
                rows = [r for r in rows if datetime.fromisoformat(r["CREATED_TIME"]) >= since]
            return {"result": {"items": rows[:50]}, "time": time}
        return {"error": "ERROR_METHOD_NOT_FOUND"}

    def _deal(self, d: Deal) -> dict[str, Any]:
        sem = {"won": "S", "lost": "F"}.get(d.status, "P")
        # Dates with a +03:00 offset, as a Moscow portal writes them.
        msk = timedelta(hours=3)
        return {
            "ID": str(d.id), "TITLE": f"Сделка {d.id}", "CATEGORY_ID": d.pipeline.key,
            "STAGE_ID": d.stage, "STAGE_SEMANTIC_ID": sem, "OPPORTUNITY": f"{d.amount:.2f}",
            "CURRENCY_ID": "RUB", "ASSIGNED_BY_ID": str(d.manager),
            "DATE_CREATE": (d.created_at + msk).replace(tzinfo=None).isoformat() + "+03:00",
            "DATE_MODIFY": d.updated_at.isoformat(),
            "CLOSEDATE": d.closed_at.isoformat() if d.closed_at else "",
            "CLOSED": "Y" if d.closed_at else "N", "SOURCE_ID": "WEB",
            "UTM_SOURCE": d.source, "UTM_MEDIUM": "cpc", "UTM_CAMPAIGN": None,
        }


# ------------------------------------------------------------------------------------------------
class FakeHubSpot(FakeCrm):
    """HubSpot CRM v3 (§3): cursor ``paging.next.after``, history newest first, search, batch."""

    crm = "hubspot"
    pipelines = [
        Pipeline("default", "Sales Pipeline", [
            Stage("appointmentscheduled", "Appointment Scheduled"),
            Stage("qualifiedtobuy", "Qualified To Buy"),
            Stage("presentationscheduled", "Presentation Scheduled"),
            Stage("decisionmakerboughtin", "Decision Maker Bought-In"),
            Stage("contractsent", "Contract Sent"),
        ], Stage("closedwon", "Closed Won"), [Stage("closedlost", "Closed Lost")]),
        Pipeline("renewals", "Renewals", [Stage("r_new", "New renewal"), Stage("r_talks", "Talks")],
                 Stage("r_signed", "Signed"), [Stage("r_lost", "Not renewed")]),
    ]
    LIST_PAGE = 4
    SEARCH_PAGE = 3

    def __init__(self, clock: FakeClock, n_deals: int = 12) -> None:
        super().__init__(clock, n_deals)

    def credentials(self, base_url: str) -> dict[str, str]:
        return {"token": GOOD_TOKEN, "base_url": base_url}

    def unauthorized(self) -> Response:
        return self.json({"status": "error", "message": "Authentication credentials not found.",
                          "category": "INVALID_AUTHENTICATION"}, 401)

    def route(self, request: Request) -> Any:
        if request.path == "/crm/v3/pipelines/deals":
            return {"results": [self._pipeline(p, i) for i, p in enumerate(self.pipelines)]}
        if request.path == "/crm/v3/objects/deals" and request.method == "GET":
            a = request.args
            assert a.get("propertiesWithHistory") == "dealstage"
            deals = sorted(self.deals, key=lambda d: d.id)
            start = int(a.get("after", 0))
            size = min(int(a.get("limit", 10)), self.LIST_PAGE)
            chunk = deals[start : start + size]
            body: dict[str, Any] = {"results": [self._deal(d) for d in chunk]}
            if start + size < len(deals):
                body["paging"] = {"next": {"after": str(start + size), "link": "x"}}
            return body
        if request.path == "/crm/v3/objects/deals/search":
            q = request.get_json()
            deals = sorted(self.deals, key=lambda d: d.id)
            for f in q["filterGroups"][0]["filters"]:
                assert f["propertyName"] == "hs_lastmodifieddate"
                ms = int(f["value"])
                if f["operator"] == "GTE":
                    deals = [d for d in deals if d.updated_at.timestamp() * 1000 >= ms]
                else:
                    deals = [d for d in deals if d.updated_at.timestamp() * 1000 <= ms]
            start = int(q.get("after", 0))
            size = min(int(q.get("limit", 10)), self.SEARCH_PAGE)
            chunk = deals[start : start + size]
            body = {"total": len(deals), "results": [
                {"id": str(d.id), "properties": {"hs_object_id": str(d.id)}} for d in chunk]}
            if start + size < len(deals):
                body["paging"] = {"next": {"after": str(start + size)}}
            return body
        if request.path == "/crm/v3/objects/deals/batch/read":
            q = request.get_json()
            assert q["propertiesWithHistory"] == ["dealstage"] and len(q["inputs"]) <= 50
            by_id = {str(d.id): d for d in self.deals}
            return {"status": "COMPLETE", "results": [self._deal(by_id[i["id"]]) for i in q["inputs"]],
                    "startedAt": "2025-03-01T00:00:00Z", "completedAt": "2025-03-01T00:00:01Z"}
        return None

    def _pipeline(self, p: Pipeline, order: int) -> dict[str, Any]:
        stages = [(s, "false", "0.2") for s in p.open] + [(p.won, "true", "1.0")] + [
            (s, "true", "0.0") for s in p.lost]
        return {"id": p.key, "label": p.name, "displayOrder": order, "archived": False,
                "createdAt": "1970-01-01T00:00:00Z", "updatedAt": "2026-01-10T00:00:00.000Z",
                "stages": [{"id": s.key, "label": s.name, "displayOrder": k, "archived": False,
                            "metadata": {"isClosed": closed, "probability": prob},
                            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                            "createdAt": "1970-01-01T00:00:00Z", "updatedAt": "1970-01-01T00:00:00Z"}
                           for k, (s, closed, prob) in enumerate(stages)]}

    def _deal(self, d: Deal) -> dict[str, Any]:
        def ts(dt: datetime) -> str:
            return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return {
            "id": str(d.id),
            "properties": {
                "createdate": ts(d.created_at), "hs_object_id": str(d.id), "dealstage": d.stage,
                "pipeline": d.pipeline.key, "amount": str(d.amount), "dealname": f"Deal {d.id}",
                "closedate": ts(d.closed_at) if d.closed_at else None,
                "hs_lastmodifieddate": ts(d.updated_at), "hubspot_owner_id": str(d.manager),
                "hs_is_closed": str(d.status != "open").lower(),
                "hs_is_closed_won": str(d.status == "won").lower(),
                "closed_lost_reason": d.lost_reason, "hs_analytics_source": d.source.upper(),
            },
            "propertiesWithHistory": {"dealstage": [
                {"value": k, "timestamp": ts(at), "sourceType": "CRM_UI",
                 "sourceId": f"userId:{d.manager}", "updatedByUserId": d.manager}
                for k, at in reversed(d.steps)
            ]},
            "createdAt": ts(d.created_at), "updatedAt": ts(d.updated_at), "archived": False,
        }


# ------------------------------------------------------------------------------------------------
class FakePipedrive(FakeCrm):
    """Pipedrive (§4): v2 lists with ``next_cursor``, v1 flow per deal with ``start``/``limit``."""

    crm = "pipedrive"
    pipelines = [
        Pipeline("1", "Sales", [
            Stage("1", "Lead In"), Stage("2", "Contact Made"), Stage("3", "Demo Scheduled"),
            Stage("4", "Proposal Made"), Stage("5", "Negotiations Started"),
        ], Stage("won", "Won"), [Stage("lost", "Lost")]),
        Pipeline("2", "Partners", [Stage("6", "Intro"), Stage("7", "Agreement")],
                 Stage("won", "Won"), [Stage("lost", "Lost")]),
    ]
    LIST_PAGE = 5
    FLOW_PAGE = 3

    def __init__(self, clock: FakeClock, n_deals: int = 12) -> None:
        super().__init__(clock, n_deals)

    def credentials(self, base_url: str) -> dict[str, str]:
        return {"token": GOOD_TOKEN, "base_url": base_url}

    def authorized(self, request: Request) -> bool:
        return request.headers.get("x-api-token") == GOOD_TOKEN

    def unauthorized(self) -> Response:
        return self.json({"success": False, "error": "unauthorized access", "errorCode": 401}, 401)

    @staticmethod
    def _cursor(offset: int) -> str:
        return base64.b64encode(json.dumps({"o": offset}).encode()).decode()

    def _list(self, items: list[dict[str, Any]], request: Request) -> dict[str, Any]:
        a = request.args
        start = json.loads(base64.b64decode(a["cursor"]))["o"] if "cursor" in a else 0
        size = min(int(a.get("limit", 100)), self.LIST_PAGE)
        nxt = self._cursor(start + size) if start + size < len(items) else None
        return {"success": True, "data": items[start : start + size],
                "additional_data": {"next_cursor": nxt}}

    def route(self, request: Request) -> Any:
        if request.path == "/api/v2/pipelines":
            return self._list([{"id": int(p.key), "name": p.name, "order_nr": i + 1,
                                "is_deleted": False, "is_deal_probability_enabled": False,
                                "add_time": "2025-01-01T10:00:00Z", "update_time": "2025-01-01T10:00:00Z"}
                               for i, p in enumerate(self.pipelines)], request)
        if request.path == "/api/v2/stages":
            return self._list([{"id": int(s.key), "order_nr": k + 1, "name": s.name,
                                "is_deleted": False, "deal_probability": 100,
                                "pipeline_id": int(p.key), "is_deal_rot_enabled": False,
                                "days_to_rotten": None, "add_time": "2025-01-01T10:00:00Z",
                                "update_time": "2025-01-01T10:00:00Z"}
                               for p in self.pipelines for k, s in enumerate(p.open)], request)
        if request.path == "/api/v2/deals":
            deals = sorted(self.deals, key=lambda d: d.id)
            if "updated_since" in request.args:
                since = datetime.fromisoformat(request.args["updated_since"].replace("Z", "+00:00"))
                deals = [d for d in deals if d.updated_at >= since]
            return self._list([self._deal(d) for d in deals], request)
        if request.path.startswith("/v1/deals/") and request.path.endswith("/flow"):
            assert request.args.get("items") == "dealChange"
            deal = next(d for d in self.deals if d.id == int(request.path.split("/")[3]))
            items = self._flow(deal)
            start = int(request.args.get("start", 0))
            size = min(int(request.args.get("limit", 100)), self.FLOW_PAGE)
            more = start + size < len(items)
            pagination: dict[str, Any] = {"start": start, "limit": size,
                                          "more_items_in_collection": more}
            if more:
                pagination["next_start"] = start + size
            return {"success": True, "data": items[start : start + size],
                    "additional_data": {"pagination": pagination}}
        return None

    def _deal(self, d: Deal) -> dict[str, Any]:
        open_steps = [k for k, _ in d.steps if k not in ("won", "lost")]
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        return {
            "id": d.id, "title": f"Deal {d.id}", "owner_id": d.manager, "person_id": None,
            "org_id": None, "pipeline_id": int(d.pipeline.key), "stage_id": int(open_steps[-1]),
            "value": d.amount, "currency": "EUR", "add_time": d.created_at.strftime(fmt),
            "update_time": d.updated_at.strftime(fmt), "stage_change_time": None,
            "is_deleted": False, "is_archived": False, "status": d.status, "probability": None,
            "lost_reason": d.lost_reason, "visible_to": 3,
            "close_time": d.closed_at.strftime(fmt) if d.closed_at else None,
            "won_time": d.closed_at.strftime(fmt) if d.status == "won" else None,
            "lost_time": d.closed_at.strftime(fmt) if d.status == "lost" else None,
            "expected_close_date": None, "label_ids": [], "origin": "ManuallyCreated",
            "origin_id": None, "channel": d.source, "channel_id": None, "custom_fields": {},
        }

    def _flow(self, d: Deal) -> list[dict[str, Any]]:
        items = []
        n = d.id * 1000
        fmt = "%Y-%m-%d %H:%M:%S"
        prev = d.steps[0][0]
        for k, at in d.steps[1:]:
            n += 1
            if k in ("won", "lost"):
                data = {"id": n, "item_id": d.id, "field_key": "status", "old_value": "open",
                        "new_value": k, "log_time": at.strftime(fmt), "change_source": "app"}
            else:
                data = {"id": n, "item_id": d.id, "field_key": "stage_id", "old_value": prev,
                        "new_value": k, "additional_data": {
                            "old_value_formatted": d.pipeline.name_of(prev),
                            "new_value_formatted": d.pipeline.name_of(k)},
                        "log_time": at.strftime(fmt), "change_source": "app"}
                prev = k
            items.append({"object": "dealChange", "timestamp": at.strftime(fmt), "data": data})
            # Noise the connector must ignore: a custom-field change at the same time.
            n += 1
            items.append({"object": "dealChange", "timestamp": at.strftime(fmt), "data": {
                "id": n, "item_id": d.id, "user_id": 9373337,
                "field_key": "f71407beeb55195def1dce9326667e7c54f2cb42", "old_value": "85",
                "new_value": None, "log_time": at.strftime(fmt), "change_source": "api",
                "additional_data": []}})
        items.reverse()  # newest first
        return items


FAKES: dict[str, type[FakeCrm]] = {
    "amocrm": FakeAmoCrm, "bitrix24": FakeBitrix24, "hubspot": FakeHubSpot, "pipedrive": FakePipedrive,
}
