"""The input quirks that gave confidently wrong numbers with exit 0 (issue 10, points 1–8).

Each test plants one quirk into a small generated world whose truth is known and checks the
audit's numbers against that truth; each failed on the code before the fix. The audits compute
the sections the tests read (funnel, data quality, sources, stuck deals), except where the test
reads the whole report (:func:`inputs_world.lean_audits`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from inputs_world import audit_world, lean_audits, make_world

FULL = {"test_point4_a_file_losing_most_rows_is_a_first_screen_warning"}  # reads the whole report


@pytest.fixture(autouse=True)
def _lean(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.function.__name__ not in FULL:
        lean_audits(monkeypatch, "sources", "stuck")


def _issue(result: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((i for i in result["data_quality"]["issues"] if i["kind"] == kind), None)


def _revenue(result: dict[str, Any], source: str) -> float:
    return next(s["revenue"] for s in result["sources"] if s["source"] == source)


def _true_revenue(deals: list[dict[str, Any]], source: str) -> float:
    return float(sum(d["amount"] for d in deals
                     if d["source"] == source and d["status"] == "won" and d["amount"] is not None))


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "1e30", "1e308", "NaN", "Infinity"])
def test_point1_non_finite_or_absurd_amount_is_rejected_for_that_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    world = make_world()
    won = [d for d in world.deals if d["status"] == "won" and d["source"] == "ads"]
    won[0]["amount"] = bad
    paths = world.write(tmp_path)
    code, result, err = audit_world(paths, capsys)
    assert code == 0 and result is not None
    won[0]["amount"] = None  # the truth: that one amount is unknown, nothing else changes
    assert _revenue(result, "ads") == _true_revenue(world.deals, "ads")
    assert result["funnel"]["won"] == sum(d["status"] == "won" for d in world.deals)
    kind = "field_implausible_number" if "e3" in bad else "field_not_finite"
    issue = _issue(result, kind)
    assert issue is not None and issue["count"] == 1 and issue["excluded"] is False
    assert "amount" in issue["examples"][0] and bad in issue["examples"][0]
    assert "Warning" not in err and "warning" not in err  # numpy warnings do not reach stderr
    dq = result["data_quality"]
    for f, n in dq["rows_read"].items():
        assert n == dq["rows_used"][f] + dq["rows_rejected"][f]


def test_point2_bad_optional_field_keeps_the_deal_and_its_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world()
    truth = {k: sum(d["status"] == k for d in world.deals) for k in ("won", "lost", "open")}
    broken = [d for d in world.deals if d["status"] == "open"][:10]
    for d in broken:
        d["amount"] = "сто тысяч"
        d["created_at"] = "31.02.2025"
    paths = world.write(tmp_path)
    code, result, _ = audit_world(paths, capsys)
    assert code == 0 and result is not None
    assert {k: result["funnel"][k] for k in truth} == truth
    deals_file = str(paths["deals"])
    dq = result["data_quality"]
    assert dq["rows_rejected"][deals_file] == 0
    assert dq["rows_used"][deals_file] == dq["rows_read"][deals_file] == len(world.deals)
    assert _issue(result, "field_bad_number")["count"] == 10  # type: ignore[index]
    assert _issue(result, "field_bad_date")["count"] == 10  # type: ignore[index]


def test_point5_nan_ids_in_a_parquet_float_column_are_missing_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world()
    paths = world.write(tmp_path)
    ids = [float(d["deal_id"]) for d in world.deals] + [float("nan")] * 3
    table = pa.table({
        "deal_id": pa.array(ids, pa.float64()),
        "source": pa.array([d["source"] for d in world.deals] + ["ads"] * 3),
        "status": pa.array([d["status"] for d in world.deals] + ["won"] * 3),
    })
    pq.write_table(table, tmp_path / "deals.parquet")
    paths["deals"] = tmp_path / "deals.parquet"
    code, result, _ = audit_world(paths, capsys)
    assert code == 0 and result is not None
    assert result["funnel"]["deals"] == len(world.deals)
    assert result["funnel"]["won"] == sum(d["status"] == "won" for d in world.deals)
    text = str(result)
    assert "-9223372036854775808" not in text
    missing = _issue(result, "missing_value")
    assert missing is not None and missing["count"] == 3
    dq = result["data_quality"]
    assert dq["rows_rejected"][str(paths["deals"])] == 3


def test_point5_float_ids_that_are_integers_read_as_integers(tmp_path: Path) -> None:
    from voronka.io import read_deals

    pq.write_table(pa.table({"deal_id": [1.0, 2.0, float("nan"), 40000000001.0]}), tmp_path / "d.parquet")
    result = read_deals(tmp_path / "d.parquet")
    assert result.table.column("deal_id").to_pylist() == ["1", "2", "40000000001"]
    assert [r["reason"] for r in result.rejects.to_pylist()] == ["missing_value"]


def test_point5_nul_bytes_in_ids_are_rejected_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world()
    world.events[0]["deal_id"] = "1\x00"
    paths = world.write(tmp_path)
    code, result, _ = audit_world(paths, capsys)
    assert code == 0 and result is not None
    issue = _issue(result, "bad_id")
    assert issue is not None and issue["count"] == 1 and issue["excluded"] is True
    assert "row 1" in issue["examples"][0]


def test_point3_one_event_in_2099_does_not_move_as_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world()
    latest = max(e["entered_at"] for e in world.events)
    open_deal = next(d for d in world.deals if d["status"] == "open")
    world.events.append({"deal_id": open_deal["deal_id"], "stage": "Qualified",
                         "entered_at": "2099-05-01 10:00"})
    paths = world.write(tmp_path)
    code, result, _ = audit_world(paths, capsys)
    assert code == 0 and result is not None
    assert result["as_of"].startswith(latest[:10])
    issue = _issue(result, "after_data_end")
    assert issue is not None and issue["count"] == 1 and "2099" in issue["examples"][0]
    assert all(s.get("days", 0) < 1000 for s in result["stuck"].get("deals", []))
    dq = result["data_quality"]
    events = str(paths["events"])
    assert dq["rows_rejected"][events] == 1
    assert dq["rows_read"][events] == dq["rows_used"][events] + 1


def test_point3_an_outlier_in_a_deal_date_is_nulled_and_as_of_stays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world()
    latest = max(e["entered_at"] for e in world.events)
    world.deals[3]["created_at"] = "2099-01-01 00:00"
    paths = world.write(tmp_path)
    code, result, _ = audit_world(paths, capsys)
    assert code == 0 and result is not None
    assert result["as_of"].startswith(latest[:10])
    assert _issue(result, "field_after_data_end")["count"] == 1  # type: ignore[index]


def test_point3_user_as_of_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = make_world().write(tmp_path)
    code, result, _ = audit_world(paths, capsys, "--as-of", "2025-03-01")
    assert code == 0 and result is not None and result["as_of"].startswith("2025-03-01")


def test_point7_events_after_closing_are_flagged_and_do_not_count_as_reaching(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world()
    truth = world.reached("Qualified")
    lost_early = [d for d in world.deals if d["status"] == "lost"
                  and not any(e["deal_id"] == d["deal_id"] and e["stage"] == "Qualified"
                              for e in world.events)]
    assert len(lost_early) >= 5
    for d in lost_early[:5]:
        closed = d["closed_at"]
        later = f"{int(closed[:4])}-{closed[5:7]}-{closed[8:10]} 23:59"
        # a month after closing: the deal is moved on by mistake (or re-opened as a new deal)
        month = int(later[5:7]) % 12 + 1
        year = int(later[:4]) + (month == 1)
        world.events.append({"deal_id": d["deal_id"], "stage": "Qualified",
                             "entered_at": f"{year}-{month:02d}-01 10:00"})
    paths = world.write(tmp_path)
    code, result, _ = audit_world(paths, capsys)
    assert code == 0 and result is not None
    reached = next(s["reached"] for s in result["funnel"]["stages"] if s["id"] == "qualified")
    assert reached == truth
    issue = _issue(result, "after_close")
    assert issue is not None and issue["count"] == 5 and issue["excluded"] is True


RU = {"Lead": "Лид", "Qualified": "Квалифицирован", "Proposal": "КП", "Won": "Успех",
      "Lost": "Отказ"}


def _russian_world(tmp_path: Path) -> tuple[int, dict[str, Path]]:
    world = make_world()
    truth = world.reached("Qualified")
    for e in world.events:
        e["stage"] = RU[e["stage"]]
    paths = world.write(tmp_path)
    text = paths["funnel"].read_text(encoding="utf-8")
    for en, ru in RU.items():
        text = text.replace(f'"{en}"', f'"{ru}"')
    paths["funnel"].write_text(text, encoding="utf-8")
    return truth, paths


@pytest.mark.parametrize("order", [("utf-8", "cp1251"), ("cp1251", "utf-8")])
def test_point4_a_file_mixing_utf8_and_1251_is_decoded_line_by_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], order: tuple[str, str]
) -> None:
    truth, paths = _russian_world(tmp_path)
    lines = paths["events"].read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0] = lines[0].replace("stage", "Этап сделки")  # a Russian header
    cut = len(lines) // 4
    paths["events"].write_bytes(
        "".join(lines[:cut]).encode(order[0]) + "".join(lines[cut:]).encode(order[1])
    )
    code, result, _ = audit_world(paths, capsys)
    assert code == 0 and result is not None
    dq = result["data_quality"]
    assert dq["rows_rejected"][str(paths["events"])] == 0
    reached = {s["id"]: s["reached"] for s in result["funnel"]["stages"]}
    assert reached["qualified"] == truth
    assert "inputs.note.mixed_encoding" in dq["notes"]


def test_point4_a_file_losing_most_rows_is_a_first_screen_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from voronka.api import audit
    from voronka.report import render

    world = make_world()
    for e in world.events[: len(world.events) * 3 // 4]:
        e["entered_at"] = "когда-то"
    paths = world.write(tmp_path)
    result = audit(paths["events"], deals=paths["deals"], funnel=paths["funnel"], lang="en")
    assert "inputs.note.most_rows_lost" in result.data_quality.notes
    text = str(render(result, "md", lang="en"))
    head = text[: text.index("## ", text.index("## ") + 3)]  # the report's first section
    assert "More than half of the rows" in head
    first = head.index("Not every row was used")
    assert all(first < head.index(w) for w in ("likely", "leak") if w in head)


@pytest.mark.parametrize("zone", ["+03:00", "+0300", "-05:00"])
def test_point8_offsets_on_events_and_naive_created_at_agree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], zone: str
) -> None:
    world = make_world()
    for e in world.events:  # the same local times, now written with their offset
        e["entered_at"] = e["entered_at"].replace(" ", "T") + ":00" + zone
    paths = world.write(tmp_path)
    code, result, _ = audit_world(paths, capsys)
    assert code == 0 and result is not None
    assert _issue(result, "event_before_created") is None  # none is before its creation
    assert "inputs.note.time_zone" in result["data_quality"]["notes"]
    reached = {s["id"]: s["reached"] for s in result["funnel"]["stages"]}
    assert reached["qualified"] == world.reached("Qualified")


def test_point8_naive_values_inside_a_zoned_column_take_its_offset(tmp_path: Path) -> None:
    from voronka.io import read_events

    path = tmp_path / "events.csv"
    path.write_text("deal_id,stage,entered_at\n1,A,2025-01-01T10:00:00+03:00\n"
                    "1,B,2025-01-01 10:00\n2,A,2025-01-02T12:00:00+03:00\n", encoding="utf-8")
    result = read_events(path)
    times = [t.strftime("%H:%M") for t in result.table.column("entered_at").to_pylist()]
    assert times == ["07:00", "07:00", "09:00"]
    assert result.zones == {"entered_at": 180.0}
