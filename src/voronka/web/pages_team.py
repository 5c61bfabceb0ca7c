"""The team pages: the managers' league table, a page per manager (their funnel, each step against
the team, stuck deals, share of the forecast) and today's list (stuck deals ranked by the revenue
a timely action can still save), under the dashboard's filters. The numbers come from
:mod:`voronka.audit.scorecards`, :mod:`voronka.audit.manager_view` and
:mod:`voronka.audit.forecast_split`; this module only renders them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from voronka.audit.forecast_split import split_forecast
from voronka.audit.manager_view import manager_view, team_steps
from voronka.audit.scorecards import build_scorecards, build_today
from voronka.report.words import forecast_absence
from voronka.web.pages import _lang, _page, _params, _ws
from voronka.web.views import Params, query_of

router = APIRouter(include_in_schema=False)


def _audited(
    request: Request, dataset_id: str, params: Params | None = None
) -> tuple[Any, Any, str, Any, Any]:
    """The workspace, the view's parameters, language and query, and the filtered audit."""
    ws = _ws(request)
    params = params or _params(request)
    lang = _lang(request, params)
    query = query_of(params, lang)
    return ws, params, lang, query, ws.audit(dataset_id, query)


def _team_params(request: Request) -> Params:
    """The view's parameters without a manager filter: a manager is compared with the team."""
    return _params(request).without("manager")


@router.get("/d/{dataset_id}/managers", response_class=HTMLResponse)
def managers(request: Request, dataset_id: str) -> HTMLResponse:
    ws, params, lang, query, result = _audited(request, dataset_id, _team_params(request))
    with ws.lock:
        scores = ws.memo((dataset_id, "scorecards", query.key()), lambda: build_scorecards(
            ws.filtered_log(dataset_id, query.flt), result))
    return _page("managers.html.j2", request, lang, dataset=ws.load(dataset_id).dataset,
                 scores=scores, params=params,
                 team=result.funnel.won / max(1, result.funnel.won + result.funnel.lost),
                 adjusted=any(s.adjusted is not None for s in scores),
                 deals_url=lambda **kw: params.url(f"/d/{dataset_id}/deals", **kw),
                 manager_url=lambda m: params.url(f"/d/{dataset_id}/managers/{quote(m, safe='')}"),
                 back=params.url(f"/d/{dataset_id}"))


@router.get("/d/{dataset_id}/managers/{manager}", response_class=HTMLResponse)
def manager_page(request: Request, dataset_id: str, manager: str) -> HTMLResponse:
    ws, params, lang, query, result = _audited(request, dataset_id, _team_params(request))
    with ws.lock:
        log = ws.filtered_log(dataset_id, query.flt)
        steps = ws.memo((dataset_id, "team-steps", query.key()), lambda: team_steps(log, result))
        split = ws.memo((dataset_id, "forecast-split", query.key()), lambda: (
            split_forecast(log, result.forecast) if result.forecast is not None else None))
        view = manager_view(log, result, manager, steps=steps, split=split)
    if view is None:
        raise HTTPException(404, "no deal of this manager under this filter")
    return _page("manager.html.j2", request, lang, dataset=ws.load(dataset_id).dataset,
                 view=view, result=result, params=params,
                 forecast_absence=(forecast_absence(result, lang) if result.forecast is None
                                   else None),
                 stage_names={s.id: s.name for s in result.funnel.stages},
                 deals_url=lambda **kw: params.url(f"/d/{dataset_id}/deals", col="manager",
                                                   val=manager, **kw),
                 back=params.url(f"/d/{dataset_id}/managers"))


@router.get("/d/{dataset_id}/today", response_class=HTMLResponse)
def today(request: Request, dataset_id: str) -> HTMLResponse:
    ws, params, lang, query, result = _audited(request, dataset_id)
    with ws.lock:
        deals = build_today(ws.filtered_log(dataset_id, query.flt), result, lang=lang)
    return _page("today.html.j2", request, lang, dataset=ws.load(dataset_id).dataset,
                 deals=deals, stage_names={s.id: s.name for s in result.funnel.stages},
                 crm_url=ws.deal_url(dataset_id), back=params.url(f"/d/{dataset_id}"))
