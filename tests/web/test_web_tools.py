"""The web tools: an empty comparison period, … (in-process over the demo dataset)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from voronka.i18n import t


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
        page = client.get(f"/d/{demo_id}", params={**period, "cmp": "previous", "lang": lang})
        assert page.status_code == 200
        assert 'id="nothing-to-compare"' in page.text and 'id="compare-steps"' not in page.text
        assert before_start in page.text
    said = client.get(f"/d/{demo_id}", params={**period, "cmp": "previous", "lang": "ru"}).text
    assert "Сравнивать не с чем" in said
    # A year back is just as empty (the export starts in the period).
    year = client.get(f"/api/v1/datasets/{demo_id}/compare", params={**period, "cmp": "year"})
    assert year.status_code == 200 and year.json()["nothing_to_compare"] is True
    # With deals before, the comparison is made and says so.
    later = {"from": (first + dt.timedelta(days=60)).isoformat(),
             "to": (first + dt.timedelta(days=89)).isoformat(), "cmp": "previous"}
    full = client.get(f"/api/v1/datasets/{demo_id}/compare", params=later).json()
    assert full["nothing_to_compare"] is False and full["steps"]
