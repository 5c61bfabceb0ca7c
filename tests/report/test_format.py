"""Locale formatting: separators, percentages, missing values, dates, Russian plurals."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from voronka.report.format import (
    MISSING,
    NBSP,
    format_date,
    format_datetime,
    format_int,
    format_interval,
    format_number,
    format_percent,
    format_signed_percent,
    plotly_separators,
    plural,
)


def test_format_number_uses_locale_separators() -> None:
    assert format_number(1234.5, "ru", 1) == f"1{NBSP}234,5"
    assert format_number(1234.5, "en", 1) == "1,234.5"
    assert format_number(1234567, "ru") == f"1{NBSP}234{NBSP}567"
    assert format_number(1234567, "en") == "1,234,567"


def test_format_number_rounds_and_never_shows_minus_zero() -> None:
    assert format_number(2.25, "en", 1) in ("2.2", "2.3")
    assert format_number(-0.04, "en", 1) == "0.0"
    assert format_number(-1500, "ru") == f"-1{NBSP}500"


@pytest.mark.parametrize("value", [None, float("nan"), float("inf")])
def test_missing_values_show_as_dash(value: float | None) -> None:
    assert format_number(value, "ru") == MISSING
    assert format_percent(value, "en") == MISSING
    assert format_signed_percent(value, "en") == MISSING


def test_format_percent_follows_each_language_typography() -> None:
    assert format_percent(0.123, "ru") == f"12,3{NBSP}%"
    assert format_percent(0.123, "en") == "12.3%"
    assert format_percent(0.23, "en", 0) == "23%"


def test_format_interval() -> None:
    assert format_interval((0.1, 0.25), "ru") == f"10,0–25,0{NBSP}%"
    assert format_interval((0.1, 0.25), "en") == "10.0–25.0%"
    assert format_interval(None, "en") == MISSING


def test_signed_percent_marks_direction() -> None:
    assert format_signed_percent(1.2, "en") == "+120%"
    assert format_signed_percent(-0.35, "en") == "−35%"
    assert format_signed_percent(0.0, "en") == "0%"


def test_dates_per_language() -> None:
    assert format_date(date(2024, 3, 5), "ru") == "05.03.2024"
    assert format_date(date(2024, 3, 5), "en") == "5 Mar 2024"
    assert format_datetime(datetime(2024, 3, 5, 0, 0), "en") == "5 Mar 2024"
    assert format_datetime(datetime(2024, 3, 5, 9, 7), "ru") == "05.03.2024 09:07"


def test_plotly_separators_are_decimal_then_thousands() -> None:
    assert plotly_separators("ru") == f",{NBSP}"
    assert plotly_separators("en") == ".,"


@pytest.mark.parametrize(
    ("count", "ru", "en"),
    [
        (1, "сделка", "deal"),
        (2, "сделки", "deals"),
        (5, "сделок", "deals"),
        (11, "сделок", "deals"),
        (21, "сделка", "deals"),
        (24, "сделки", "deals"),
        (2.5, "сделки", "deals"),
    ],
)
def test_plural_agrees_with_count(count: float, ru: str, en: str) -> None:
    assert plural("deal", count, "ru") == ru
    assert plural("deal", count, "en") == en


def test_money_short_rounds_for_reading() -> None:
    """Hand-checked: three significant digits at most, the unit in words, no currency sign;
    small amounts stay whole."""
    from voronka.report.format import format_money_short

    assert format_money_short(77_300_517, "ru") == f"77,3{NBSP}млн"
    assert format_money_short(77_300_517, "en") == f"77.3{NBSP}M"
    assert format_money_short(174_873_885, "ru") == f"175{NBSP}млн"
    assert format_money_short(845_200, "ru") == f"845{NBSP}тыс."
    assert format_money_short(26_045, "en") == f"26.0{NBSP}K"
    assert format_money_short(2_500_000_000, "en") == f"2.5{NBSP}B"
    assert format_money_short(9_999, "ru") == f"9{NBSP}999"
    assert format_money_short(-1_260_000, "en") == f"-1.3{NBSP}M"
    assert format_money_short(None, "ru") == MISSING


def test_a_fraction_of_a_lost_deal_is_not_shown_as_zero() -> None:
    """A leak losing 0.3 deals (and 2,190 of revenue) read "0 deals lost" beside the money."""
    from voronka.report.format import format_deals

    assert format_deals(0.3026, "en") == "0.3"
    assert format_deals(0.3026, "ru") == "0,3"
    assert format_deals(134.23, "en") == "134"
    assert format_deals(0.0, "en") == "0"
    assert format_deals(0.97, "en") == "1"
    assert format_deals(None, "en") == format_int(None, "en")


def test_the_leaks_tables_show_a_fraction_of_a_lost_deal() -> None:
    import dataclasses

    from sample_result import make_result

    from voronka.report import render

    result = make_result()
    small = dataclasses.replace(result.leaks[0], lost_deals=0.3026, lost_revenue=2190.16)
    one = dataclasses.replace(result, leaks=(small, *result.leaks[1:]))
    text = str(render(one, "text", lang="en"))
    row = next(ln for ln in text.splitlines() if ln.rstrip().endswith("2,190"))
    assert " 0.3 " in row
    assert "0.3 deals lost. That is about 2,190 of revenue missed" in text
    assert "0,3 сделки" in str(render(one, "text", lang="ru"))
    from voronka.report.names import build_labels
    from voronka.report.tabulate import leaks_table

    table = leaks_table(one, build_labels(one, "en", None))
    column = [c.key for c in table.columns].index("lost_deals")
    assert table.rows[0][column].text == "0.3"


def test_short_times_in_days_are_not_shown_as_zero() -> None:
    """A web-session log's limit of 7 minutes read "0" days in the stuck table beside "over 7 min"
    in the finding; a time too short for the decimals gets two significant digits."""
    from voronka.report.format import format_days, format_limit_days

    assert format_days(7 / 1440, "en") == "0.0049"
    assert format_days(7 / 1440, "ru", 0) == "0,0049"
    assert format_days(0.3, "en", 0) == "0.3"
    assert format_days(0.04, "en") == "0.04"
    assert format_days(0.0, "en") == "0.0"  # no time is still zero
    assert format_days(3.25, "en") == "3.2" or format_days(3.25, "en") == "3.3"
    assert format_limit_days(14.8, "en") == "14.8"
    assert format_limit_days(15.0, "en") == "15"
    assert format_limit_days(7 / 1440, "en") == "0.0049"
