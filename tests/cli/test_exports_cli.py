"""``voronka audit`` on a folder, a CRM export and a series of snapshots, end to end through
``voronka.cli.main``; the export fixtures are written by the tests (tests/io/export_fixtures.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))

from export_fixtures import AMO_HEADERS, AMO_ROWS, amo_row, write_csv  # noqa: E402

from voronka.cli import main  # noqa: E402
from voronka.i18n import t  # noqa: E402

EVENTS = """deal_id,stage,entered_at
1,Новая заявка,2025-01-06 10:00
1,Квалификация пройдена,2025-01-07 10:00
1,Встреча назначена,2025-01-09 10:00
2,Новая заявка,2025-01-06 11:00
2,Квалификация пройдена,2025-01-10 11:00
3,Новая заявка,2025-01-08 09:00
"""
DEALS = """ID сделки;Дата создания;Источник;Ответственный;Бюджет;Статус
1;06.01.2025;SEO;Анна;1000;в работе
2;06.01.2025;Директ;Борис;2000;в работе
3;08.01.2025;Директ;Борис;500;отказ
"""
SPEND = "source,month,cost\nSEO,2025-01,3000\nДирект,2025-01,7000\n"
FUNNEL = """name = "Мини-воронка"
language = "ru"
[[stage]]
id = "new"
name = "Новая заявка"
[[stage]]
id = "qualified"
name = "Квалификация пройдена"
[[stage]]
id = "meeting"
name = "Встреча назначена"
"""


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_folder_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Files named in Russian and English, a funnel file: found and used with one argument."""
    (tmp_path / "история.csv").write_text(EVENTS, encoding="utf-8")
    (tmp_path / "сделки.csv").write_text(DEALS, encoding="cp1251")
    (tmp_path / "spend.csv").write_text(SPEND, encoding="utf-8")
    (tmp_path / "funnel.toml").write_text(FUNNEL, encoding="utf-8")
    code, out, err = run(["audit", str(tmp_path), "--format", "json", "-o", "-"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert [s["id"] for s in result["funnel"]["stages"]] == ["new", "qualified", "meeting"]
    assert [s["reached"] for s in result["funnel"]["stages"]] == [3, 2, 1]
    assert (result["funnel"]["deals"], result["funnel"]["lost"]) == (3, 1)
    rows_read = {Path(f).name: n for f, n in result["data_quality"]["rows_read"].items()}
    assert rows_read == {"история.csv": 6, "сделки.csv": 3, "spend.csv": 2}


def test_snapshot_export_states_its_limits(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "amocrm_export.csv", AMO_HEADERS, AMO_ROWS, delimiter=";")
    code, out, err = run(["audit", str(path), "--format", "json", "-o", "-"], capsys)
    assert code == 0, err
    result = json.loads(out)
    notes = result["data_quality"]["notes"]
    for key in ("exports.limit.snapshot", "exports.limit.no_time_in_stage",
                "exports.limit.lost_stage_unknown", "exports.limit.pull.amocrm"):
        assert key in notes
    assert result["funnel"]["lost"] == 2
    assert result["funnel"]["stages"][0]["reached"] == 5  # the 2 lost deals are counted apart

    code, out, err = run(["audit", str(path), "--lang", "en", "-o", "-"], capsys)
    assert code == 0, err
    flat = " ".join(out.split())
    assert t("exports.notes.title", "en") in flat
    assert "voronka pull amocrm --out DIR" in flat
    assert " ".join(t("exports.limit.snapshot", "en").split()) in flat


def test_series_of_snapshots_on_the_command_line(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    paths = []
    for day, stage in (("01", "Первичный контакт"), ("15", "Переговоры")):
        rows = [amo_row(1, stage, "01.02.2025 10:00:00"),
                amo_row(2, "Первичный контакт", "02.02.2025 10:00:00")]
        paths.append(str(write_csv(tmp_path / f"export-2025-03-{day}.csv", AMO_HEADERS, rows,
                                   delimiter=";")))
    code, out, err = run(["audit", *paths, "--format", "json", "-o", "-"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert "exports.limit.approximate_dates" in result["data_quality"]["notes"]
    reach = {s["id"]: s["reached"] for s in result["funnel"]["stages"]}
    assert (reach["first_contact"], reach["negotiation"]) == (2, 1)


def test_folder_without_events_exits_2_listing_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "сделки.csv").write_text(DEALS, encoding="utf-8")
    (tmp_path / "spend.csv").write_text(SPEND, encoding="utf-8")
    code, _, err = run(["audit", str(tmp_path), "--format", "json", "--lang", "en"], capsys)
    assert code == 2
    flat = " ".join(err.split())
    assert "no events file" in flat and "сделки.csv (deals)" in flat and "spend.csv" in flat
    assert "Traceback" not in err
    code, _, err = run(["audit", str(tmp_path), "--format", "json", "--lang", "ru"], capsys)
    flat = " ".join(err.split())
    assert code == 2 and "нет ни файла событий" in flat and "сделки.csv (сделки)" in flat


def test_ambiguous_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    (tmp_path / "events_2024.csv").write_text(EVENTS, encoding="utf-8")
    code, _, err = run(["audit", str(tmp_path), "--lang", "en"], capsys)
    assert code == 2
    assert "several events files" in " ".join(err.split())


def test_several_inputs_that_are_not_exports_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = tmp_path / "events.csv"
    a.write_text(EVENTS, encoding="utf-8")
    b = tmp_path / "more.csv"
    b.write_text(EVENTS, encoding="utf-8")
    code, _, err = run(["audit", str(a), str(b), "--lang", "en"], capsys)
    assert code == 2
    assert "not a CRM deal export" in " ".join(err.split())
