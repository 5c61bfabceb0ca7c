"""`voronka demo`: writes a sample export, audits it, leaves the report and the JSON beside it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from voronka.cli import main
from voronka.demo import generate_demo
from voronka.schema import load_schema


def test_demo_writes_export_report_and_json(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "demo"
    assert main(["demo", str(folder), "--deals", "2000", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "Funnel" in out and "likely" in out  # the funnel table and the plan in words
    for name in ("events.csv", "deals.csv", "spend.csv", "funnel.toml", "report.html",
                 "audit.json"):
        assert (folder / name).stat().st_size > 0, name
    payload = json.loads((folder / "audit.json").read_text(encoding="utf-8"))
    jsonschema.validate(payload, load_schema("audit"))
    forecast = payload["forecast"]
    assert forecast["plan"] == round(105 * 2000 / 20_000)
    assert forecast["period_start"].endswith("-11-01") and forecast["period_end"].endswith("-11-30")
    assert 0 <= forecast["p_plan"] <= 1


def test_mid_month_export_ends_on_its_day() -> None:
    data = generate_demo(500, seed=1, months=19, end_day=15)
    assert data.as_of.day == 15 and data.as_of.month == 11
    assert data.events["entered_at"].max() < data.as_of
    with pytest.raises(ValueError, match="end_day"):
        generate_demo(500, months=3, end_day=31)
