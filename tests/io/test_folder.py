"""A folder as input: its events, deals, spend, funnel files and CRM exports found by name and by
content; missing or ambiguous contents are clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_fixtures import AMO_HEADERS, AMO_ROWS, amo_row, write_csv, write_xlsx

from voronka.errors import InputError
from voronka.io.folder import peek_table, role_by_content, role_by_name, scan_folder
from voronka.io.inputs import open_inputs

EVENTS = (("deal_id", "stage", "entered_at", "source"), [
    ("1", "Новая заявка", "2025-01-06 10:00", "SEO"),
    ("1", "Квалификация пройдена", "2025-01-07 10:00", "SEO"),
    ("2", "Новая заявка", "2025-01-06 11:00", "Директ"),
    ("2", "Встреча назначена", "2025-01-09 11:00", "Директ"),
])
DEALS = (("deal_id", "created_at", "manager", "amount", "status"), [
    ("1", "2025-01-06 10:00", "Анна", "1000", "open"),
    ("2", "2025-01-06 11:00", "Борис", "2000", "won"),
])
SPEND = (("source", "month", "cost"), [("SEO", "2025-01", "5000"), ("Директ", "2025-01", "9000")])
FUNNEL = """name = "Мини"
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


def _write(path: Path, table: tuple[tuple[str, ...], list[tuple[str, ...]]]) -> Path:
    return write_csv(path, table[0], table[1])


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("events.csv", "events"), ("События.xlsx", "events"), ("история_этапов.csv", "events"),
        ("stage_history.parquet", "events"), ("deals.csv", "deals"), ("Сделки.xlsx", "deals"),
        ("leads.csv.gz", "deals"), ("spend.csv", "spend"), ("Расходы 2025.xlsx", "spend"),
        ("ad_costs.csv", "spend"), ("data.csv", None), ("report.csv", None),
    ],
)
def test_roles_by_name(name: str, role: str | None) -> None:
    assert role_by_name(Path(name)) == role


def test_roles_by_content(tmp_path: Path) -> None:
    assert role_by_content(peek_table(_write(tmp_path / "a.csv", EVENTS))) == "events"
    assert role_by_content(peek_table(_write(tmp_path / "b.csv", DEALS))) == "deals"
    assert role_by_content(peek_table(_write(tmp_path / "c.csv", SPEND))) == "spend"
    export = write_xlsx(tmp_path / "d.xlsx", AMO_HEADERS, AMO_ROWS)
    assert role_by_content(peek_table(export)) == "export"
    (tmp_path / "e.txt").write_text("hello\nworld\n", encoding="utf-8")
    assert role_by_content(peek_table(tmp_path / "e.txt")) == "unknown"


def test_folder_by_name(tmp_path: Path) -> None:
    events = _write(tmp_path / "events.csv", EVENTS)
    deals = _write(tmp_path / "deals.csv", DEALS)
    spend = _write(tmp_path / "spend.csv", SPEND)
    funnel = tmp_path / "funnel.toml"
    funnel.write_text(FUNNEL, encoding="utf-8")
    (tmp_path / ".voronka-pull.json").write_text("{}", encoding="utf-8")
    found = scan_folder(tmp_path)
    assert (found.events, found.deals, found.spend, found.funnel) == (events, deals, spend, funnel)
    assert found.exports == ()


def test_folder_by_content_when_names_do_not_tell(tmp_path: Path) -> None:
    a = _write(tmp_path / "data1.csv", EVENTS)
    b = _write(tmp_path / "data2.csv", DEALS)
    c = _write(tmp_path / "data3.csv", SPEND)
    (tmp_path / "my-pipeline.toml").write_text(FUNNEL, encoding="utf-8")
    found = scan_folder(tmp_path)
    assert (found.events, found.deals, found.spend) == (a, b, c)
    assert found.funnel == tmp_path / "my-pipeline.toml"  # the only TOML file


def test_export_in_a_folder_is_recognised_whatever_its_name(tmp_path: Path) -> None:
    export = write_csv(tmp_path / "deals.csv", AMO_HEADERS, AMO_ROWS, delimiter=";")
    spend = _write(tmp_path / "расходы.csv", SPEND)
    inputs = open_inputs(tmp_path)
    assert (inputs.kind, inputs.crm) == ("folder", "amocrm")
    assert inputs.deals is not None and inputs.deals.file == str(export)
    assert inputs.spend is not None and inputs.spend.file == str(spend)
    assert "exports.limit.snapshot" in inputs.limitations


def test_several_exports_in_a_folder_are_a_series(tmp_path: Path) -> None:
    rows1 = [amo_row(1, "Первичный контакт", "01.02.2025 10:00:00")]
    rows2 = [amo_row(1, "Переговоры", "01.02.2025 10:00:00")]
    write_csv(tmp_path / "amo-2025-02-01.csv", AMO_HEADERS, rows1, delimiter=";")
    write_csv(tmp_path / "amo-2025-03-01.csv", AMO_HEADERS, rows2, delimiter=";")
    inputs = open_inputs(tmp_path)
    assert inputs.kind == "folder" and inputs.crm == "amocrm"
    assert "exports.limit.approximate_dates" in inputs.limitations
    assert inputs.events.table.column("approximate").to_pylist() == [False, True]


def test_folder_input_reads_every_file(tmp_path: Path) -> None:
    _write(tmp_path / "stage_history.csv", EVENTS)
    _write(tmp_path / "сделки.csv", DEALS)
    _write(tmp_path / "costs.csv", SPEND)
    (tmp_path / "funnel.toml").write_text(FUNNEL, encoding="utf-8")
    inputs = open_inputs(tmp_path)
    assert inputs.kind == "folder" and inputs.crm is None and inputs.limitations == ()
    assert (inputs.events.rows_read, inputs.deals.rows_read, inputs.spend.rows_read) == (  # type: ignore[union-attr]
        4, 2, 2)
    assert inputs.funnel_path == tmp_path / "funnel.toml"
    # A --funnel given on the command line: the folder's is not looked for.
    assert open_inputs(tmp_path, funnel=tmp_path / "funnel.toml").funnel_path is None


def test_folder_without_events_lists_what_it_found(tmp_path: Path) -> None:
    _write(tmp_path / "deals.csv", DEALS)
    _write(tmp_path / "spend.csv", SPEND)
    (tmp_path / "notes.txt").write_text("hello\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        scan_folder(tmp_path)
    text = str(err.value)
    assert "no events file" in text
    assert "deals.csv (deals)" in text and "spend.csv (spend)" in text and "notes.txt" in text


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no table files"):
        scan_folder(tmp_path)


def test_two_events_files_are_ambiguous(tmp_path: Path) -> None:
    _write(tmp_path / "events.csv", EVENTS)
    _write(tmp_path / "events-old.csv", EVENTS)
    with pytest.raises(InputError) as err:
        scan_folder(tmp_path)
    assert "several events files" in str(err.value)
    assert "events.csv" in str(err.value) and "events-old.csv" in str(err.value)


def test_several_toml_files_without_funnel_toml_are_ambiguous(tmp_path: Path) -> None:
    _write(tmp_path / "events.csv", EVENTS)
    (tmp_path / "a.toml").write_text(FUNNEL, encoding="utf-8")
    (tmp_path / "b.toml").write_text(FUNNEL, encoding="utf-8")
    with pytest.raises(InputError, match="several TOML files"):
        scan_folder(tmp_path)
    assert scan_folder(tmp_path, need_funnel=False).funnel is None
