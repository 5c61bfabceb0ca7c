"""What-if: a plan field and a per-stage conversion slider recompute the plan probability,
expected wins and revenue with the audit's own forecast model (:func:`voronka.api.what_if`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from voronka import api
from voronka.errors import Msg, UsageError
from voronka.web.pages import _lang, _page, _params, _ws
from voronka.web.views import query_of

router = APIRouter(include_in_schema=False)


def _context(request: Request, dataset_id: str) -> dict[str, object]:
    ws = _ws(request)
    params = _params(request)
    lang = _lang(request, params)
    query = query_of(params, lang)
    result = ws.audit(dataset_id, query)
    stages = result.funnel.stages[:-1]
    stage = request.query_params.get("stage") or (stages[0].id if stages else "")
    current = next((s.conversion for s in stages if s.id == stage), None)
    rate_text = request.query_params.get("rate")
    try:
        rate = float(rate_text) / 100 if rate_text else current
    except ValueError:
        raise UsageError(
            Msg("errors.raised.rate_is_not_a_number", rate_text=repr(rate_text))
        ) from None
    changed = None
    if result.forecast is not None and stage and rate is not None:
        changed = api.what_if(result, stage=stage, rate=rate)
        if not rate_text:
            # The slider starts at the model's own rate (its share of exits that moved on), so
            # the first view is the forecast itself.
            rate = changed.current_rate
            changed = api.what_if(result, stage=stage, rate=rate)
    return {"dataset": ws.load(dataset_id).dataset, "result": result, "stages": stages,
            "stage": stage, "rate": rate, "current": current, "changed": changed,
            "params": params, "back": params.url(f"/d/{dataset_id}")}


@router.get("/d/{dataset_id}/whatif", response_class=HTMLResponse)
def what_if_page(request: Request, dataset_id: str) -> HTMLResponse:
    name = "_whatif.html.j2" if request.headers.get("hx-request") else "whatif.html.j2"
    return _page(name, request, _lang(request), **_context(request, dataset_id))
