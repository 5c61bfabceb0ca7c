"""The pages: datasets and upload, the column-mapping screen, the dashboard (filters, drill-down
links, period comparison, the report's own sections), the deals behind a number, exports.

htmx swaps the dashboard's panel when a filter changes (``hx-push-url`` keeps the filter in the
address bar); every page also works as a plain full page.
"""

from __future__ import annotations

import io
from functools import cache
from typing import Any

import jinja2
from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from markupsafe import Markup

from voronka.audit.drill_links import drill_context
from voronka.engine import MAX_PAGE, column_values
from voronka.errors import InputError, Msg
from voronka.i18n import t
from voronka.report.format import format_days, format_int, format_number, format_percent
from voronka.report.names import build_labels
from voronka.report.words import funnel_reconciliation
from voronka.web.datasets import (
    CANONICAL_FIELDS,
    apply_mapping,
    create_dataset,
    needs_mapping,
    preview,
)
from voronka.web.views import SELECTION_PARAMS, Params, query_of, selection_of
from voronka.web.workspace import NothingToCompare, UnknownDataset, Workspace

router = APIRouter(include_in_schema=False)
PAGE_ROWS = 50
EXPORT_ROWS = 20_000
"""The most rows an export writes (fetched from the engine page by page)."""


@cache
def _env() -> jinja2.Environment:
    from voronka.report.html import report_templates

    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.PackageLoader("voronka.web", "templates"), report_templates()]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _ws(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


def _params(request: Request) -> Params:
    return Params.of(list(request.query_params.multi_items()))


def _lang(request: Request, params: Params | None = None) -> str:
    default: str = request.app.state.settings.lang
    value = (params or _params(request)).get("lang") or default
    return "en" if value.startswith("en") else "ru"


def _page(name: str, request: Request, lang: str, **context: Any) -> HTMLResponse:
    html = _env().get_template(name).render(
        lang=lang,
        t=lambda key, **p: t(key, lang, **p),
        num=lambda n: format_int(n, lang),
        pct=lambda x: format_percent(x, lang, 1) if x is not None else "—",
        days=lambda x: format_days(x, lang),
        number=lambda x, d=1: format_number(x, lang, d),
        request_path=request.url.path,
        **context,
    )
    return HTMLResponse(html)


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    lang = _lang(request)
    return _page("index.html.j2", request, lang, datasets=_ws(request).store.datasets())


@router.post("/upload")
def upload(request: Request, file: UploadFile) -> Response:
    settings = request.app.state.settings
    dataset = create_dataset(_ws(request).store, file.file, file.filename,
                             settings.max_upload_bytes)
    lang = _lang(request)
    target = f"/d/{dataset.id}/mapping" if needs_mapping(_ws(request), dataset) else f"/d/{dataset.id}"
    return RedirectResponse(f"{target}?lang={lang}", status_code=303)


@router.get("/d/{dataset_id}/mapping", response_class=HTMLResponse)
def mapping_page(request: Request, dataset_id: str) -> HTMLResponse:
    ws = _ws(request)
    dataset = ws.store.dataset(dataset_id)
    if dataset is None:
        raise UnknownDataset(dataset_id)
    headers, rows, guess = preview(dataset.folder)
    return _page("mapping.html.j2", request, _lang(request), dataset=dataset, headers=headers,
                 rows=rows, guess=guess, fields=CANONICAL_FIELDS)


@router.post("/d/{dataset_id}/mapping")
async def mapping_save(request: Request, dataset_id: str) -> Response:
    form = await request.form()
    chosen = {k[4:]: str(v) for k, v in form.items() if k.startswith("map_") and str(v)}
    apply_mapping(_ws(request), dataset_id, chosen)
    return RedirectResponse(f"/d/{dataset_id}?lang={_lang(request)}", status_code=303)


def _dashboard_context(request: Request, dataset_id: str) -> dict[str, Any]:
    from voronka.report.html import report_context

    ws = _ws(request)
    params = _params(request)
    lang = _lang(request, params)
    query = query_of(params, lang)
    result = ws.audit(dataset_id, query)
    loaded = ws.load(dataset_id)
    with ws.lock:
        log = loaded.log
        choices = column_values(log, [c for c in log.segment_columns()][:8], limit=60)
    comparison = nothing_to_compare = None
    cmp_kind = params.get("cmp")
    if cmp_kind in ("previous", "year") and query.flt.created_from and query.flt.created_to:
        try:
            comparison = ws.compare(dataset_id, query, cmp_kind)
        except NothingToCompare as nothing:
            nothing_to_compare = nothing.message(lang)
    base = params.without("cmp")
    report = report_context(result, lang=lang)
    return {
        "dataset": loaded.dataset,
        "params": params,
        "result": result,
        "choices": choices,
        "comparison": comparison,
        "nothing_to_compare": nothing_to_compare,
        "stage_names": {s.id: s.name for s in result.funnel.stages},
        "deals_url": lambda **kw: base.url(f"/d/{dataset_id}/deals", **kw),
        # The user's file names, not the server's folders (as in error messages).
        "report_html": Markup(_env().get_template("_report_body.html.j2").render(**report)
                              .replace(f"{loaded.dataset.folder}/", "")),
        "charts_json": Markup(report["charts_json"]),
        "where": [v for v in params.all("where")],
        # Why the cards and the stages count differently, as the report says it.
        "funnel_note": funnel_reconciliation(result, build_labels(result, lang, None)),
        **drill_context(result),
    }


@router.get("/d/{dataset_id}", response_class=HTMLResponse)
def dashboard(request: Request, dataset_id: str) -> HTMLResponse:
    name = "_panel.html.j2" if request.headers.get("hx-request") else "dashboard.html.j2"
    key = (dataset_id, name, _params(request).pairs)
    if name == "dashboard.html.j2" and not _ws(request).has_audit(
        dataset_id, query_of(_params(request), _lang(request))
    ):
        from voronka.web.loading import loading_page

        return loading_page(request, dataset_id)  # at once; the panel follows via htmx

    def build() -> HTMLResponse:
        context = _dashboard_context(request, dataset_id)
        return _page(name, request, _lang(request), **context)

    page: HTMLResponse = _ws(request).memo(key, build)
    return HTMLResponse(page.body, media_type="text/html")


def _deal_args(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k in SELECTION_PARAMS}


@router.get("/d/{dataset_id}/deals", response_class=HTMLResponse)
def deals(request: Request, dataset_id: str, sort: str = "deal_id", desc: int = 0,
          page: int = 1) -> HTMLResponse:
    ws = _ws(request)
    params = _params(request)
    lang = _lang(request, params)
    query = query_of(params, lang)
    result = ws.audit(dataset_id, query)
    loaded = ws.load(dataset_id)
    args = _deal_args(request)
    selection = selection_of(result, loaded.log.require_funnel().stage_ids, args)
    page = max(1, page)
    found = ws.deals(dataset_id, query, selection, sort=sort, descending=bool(desc),
                     offset=(page - 1) * PAGE_ROWS, limit=PAGE_ROWS)
    here = params.url(f"/d/{dataset_id}/deals", **args)
    return _page(
        "deals.html.j2", request, lang, dataset=loaded.dataset, page=found, page_no=page,
        pages=max(1, -(-found.total // PAGE_ROWS)), sort=sort, desc=bool(desc), here=here,
        sep="&" if "?" in here else "?", crm_url=ws.deal_url(dataset_id), selection=selection,
        stage_names={s.id: s.name for s in result.funnel.stages},
        stage_label=next((s.name for s in result.funnel.stages if s.id == args.get("stage")),
                         args.get("stage", "")),
        back=params.url(f"/d/{dataset_id}"),
    )


def _all_rows(request: Request, dataset_id: str) -> tuple[tuple[str, ...], list[list[Any]]]:
    ws = _ws(request)
    params = _params(request)
    query = query_of(params, _lang(request, params))
    result = ws.audit(dataset_id, query)
    selection = selection_of(result, ws.load(dataset_id).log.require_funnel().stage_ids,
                             _deal_args(request))
    rows: list[list[Any]] = []
    columns: tuple[str, ...] = ()
    offset = 0
    while offset < EXPORT_ROWS:
        found = ws.deals(dataset_id, query, selection, sort="deal_id", offset=offset,
                         limit=MAX_PAGE)
        columns = found.columns
        rows += found.rows.astype(object).where(found.rows.notna(), None).values.tolist()
        offset += MAX_PAGE
        if offset >= found.total:
            break
    return columns, rows


@router.get("/d/{dataset_id}/deals.csv")
def deals_csv(request: Request, dataset_id: str) -> Response:
    import csv

    columns, rows = _all_rows(request, dataset_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return Response(
        "\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="deals.csv"'},
    )


@router.get("/d/{dataset_id}/deals.xlsx")
def deals_xlsx(request: Request, dataset_id: str) -> Response:
    import xlsxwriter

    columns, rows = _all_rows(request, dataset_id)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "remove_timezone": True})
    sheet = book.add_worksheet("deals")
    sheet.write_row(0, 0, columns)
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, [str(v) if hasattr(v, "isoformat") else v for v in row])
    book.close()
    return StreamingResponse(
        iter([buffer.getvalue()]),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="deals.xlsx"'},
    )


@router.post("/d/{dataset_id}/plan")
def save_plan(request: Request, dataset_id: str, plan: float = Form(...)) -> Response:
    from voronka.web.store import Plan

    if not 0 < plan < 1e9:
        raise InputError(Msg("errors.msg.plan_positive"))
    ws = _ws(request)
    ws.store.save_plan(dataset_id, Plan(plan=plan))
    ws.forget(dataset_id)
    return RedirectResponse(f"/d/{dataset_id}?lang={_lang(request)}", status_code=303)
