"""The funnel editor: the dataset's funnel file (TOML: stage order, won/lost, benchmarks,
``max_days``, key tasks, required fields, ``deal_url``) edited in place, with the stage-name lint
of every stage shown next to it and refreshed as the text changes (htmx). Saving keeps the file in
the store and re-audits with it."""

from __future__ import annotations

import tomllib
from typing import Any, cast

import tomli_w
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voronka.errors import InputError, Msg
from voronka.funnel import Funnel, funnel_from_dict, funnel_to_dict
from voronka.lang import lint_stage_names
from voronka.web.pages import _lang, _page, _ws

router = APIRouter(include_in_schema=False)
MAX_FUNNEL_CHARS = 200_000


def _parse(text: str) -> Funnel:
    if len(text) > MAX_FUNNEL_CHARS:
        raise InputError(Msg("errors.raised.the_funnel_file_is_too_long"), file="funnel.toml")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            Msg("errors.raised.not_a_valid_toml_file", exc=exc), file="funnel.toml"
        ) from None
    return funnel_from_dict(data, file="funnel.toml")


def _lint(funnel: Funnel, lang: str) -> list[dict[str, Any]]:
    return [v.to_dict(lang) for v in lint_stage_names([], funnel=cast(Any, funnel))]


def _current_text(request: Request, dataset_id: str) -> str:
    ws = _ws(request)
    saved = ws.store.funnel_text(dataset_id)
    if saved is not None:
        return saved
    funnel = ws.load(dataset_id).log.require_funnel()
    return tomli_w.dumps(funnel_to_dict(funnel))


@router.get("/d/{dataset_id}/funnel", response_class=HTMLResponse)
def funnel_page(request: Request, dataset_id: str) -> HTMLResponse:
    lang = _lang(request)
    text = _current_text(request, dataset_id)
    funnel = _parse(text)
    return _page("funnel.html.j2", request, lang, dataset=_ws(request).load(dataset_id).dataset,
                 text=text, verdicts=_lint(funnel, lang), error=None)


@router.post("/d/{dataset_id}/funnel/lint", response_class=HTMLResponse)
def funnel_lint(request: Request, dataset_id: str, text: str = Form("")) -> HTMLResponse:
    lang = _lang(request)
    try:
        verdicts, error = _lint(_parse(text), lang), None
    except InputError as exc:
        verdicts, error = [], exc.describe_in(lang)
    return _page("_lint.html.j2", request, lang, verdicts=verdicts, error=error)


@router.post("/d/{dataset_id}/funnel")
def funnel_save(request: Request, dataset_id: str, text: str = Form(...)) -> Response:
    _parse(text)  # a broken file is refused with its message, nothing saved
    ws = _ws(request)
    previous = ws.store.funnel_text(dataset_id)
    ws.store.save_funnel(dataset_id, text)
    ws.forget(dataset_id)
    try:
        ws.load(dataset_id)
    except InputError:
        if previous is None:
            ws.store.delete_funnel(dataset_id)
        else:
            ws.store.save_funnel(dataset_id, previous)
        ws.forget(dataset_id)
        raise
    return RedirectResponse(f"/d/{dataset_id}?lang={_lang(request)}", status_code=303)
