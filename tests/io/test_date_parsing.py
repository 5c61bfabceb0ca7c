"""Every accepted date format, format mixing within a column, and what is refused."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pytest

from voronka.io import parse_dates, parse_months

MOMENT = datetime(2024, 3, 5, 14, 7, 9)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05", datetime(2024, 3, 5)),
        ("2024-03-05 14:07", datetime(2024, 3, 5, 14, 7)),
        ("2024-03-05 14:07:09", MOMENT),
        ("2024-03-05T14:07:09", MOMENT),
        ("2024-03-05T14:07:09Z", MOMENT),
        ("2024-03-05T14:07:09.250Z", datetime(2024, 3, 5, 14, 7, 9, 250000)),
        ("2024-03-05T17:07:09+03:00", MOMENT),
        ("2024-03-05T09:07:09-0500", MOMENT),
        ("2024-03-05 14:07:09 UTC", MOMENT),
        ("05.03.2024", datetime(2024, 3, 5)),
        ("05.03.2024 14:07", datetime(2024, 3, 5, 14, 7)),
        ("05.03.2024 14:07:09", MOMENT),
        ("5.3.2024 9:05", datetime(2024, 3, 5, 9, 5)),
        ("05.03.24", datetime(2024, 3, 5)),
        ("05/03/2024", datetime(2024, 3, 5)),
        ("1709647629", MOMENT),  # Unix seconds
        ("1709647629000", MOMENT),  # Unix milliseconds
        ("45356", datetime(2024, 3, 5)),  # Excel serial day
        ("45356.25", datetime(2024, 3, 5, 6, 0)),
        ("  05.03.2024  ", datetime(2024, 3, 5)),
    ],
)
def test_each_format(text: str, expected: datetime) -> None:
    assert parse_dates(pa.array([text])).to_pylist() == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "31.02.2024",
        "2024-02-30",
        "2023-02-29",
        "32.01.2024",
        "05.13.2024",
        "2024-03-05 24:00",
        "вчера",
        "12345",
        "5",
        "2024",
        "05.03.2024 14:61",
    ],
)
def test_impossible_dates_are_null(text: str) -> None:
    assert parse_dates(pa.array([text])).to_pylist() == [None]


def test_leap_day_is_a_date() -> None:
    assert parse_dates(pa.array(["29.02.2024"])).to_pylist() == [datetime(2024, 2, 29)]


def test_a_column_may_mix_formats() -> None:
    values = ["2024-03-05 14:07:09", "05.03.2024 14:07", "05.03.2024", "45356", "", None, "x"]
    assert parse_dates(pa.array(values)).to_pylist() == [
        MOMENT,
        datetime(2024, 3, 5, 14, 7),
        datetime(2024, 3, 5),
        datetime(2024, 3, 5),
        None,
        None,
        None,
    ]


def test_slash_dates_are_month_first_only_when_values_show_it() -> None:
    us = parse_dates(pa.array(["03/25/2024", "01/02/2024"])).to_pylist()
    assert us == [datetime(2024, 3, 25), datetime(2024, 1, 2)]
    european = parse_dates(pa.array(["25/03/2024", "01/02/2024"])).to_pylist()
    assert european == [datetime(2024, 3, 25), datetime(2024, 2, 1)]


def test_native_types_pass_through() -> None:
    moscow = timezone(timedelta(hours=3))
    aware = pa.array(
        [datetime(2024, 3, 5, 17, 7, 9, tzinfo=moscow)], pa.timestamp("s", "Europe/Moscow")
    )
    assert parse_dates(aware).to_pylist() == [MOMENT]  # 17:07 in Moscow is 14:07 UTC
    assert parse_dates(pa.array([date(2024, 3, 5)])).to_pylist() == [datetime(2024, 3, 5)]
    assert parse_dates(pa.array([45356.0, 1709647629])).to_pylist() == [
        datetime(2024, 3, 5),
        MOMENT,
    ]


def test_large_column_matches_python_reference() -> None:
    """The vectorised template path against datetime.strftime/strptime on random moments."""
    rng = np.random.default_rng(7)
    seconds = rng.integers(0, 60 * 365 * 86400, 5000)
    moments = [datetime(1990, 1, 1) + np.timedelta64(int(s), "s").item() for s in seconds]
    for fmt in ("%d.%m.%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M", "%Y-%m-%d"):
        texts = [m.strftime(fmt) for m in moments]
        expected = [datetime.strptime(t, fmt) for t in texts]
        assert parse_dates(pa.array(texts)).to_pylist() == expected, fmt


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03", date(2024, 3, 1)),
        ("03.2024", date(2024, 3, 1)),
        ("3/2024", date(2024, 3, 1)),
        ("202403", date(2024, 3, 1)),
        ("Март 2024", date(2024, 3, 1)),
        ("марта 2024 г.", date(2024, 3, 1)),
        ("March 2024", date(2024, 3, 1)),
        ("Sep 2024", date(2024, 9, 1)),
        ("2024-03-17", date(2024, 3, 1)),
        ("17.03.2024", date(2024, 3, 1)),
        ("2024-13", None),
        ("весна", None),
    ],
)
def test_months(text: str, expected: date | None) -> None:
    assert parse_months(pa.array([text])).to_pylist() == [expected]


def test_the_second_chance_pass_trims_retries_templates_then_asks_the_last_step() -> None:
    from voronka.io import dates, leftovers

    arr = pa.array(["  2024-03-05 ", "soon", " 05.03.2024 10:15"], pa.string())
    out = np.full(3, dates.NULL_MICROS, dtype=np.int64)
    asked: list[list[str]] = []

    def last(left: pa.Array) -> np.ndarray:
        asked.append(left.to_pylist())
        return np.full(len(left), 7, dtype=np.int64)

    dates.second_chance(arr, np.arange(3), out, dates._TEMPLATES, last)
    micros = [int((d - datetime(1970, 1, 1)) / timedelta(microseconds=1))
              for d in (datetime(2024, 3, 5), datetime(2024, 3, 5, 10, 15))]
    assert out.tolist() == [micros[0], 7, micros[1]]
    assert asked == [["soon"]]  # trimmed values the templates fit never reach the last step
    # The backend's leftovers and the readers make the same pass, not two copies of it.
    assert leftovers.second_chance is dates.second_chance
    values, exact = leftovers.date_values(pa.array([" 2024-03-05", "1709596800"]))
    assert values.to_pylist() == [datetime(2024, 3, 5), datetime(2024, 3, 5)] and exact
