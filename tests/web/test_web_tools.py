"""The web tools: an empty comparison period, … (in-process over the demo dataset)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from voronka.i18n import t

HX = {"HX-Request": "true"}


def _first_created(folder: Path) -> dt.date:
    with (folder / "deals.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    days = [dt.datetime.strptime(r[1], "%d.%m.%Y %H:%M").date() for r in rows[1:]]
    return min(days)


def test_an_empty_previous_period_is_said_in_words_not_an_error(
    client, demo_id, demo_folder
) -> None:
    first = _first_created(demo_folder)
    period = {"from": first.isoformat(), "to": (first + dt.timedelta(days=13)).isoformat()}
    before_start = (first - dt.timedelta(days=14)).isoformat()
    before_end = (first - dt.timedelta(days=1)).isoformat()
    for lang in ("ru", "en"):
        api = client.get(f"/api/v1/datasets/{demo_id}/compare",
                         params={**period, "cmp": "previous", "lang": lang})
        assert api.status_code == 200, api.text
        body = api.json()
        assert body["nothing_to_compare"] is True
        assert (body["previous_from"], body["previous_to"]) == (before_start, before_end)
        assert body["message"] == t("web.compare.nothing.previous", lang, start=before_start,
                                    end=before_end)
        assert body["steps"] == []
        page = client.get(f"/d/{demo_id}", params={**period, "cmp": "previous", "lang": lang},
                          headers=HX)
        assert page.status_code == 200
        assert 'id="nothing-to-compare"' in page.text and 'id="compare-steps"' not in page.text
        assert before_start in page.text
    said = client.get(f"/d/{demo_id}", params={**period, "cmp": "previous", "lang": "ru"},
                      headers=HX).text
    assert "Сравнивать не с чем" in said
    # A year back is just as empty (the export starts in the period).
    year = client.get(f"/api/v1/datasets/{demo_id}/compare", params={**period, "cmp": "year"})
    assert year.status_code == 200 and year.json()["nothing_to_compare"] is True
    # With deals before, the comparison is made and says so.
    later = {"from": (first + dt.timedelta(days=60)).isoformat(),
             "to": (first + dt.timedelta(days=89)).isoformat(), "cmp": "previous"}
    full = client.get(f"/api/v1/datasets/{demo_id}/compare", params=later).json()
    assert full["nothing_to_compare"] is False and full["steps"]


def test_an_uncomputed_filter_sends_the_page_at_once_and_the_panel_follows(
    client, demo_id, monkeypatch
) -> None:
    """The full page never waits for an audit that is not computed: it comes with a loading
    section that asks htmx for the panel; the panel request computes it; once computed, the
    page holds the panel itself."""
    ws = client.app.state.workspace
    params = {"source": "Рекомендации", "lang": "ru"}
    real_audit = ws.audit
    calls: list[object] = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError("the page waited for an audit")

    monkeypatch.setattr(ws, "audit", refuse)
    shell = client.get(f"/d/{demo_id}", params=params)
    assert shell.status_code == 200 and calls == []
    assert 'id="panel-loading"' in shell.text and 'hx-trigger="load"' in shell.text
    assert 'id="f-source"' in shell.text  # the filters are there already
    assert "source=%D0%A0%D0%B5%D0%BA" in shell.text  # the panel request keeps the filter
    assert t("web.loading", "ru").split(" —")[0] in shell.text
    monkeypatch.setattr(ws, "audit", real_audit)
    panel = client.get(f"/d/{demo_id}", params=params, headers=HX)
    assert panel.status_code == 200 and 'id="funnel-drill"' in panel.text
    again = client.get(f"/d/{demo_id}", params=params)
    assert 'id="panel-loading"' not in again.text and 'id="funnel-drill"' in again.text
    english = client.get(f"/d/{demo_id}", params={"source": "Рекомендации", "lang": "en",
                                                  "from": "2025-06-01"})
    assert 'id="panel-loading"' in english.text and t("web.loading", "en") in english.text


def test_the_russian_web_pages_have_no_english_words(client, demo_id, demo_folder) -> None:
    """The same scan as the Russian report's (tests/report/test_russian_words.py) over the web
    pages: no Latin-letter word but the data's own and a short allow-list."""
    import html as html_lib
    import re

    word = re.compile(r"[A-Za-z][A-Za-z'’]*")
    allowed = {"voronka", "CRM", "Excel", "ROMI", "CAC", "q", "RU", "EN", "CSV", "XLSX", "ZIP",
               "amoCRM", "HubSpot", "Pipedrive", "TOML", "VORONKA", "AMOCRM", "TOKEN", "SUBDOMAIN",
               "DOMAIN", "BASE", "URL", "API", "mycompany",
               "demo", "zip", "export"}  # the upload: demo.zip holding export/…
    for path in demo_folder.iterdir():
        allowed |= set(word.findall(path.name))
        allowed |= set(word.findall(path.read_text(encoding="utf-8-sig", errors="replace")))
    pages = {
        "/": {}, f"/d/{demo_id}": HX, f"/d/{demo_id}/managers": {}, f"/d/{demo_id}/today": {},
        f"/d/{demo_id}/funnel/form": {}, "/pull": {},
    }
    english = {}
    for path, headers in pages.items():
        page = client.get(path, params={"lang": "ru"}, headers=headers).text
        page = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", page)
        shown = html_lib.unescape(re.sub(r"(?s)<[^>]+>", " ", page))
        left = sorted(set(word.findall(shown)) - allowed)
        if left:
            english[path] = left
    assert english == {}, english


def test_the_loading_page_does_not_wait_for_another_requests_audit(client, demo_id) -> None:
    """While another request holds the engine (an audit being computed), a page of a new filter
    still comes back with its loading section: it is answered before the engine is released."""
    import threading

    ws = client.app.state.workspace
    first = client.get(f"/d/{demo_id}", params={"from": "2025-05-01", "lang": "ru"})
    assert 'id="panel-loading"' in first.text  # the dataset is loaded, its filter choices kept
    held, release, released = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        with ws.lock:
            held.set()
            release.wait(120)
        released.set()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(30)
    try:
        shell = client.get(f"/d/{demo_id}", params={"from": "2025-06-01", "lang": "ru"})
        answered_while_held = not released.is_set()
    finally:
        release.set()
        holder.join()
    assert answered_while_held and 'id="panel-loading"' in shell.text
