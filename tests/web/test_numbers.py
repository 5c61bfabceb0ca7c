"""The web's numbers are the CLI's: the same filter gives the same audit JSON, a drill-down list
has exactly as many deals as the number it was opened from, and a comparison's previous period is
the CLI run over that period."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from voronka.cli import main


def cli_json(folder: Path, tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "audit.json"
    assert main(["audit", str(folder), "--format", "json", "-o", str(out), *args]) == 0
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def _top_manager(client: TestClient, demo_id: str) -> str:
    page = client.get(f"/api/v1/datasets/{demo_id}/deals", params={"limit": 500}).json()
    managers = [r["manager"] for r in page["rows"] if r["manager"]]
    return max(set(managers), key=managers.count)


def test_manager_filter_equals_the_cli(client, demo_id, demo_folder, tmp_path) -> None:
    manager = _top_manager(client, demo_id)
    web = client.get(f"/api/v1/datasets/{demo_id}/audit", params={"manager": manager}).json()
    cli = cli_json(demo_folder, tmp_path, "--where", f"manager={manager}")
    for section in ("funnel", "stuck", "leaks", "sources", "key_stage"):
        assert web[section] == cli[section], section
    everyone = client.get(f"/api/v1/datasets/{demo_id}/audit").json()
    assert 0 < web["funnel"]["deals"] < everyone["funnel"]["deals"]


def test_period_filter_equals_the_cli(client, demo_id, demo_folder, tmp_path) -> None:
    period = {"from": "2026-01-01", "to": "2026-03-31"}
    web = client.get(f"/api/v1/datasets/{demo_id}/audit", params=period).json()
    cli = cli_json(demo_folder, tmp_path, "--from", period["from"], "--to", period["to"])
    assert web["funnel"] == cli["funnel"]
    assert web["funnel"]["deals"] > 0


def test_stuck_count_opens_exactly_its_deals_and_exports_them(client, demo_id) -> None:
    audit = client.get(f"/api/v1/datasets/{demo_id}/audit").json()
    stage = max(audit["stuck"]["stages"], key=lambda s: s["stuck"])
    assert stage["stuck"] > 0
    args = {"sel": "stuck", "stage": stage["stage"]}
    page = client.get(f"/api/v1/datasets/{demo_id}/deals", params={**args, "limit": 500}).json()
    assert page["total"] == stage["stuck"] == len(page["rows"])
    exported = client.get(f"/d/{demo_id}/deals.csv", params=args)
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert sorted(r["deal_id"] for r in rows) == sorted(r["deal_id"] for r in page["rows"])
    html = client.get(f"/d/{demo_id}", params={}, headers={"HX-Request": "true"}).text
    assert f'href="/d/{demo_id}/deals?sel=stuck&amp;stage={stage["stage"]}"' in html


def test_comparison_shows_the_previous_period_of_the_cli(
    client, demo_id, demo_folder, tmp_path
) -> None:
    params = {"from": "2026-03-01", "to": "2026-04-30", "cmp": "previous"}
    comparison = client.get(f"/api/v1/datasets/{demo_id}/compare", params=params).json()
    assert (comparison["previous_from"], comparison["previous_to"]) == ("2025-12-30", "2026-02-28")
    before = cli_json(demo_folder, tmp_path, "--from", "2025-12-30", "--to", "2026-02-28")
    counts = {c["name"]: c["previous"] for c in comparison["counts"]}
    assert counts == {k: before["funnel"][k] for k in ("deals", "won", "lost", "open")}
    reached = {s["id"]: s["reached"] for s in before["funnel"]["stages"]}
    for step in comparison["steps"]:
        assert step["previous_reached"] == reached[step["stage"]]
    page = client.get(f"/d/{demo_id}", params=params, headers={"HX-Request": "true"}).text
    assert 'id="compare-steps"' in page


@pytest.mark.parametrize(
    "bad", [{"from": "yesterday"}, {"where": "nonsense"}, {"manager": "x", "where": "nope=1"}]
)
def test_bad_filters_are_400_with_a_message(client, demo_id, bad) -> None:
    r = client.get(f"/api/v1/datasets/{demo_id}/audit", params=bad)
    assert r.status_code == 400 and r.json()["detail"]


def test_the_dashboard_says_why_the_cards_and_the_first_stage_differ(
    client, demo_folder, tmp_path
) -> None:
    """The cards count every deal, the funnel's first stage those with a funnel stage: with two
    deals added that were lost at once (no funnel stage), the dashboard says so under its funnel
    table, with the audit's numbers."""
    import shutil

    from web_helpers import zip_folder

    folder = tmp_path / "export"
    shutil.copytree(demo_folder, folder)
    with (folder / "events.csv").open("a", encoding="utf-8") as events:
        events.write('"99000001";"Closed lost";"01.03.2026 10:00"\n')
        events.write('"99000002";"Closed lost";"02.03.2026 11:00"\n')
    r = client.post("/api/v1/datasets", files={"file": ("lost.zip", zip_folder(folder))})
    assert r.status_code == 201, r.text
    dataset = r.json()["id"]
    audit = client.get(f"/api/v1/datasets/{dataset}/audit").json()["funnel"]
    assert audit["not_in_funnel"] == audit["not_in_funnel_lost"] == 2
    assert audit["deals"] - audit["stages"][0]["reached"] == 2
    page = client.get(f"/d/{dataset}", params={"lang": "en"},
                      headers={"HX-Request": "true"}).text
    assert f"Not in the funnel: 2 of {audit['deals']:,}" in page
