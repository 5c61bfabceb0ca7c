"""``--engine`` runs the input checks the file path runs (issue 10, points 3 and 7): the outlier
fence on the event times (one event typed as 2099 does not become ``as_of``; deal dates after the
fence are nulled) and events after their deal's closing date — on the backend, with the same
counts, examples, ``as_of`` and funnel as the audit of the same rows from files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ibis
import pytest
from inputs_world import make_world

from voronka.api import read_inputs
from voronka.cli import main
from voronka.engine.backend import quiet_driver


def _planted(tmp_path: Path) -> dict[str, Path]:
    """The small world with one event in 2099, three events a month after their deal was lost,
    one deal created in 2099 and one closed in 2099."""
    world = make_world()
    open_deal = next(d for d in world.deals if d["status"] == "open")
    world.events.append({"deal_id": open_deal["deal_id"], "stage": "Qualified",
                         "entered_at": "2099-05-01 10:00"})
    lost = [d for d in world.deals if d["status"] == "lost"][:3]
    for d in lost:
        year, month = int(d["closed_at"][:4]), int(d["closed_at"][5:7])
        world.events.append({"deal_id": d["deal_id"], "stage": "Proposal",
                             "entered_at": f"{year}-{month % 12 + 1:02d}-20 10:00"})
    world.deals[3]["created_at"] = "2099-01-01 00:00"
    next(d for d in world.deals if d["status"] == "won")["closed_at"] = "2099-02-02 00:00"
    return world.write(tmp_path / "files")


def _audit(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main(["audit", *args, "--format", "json", "-o", "-", "--lang", "en"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return dict(json.loads(out))


def _quality(doc: dict[str, Any], kind_of: dict[str, str]) -> dict[str, Any]:
    quality = doc["data_quality"]
    return {
        "issues": sorted((kind_of.get(i["file"], i["file"]), i["kind"], i["count"],
                          tuple(i["examples"])) for i in quality["issues"]),
        **{key: {kind_of.get(k, k): v for k, v in quality[key].items()}
           for key in ("rows_read", "rows_used", "rows_rejected")},
    }


@pytest.mark.parametrize("as_of", [None, "2025-03-01"])
def test_the_engine_path_leaves_out_the_same_rows_as_the_file_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_of: str | None
) -> None:
    paths = _planted(tmp_path)
    extra = [] if as_of is None else ["--as-of", as_of]
    inputs = read_inputs(paths["events"], deals=paths["deals"])
    assert inputs.deals is not None
    database = tmp_path / "crm.db"
    con = ibis.duckdb.connect(str(database))
    with quiet_driver():
        con.create_table("events", inputs.events.table)
        con.create_table("deals", inputs.deals.table)
    con.disconnect()

    files = _audit([str(paths["events"]), "--deals", str(paths["deals"]),
                    "--funnel", str(paths["funnel"]), *extra], capsys)
    engine = _audit(["--engine", f"duckdb:///{database}", "--events", "events", "--deals",
                     "deals", "--funnel", str(paths["funnel"]), *extra], capsys)

    kinds = {str(paths["events"]): "events", str(paths["deals"]): "deals"}
    by_file = _quality(files, kinds)
    assert _quality(engine, {}) == by_file
    counts = {(f, kind): n for f, kind, n, _ in by_file["issues"]}
    assert counts[("events", "after_close")] == 3
    if as_of is None:
        assert counts[("events", "after_data_end")] == 1
        assert counts[("deals", "field_after_data_end")] == 2
        assert files["as_of"].startswith("2025-")
    assert engine["as_of"] == files["as_of"]
    assert engine["funnel"] == files["funnel"]
