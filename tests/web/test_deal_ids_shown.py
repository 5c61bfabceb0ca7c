"""The deal ids the web app shows are the export's own texts, not the engine's integer keys
(``voronka.engine.deal_keys``): a demo export whose ids are rewritten to texts a cast or a
numeric sort would change is uploaded, and its deal pages (JSON and HTML, filtered too) list
exactly those texts, sorted as text."""

from __future__ import annotations

import csv
import html
from pathlib import Path

import pytest
from web_helpers import TestClient, zip_folder

from voronka.demo import generate_demo, write_demo

ODD = ["007", "1e3", "12 a", "Сделка №", "0x1F", "NaN", "ß", "1,5", "-0", "日本"]


def _odd_id(old: str, n: int) -> str:
    """The ``n``-th deal's new id: an odd prefix and the number (so every id stays unique)."""
    return f"{ODD[n % len(ODD)]}-{n:04d}"


def _rewrite(path: Path, new: dict[str, str]) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    for row in rows[1:]:
        row[0] = new.setdefault(row[0], _odd_id(row[0], len(new)))
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=";", quoting=csv.QUOTE_ALL).writerows(rows)


@pytest.fixture(scope="module")
def odd(client: TestClient, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, set[str]]:
    folder = tmp_path_factory.mktemp("odd-ids")
    files = write_demo(generate_demo(300, seed=11, months=8, end_day=15), folder)
    new: dict[str, str] = {}
    _rewrite(Path(files.deals), new)
    _rewrite(Path(files.events), new)
    r = client.post("/api/v1/datasets", files={"file": ("odd.zip", zip_folder(folder))})
    assert r.status_code == 201, r.text
    return str(r.json()["id"]), set(new.values())


def test_the_deal_pages_show_the_exports_ids(client: TestClient, odd: tuple[str, set[str]]) -> None:
    dataset, ids = odd
    page = client.get(f"/api/v1/datasets/{dataset}/deals", params={"limit": 500}).json()
    shown = [row["deal_id"] for row in page["rows"]]
    assert len(shown) == min(page["total"], 500) > 100
    assert set(shown) <= ids
    assert shown == sorted(shown, key=str.encode)  # sorted as text, as the engine on texts did
    assert any(s.startswith("007-") for s in shown) and any(s.startswith("日本-") for s in shown)
    managers = client.get(f"/api/v1/datasets/{dataset}/deals",
                          params={"sel": "open", "sort": "created_at", "limit": 50}).json()
    assert managers["rows"] and {r["deal_id"] for r in managers["rows"]} <= ids
    text = html.unescape(client.get(f"/d/{dataset}/deals", params={"sel": "all"}).text)
    assert sum(i in text for i in ids) >= 20
