"""The team pages: the managers' league table and today's list (stuck deals ranked by the revenue
a timely action can still save), under the dashboard's filters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from voronka.audit.scorecards import build_scorecards, build_today
from voronka.web.pages import _lang, _page, _params, _ws
from voronka.web.views import query_of

router = APIRouter(include_in_schema=False)


def _audited(request: Request, dataset_id: str) -> tuple[Any, Any, str, Any, Any]:
    """The workspace, the view's parameters, language and query, and the filtered audit."""
    ws = _ws(request)
    params = _params(request)
    lang = _lang(request, params)
    query = query_of(params, lang)
    return ws, params, lang, query, ws.audit(dataset_id, query)


@router.get("/d/{dataset_id}/managers", response_class=HTMLResponse)
def managers(request: Request, dataset_id: str) -> HTMLResponse:
    ws, params, lang, query, result = _audited(request, dataset_id)
    with ws.lock:
        scores = build_scorecards(ws.filtered_log(dataset_id, query.flt), result)
    return _page("managers.html.j2", request, lang, dataset=ws.load(dataset_id).dataset,
                 scores=scores, params=params,
                 team=result.funnel.won / max(1, result.funnel.won + result.funnel.lost),
                 deals_url=lambda **kw: params.url(f"/d/{dataset_id}/deals", **kw),
                 back=params.url(f"/d/{dataset_id}"))


@router.get("/d/{dataset_id}/today", response_class=HTMLResponse)
def today(request: Request, dataset_id: str) -> HTMLResponse:
    ws, params, lang, query, result = _audited(request, dataset_id)
    with ws.lock:
        deals = build_today(ws.filtered_log(dataset_id, query.flt), result, lang=lang)
    return _page("today.html.j2", request, lang, dataset=ws.load(dataset_id).dataset,
                 deals=deals, stage_names={s.id: s.name for s in result.funnel.stages},
                 crm_url=ws.deal_url(dataset_id), back=params.url(f"/d/{dataset_id}"))
