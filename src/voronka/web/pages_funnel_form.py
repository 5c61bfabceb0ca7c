"""The structured funnel editor: the funnel file as a form (stages in order with move up/down,
names, aliases, ``max_days``, benchmark, key task; won and lost; the key stage) beside the TOML
text editor, with the same stage-name lint shown inline. Saving writes the same funnel file
the text editor and the CLI read (:mod:`voronka.web.funnel_form`)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

import tomli_w
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from voronka.errors import InputError
from voronka.web.funnel_form import (
    fields_of_rows,
    form_fields,
    form_to_data,
    move,
    submitted_rows,
)
from voronka.web.pages import _lang, _page, _ws
from voronka.web.pages_funnel import _current_text, _lint, _parse, funnel_save

router = APIRouter(include_in_schema=False)


def _base(request: Request, dataset_id: str) -> dict[str, Any]:
    return tomllib.loads(_current_text(request, dataset_id))


def _verdicts(fields: Mapping[str, str], base: Mapping[str, Any], lang: str) -> tuple[
    list[dict[str, Any]], str | None
]:
    try:
        return _lint(_parse(tomli_w.dumps(form_to_data(fields, base))), lang), None
    except InputError as exc:
        return [], exc.describe_in(lang)


def _form_page(request: Request, dataset_id: str, fields: Mapping[str, str],
               base: Mapping[str, Any], status: int = 200,
               error: str | None = None) -> HTMLResponse:
    lang = _lang(request)
    verdicts, lint_error = _verdicts(fields, base, lang)
    count = int(fields.get("stages", "0") or 0)
    rows = [{k: fields.get(f"stage-{i}-{k}", "") for k in
             ("id", "name", "aliases", "max_days", "benchmark", "key_task")} for i in range(count)]
    page = _page("funnel_form.html.j2", request, lang,
                 dataset=_ws(request).load(dataset_id).dataset, fields=fields, rows=rows,
                 verdicts=verdicts, error=error or lint_error)
    page.status_code = status
    return page


@router.get("/d/{dataset_id}/funnel/form", response_class=HTMLResponse)
def funnel_form(request: Request, dataset_id: str) -> HTMLResponse:
    base = _base(request, dataset_id)
    return _form_page(request, dataset_id, form_fields(base), base)


@router.post("/d/{dataset_id}/funnel/form")
async def funnel_form_post(request: Request, dataset_id: str) -> Response:
    """``action``: ``save``, ``lint`` (the lint fragment, for htmx), ``up:<id>`` / ``down:<id>``
    (the form again with that stage moved; nothing saved)."""
    posted = {k: str(v) for k, v in (await request.form()).items()}
    action = posted.get("action", "save")
    base = _base(request, dataset_id)
    lang = _lang(request)
    if action == "lint":
        verdicts, error = _verdicts(posted, base, lang)
        return _page("_lint.html.j2", request, lang, verdicts=verdicts, error=error)
    if action != "save":
        rows = move(submitted_rows(posted), action)
        return _form_page(request, dataset_id, fields_of_rows(posted, rows), base)
    try:
        text = tomli_w.dumps(form_to_data(posted, base))
        _parse(text)
    except InputError as exc:
        return _form_page(request, dataset_id, posted, base, status=400,
                          error=exc.describe_in(lang))
    return funnel_save(request, dataset_id, text)
