"""Numbers as people write them, and status words in Russian and English."""

from __future__ import annotations

import pyarrow as pa
import pytest

from voronka.io import normalize_status, parse_number, parse_numbers, status_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.56", 1234.56),
        ("1 234,56", 1234.56),
        ("1\u00a0234,56", 1234.56),
        ("1\u202f234", 1234.0),
        ("1,234.56", 1234.56),
        ("1.234,56", 1234.56),
        ("1.234.567", 1234567.0),
        ("12,5", 12.5),
        ("₽ 1 500", 1500.0),
        ("1500 руб.", 1500.0),
        ("1 500 руб", 1500.0),
        ("$1,500.00", 1500.0),
        ("-20", -20.0),
        ("(20)", -20.0),
        ("abc", None),
        ("1,2,3.4.5", None),
        ("", None),
    ],
)
def test_parse_number(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


def test_column_grouping_thousands_with_commas() -> None:
    """A column whose commas are always followed by three digits groups thousands."""
    assert parse_numbers(pa.array(["1,500", "12,000", "300"])).to_pylist() == [1500, 12000, 300]
    assert parse_numbers(pa.array(["1,500", "2,5"])).to_pylist() == [1.5, 2.5]


def test_parse_numbers_keeps_nulls_and_native_numbers() -> None:
    assert parse_numbers(pa.array(["10", None, "x"])).to_pylist() == [10.0, None, None]
    assert parse_numbers(pa.array([1, 2], pa.int32())).to_pylist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("won", "won"),
        ("Win", "won"),
        ("SUCCESS", "won"),
        ("Closed Won", "won"),
        ("closedwon", "won"),
        ("Выиграна", "won"),
        ("Успешно реализовано", "won"),
        ("Сделка успешна", "won"),
        ("успешно", "won"),
        ("Оплачено", "won"),
        ("lost", "lost"),
        ("Lose", "lost"),
        ("Closed Lost", "lost"),
        ("Проиграна", "lost"),
        ("Закрыто и не реализовано", "lost"),
        ("Сделка провалена", "lost"),
        ("Отказ", "lost"),
        ("провалена", "lost"),
        ("lost_declined", "lost"),
        ("open", "open"),
        ("Active", "open"),
        ("In progress", "open"),
        ("В работе", "open"),
        ("Открыта", "open"),
        ("активна", "open"),
        ("", ""),
        ("unknown", ""),
        ("not_won_or_open", ""),
        ("maybe", None),
        ("Встреча", None),
    ],
)
def test_status_words(word: str, status: str | None) -> None:
    assert status_of(word) == status


def test_normalize_status_column() -> None:
    status, recognised = normalize_status(pa.array(["Won", " в работе ", None, "", "-", "x"]))
    assert status.to_pylist() == ["won", "open", None, None, None, None]
    assert recognised.to_pylist() == [True, True, True, True, True, False]
