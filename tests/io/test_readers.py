"""Lenient and strict reading, row numbers, --map, unusable files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from voronka.errors import InputError
from voronka.io import (
    REJECT_REASONS,
    describe_reject,
    read_deals,
    read_events,
    read_raw,
    read_spend,
)

GOOD = """deal_id,stage,entered_at,amount
1,Новая заявка,2024-03-01 10:00,100
1,Квалификация,2024-03-02 10:00,100
2,Новая заявка,2024-03-03 10:00,200
"""


def write(tmp_path: Path, text: str, name: str = "events.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_rows_are_numbered_from_one_after_the_header(tmp_path: Path) -> None:
    result = read_events(write(tmp_path, GOOD))
    assert result.table.column("_row").to_pylist() == [1, 2, 3]
    assert result.rows_read == 3 and result.rejects.num_rows == 0


def test_bad_date_in_row_n_is_rejected_with_n(tmp_path: Path) -> None:
    text = GOOD + "3,Новая заявка,31.02.2024,300\n4,Новая заявка,2024-03-04 10:00,abc\n"
    result = read_events(write(tmp_path, text))
    assert result.rows_read == 5
    assert result.table.num_rows + result.rejects.num_rows == result.rows_read
    # the bad amount of row 5 is an optional field: nulled and reported, the row kept
    assert result.table.column("deal_id").to_pylist() == ["1", "1", "2", "4"]
    assert result.table.column("amount").to_pylist()[-1] is None
    rejects = result.rejects.to_pylist()
    assert len(rejects) == 1
    assert rejects[0]["row"] == 4
    assert rejects[0]["reason"] == "bad_date"
    assert rejects[0]["column"] == "entered_at"
    assert rejects[0]["value"] == "31.02.2024"
    issues = result.field_issues.to_pylist()
    assert [(i["row"], i["reason"], i["value"]) for i in issues] == [(5, "bad_number", "abc")]
    assert set(result.rejects.column("reason").to_pylist()) <= set(REJECT_REASONS)


def test_strict_mode_raises_at_the_first_bad_row(tmp_path: Path) -> None:
    text = GOOD + "3,Новая заявка,2024-03-04 10:00,300\n4,Новая заявка,вчера,400\n5,,2024-03-05,1\n"
    with pytest.raises(InputError) as caught:
        read_events(write(tmp_path, text), strict=True)
    error = caught.value
    assert error.row == 5
    assert error.column == "entered_at"
    assert error.file is not None and error.file.endswith("events.csv")
    assert "вчера" in error.message and error.expected and "31.03.2024" in error.expected
    assert "row 5" in str(error)


def test_first_fault_of_a_row_is_its_reason(tmp_path: Path) -> None:
    text = "deal_id,stage,entered_at\n,,not a date\n"
    result = read_events(write(tmp_path, text))
    assert result.rejects.to_pylist() == [
        {
            "row": 1,
            "column": "deal_id",
            "reason": "missing_value",
            "value": None,
            "message": "the required value is empty",
        }
    ]


def test_missing_required_column_names_it_and_lists_headers(tmp_path: Path) -> None:
    path = write(tmp_path, "ID сделки;Дата\n1;2024-01-01\n")
    with pytest.raises(InputError) as caught:
        read_events(path)
    error = caught.value
    assert error.column == "stage"
    assert "stage" in str(error) and "'ID сделки'" in str(error) and "'Дата'" in str(error)


def test_map_overrides_aliases(tmp_path: Path) -> None:
    path = write(tmp_path, "Номер,Куда,Когда,Этап\n1,Встреча,01.03.2024,мусор\n")
    result = read_events(
        path, column_map={"deal_id": "Номер", "stage": "Куда", "entered_at": "Когда"}
    )
    assert result.column_mapping["stage"] == "Куда"
    assert result.table.column("stage").to_pylist() == ["Встреча"]
    assert result.table.column("Этап").to_pylist() == ["мусор"]  # kept as an extra column


def test_map_header_not_in_file_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    with pytest.raises(InputError) as caught:
        read_events(path, column_map={"stage": "Стадия воронки"})
    assert caught.value.column == "Стадия воронки"
    assert "'entered_at'" in str(caught.value)  # the headers found are listed


def test_map_for_another_files_optional_column_is_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    result = read_events(path, column_map={"cost": "Расход", "source": "Канал"})
    assert result.rows_read == 3 and "source" not in result.table.column_names


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"deal_id,stage,entered_at\n", "no data rows"),
        (b"\x00\x01\x02\x03garbage\x00" * 50, "not text"),
        (b"PK\x03\x04 not really a zip", "cannot read"),
    ],
)
def test_unusable_files_raise_input_error(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "events.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read_events(path)
    assert words in str(caught.value)
    assert caught.value.file == str(path)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_deals(tmp_path / "nope.csv")


def test_wholly_empty_rows_are_not_data_but_keep_numbering(tmp_path: Path) -> None:
    text = "deal_id;stage;entered_at\n1;A;2024-01-01\n;;\n2;B;2024-01-02\n"
    result = read_events(write(tmp_path, text))
    assert result.rows_read == 2
    assert result.table.column("_row").to_pylist() == [1, 3]


def test_lines_with_too_many_fields_are_rejected_as_bad_rows(tmp_path: Path) -> None:
    text = "deal_id,stage,entered_at\n1,A,2024-01-01\n2,B,2024-01-02,extra\n3,C\n"
    result = read_events(write(tmp_path, text))
    assert result.rows_read == 3
    assert result.rejects.to_pylist()[0]["row"] == 2
    assert result.rejects.to_pylist()[0]["reason"] == "bad_row"
    # A short line is padded: its missing date is a missing value, not a shifted row.
    assert result.rejects.to_pylist()[1]["row"] == 3
    assert result.rejects.to_pylist()[1]["reason"] == "missing_value"
    with pytest.raises(InputError) as caught:
        read_events(write(tmp_path, text), strict=True)
    assert caught.value.row == 2


def test_multiline_quoted_cells(tmp_path: Path) -> None:
    text = (
        'deal_id,stage,entered_at,comment\n1,A,2024-01-01,"line one\nline two"\n2,B,2024-01-02,ok\n'
    )
    result = read_events(write(tmp_path, text))
    assert result.table.column("comment").to_pylist() == ["line one\nline two", "ok"]
    assert result.table.column("_row").to_pylist() == [1, 2]


def test_bad_status_and_bad_month(tmp_path: Path) -> None:
    deals = write(tmp_path, "id,status\n1,won\n2,maybe\n", name="deals.csv")
    result = read_deals(deals)
    assert result.rejects.num_rows == 0  # a bad status is nulled, the deal kept
    assert result.field_issues.to_pylist()[0]["reason"] == "bad_status"
    assert result.field_issues.to_pylist()[0]["row"] == 2
    spend = write(tmp_path, "source,month,cost\nvk,2024-13,10\nvk,,5\n", name="spend.csv")
    reasons = [r["reason"] for r in read_spend(spend).rejects.to_pylist()]
    assert reasons == ["bad_month", "missing_value"]


def test_ids_stay_strings(tmp_path: Path) -> None:
    text = (
        "deal_id,stage,entered_at\n 00123 ,A,2024-01-01\n123.0,A,2024-01-01\n12 345,A,2024-01-01\n"
    )
    ids = read_events(write(tmp_path, text)).table.column("deal_id").to_pylist()
    assert ids == ["00123", "123", "12345"]


def test_extra_columns_are_kept_as_read(tmp_path: Path) -> None:
    text = "deal_id,stage,entered_at,Отрасль,Город\n1,A,2024-01-01,Ритейл,\n"
    table = read_events(write(tmp_path, text)).table
    assert table.column("Отрасль").to_pylist() == ["Ритейл"]
    assert table.column("Город").to_pylist() == [None]


def test_progress_is_reported_to_the_end(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    path = write(tmp_path, GOOD * 1)
    read_events(path, progress=lambda done, total: calls.append((done, total)))
    size = path.stat().st_size
    assert calls and calls[-1] == (size, size)
    assert all(0 <= done <= total == size for done, total in calls)


def test_read_raw_keeps_every_column_as_text(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path, "a;b\n1;01.02.2024\n", name="x.csv"))
    assert raw.headers == ["a", "b"]
    assert raw.table.column("b").to_pylist() == ["01.02.2024"]
    assert raw.table.column("_row").to_pylist() == [1]


def test_timezone_offsets_become_naive_utc(tmp_path: Path) -> None:
    text = "deal_id,stage,entered_at\n1,A,2024-03-01T12:00:00+03:00\n2,A,2024-03-01T12:00:00Z\n"
    dates = read_events(write(tmp_path, text)).table.column("entered_at").to_pylist()
    assert dates == [datetime(2024, 3, 1, 9, 0), datetime(2024, 3, 1, 12, 0)]


def test_rejects_can_be_told_in_both_languages(tmp_path: Path) -> None:
    text = GOOD + "3,Новая заявка,31.02.2024,300\n"
    reject = read_events(write(tmp_path, text)).rejects.to_pylist()[0]
    ru = describe_reject(reject, "ru")
    en = describe_reject(reject, "en")
    assert "строка данных 4" in ru and "строка 5" in ru and "31.02.2024" in ru
    assert "data row 4 (row 5 in a spreadsheet)" in en and "not a date" in en
