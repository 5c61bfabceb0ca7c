"""The dashboard at once: when the audit a filter asks for is not computed yet (a filter nobody
has asked for took about 30 s on 100k deals), the page is sent straight away with its filters and
a loading section; htmx then fetches the panel, and the browser shows a spinner meanwhile instead
of a blank, blocked tab. A computed audit is shown in the page itself, as before."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from voronka.engine import column_values
from voronka.web.pages import _lang, _page, _params, _ws

CHOICE_COLUMNS = 8
CHOICE_VALUES = 60


def filter_choices(request: Request, dataset_id: str) -> dict[str, list[Any]]:
    """The values each filter offers (computed once per dataset, then read without the lock)."""
    ws = _ws(request)
    key = (dataset_id, "filter-choices")
    found = ws.peek(key)
    if found is not None:
        return dict(found)

    def build() -> dict[str, list[Any]]:
        loaded = ws.load(dataset_id)
        with ws.lock:
            log = loaded.log
            columns = list(log.segment_columns())[:CHOICE_COLUMNS]
            return dict(column_values(log, columns, limit=CHOICE_VALUES))

    return dict(ws.memo(key, build))


def loading_page(request: Request, dataset_id: str) -> HTMLResponse:
    """The dashboard with its filters and a loading section in place of the panel."""
    ws = _ws(request)
    params = _params(request)
    lang = _lang(request, params)
    return _page(
        "dashboard.html.j2", request, lang,
        dataset=ws.loaded_now(dataset_id).dataset,
        params=params,
        choices=filter_choices(request, dataset_id),
        where=list(params.all("where")),
        loading=True,
        panel_url=params.url(f"/d/{dataset_id}"),
    )
