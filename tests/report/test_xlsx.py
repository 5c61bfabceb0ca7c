"""The Excel report opened with openpyxl: sheets, number formats, frozen headers, filters, chart."""

from __future__ import annotations

import dataclasses
import io

import openpyxl

from voronka.audit import AuditResult
from voronka.audit.sources import SourceEconomics
from voronka.report import render
from voronka.report.xlsx import sheet_name

EXPECTED_EN = [
    "Key findings",
    "Funnel",
    "Leaks",
    "Anomalies",
    "Sources",
    "Campaigns",
    "Lost reasons",
    "Stage names",
    "Stuck deals",
    "Stuck by manager",  # the registry's per-manager table, now in XLSX too
    "Stuck deal list",
    "Time in stage and pile-ups",
    "Entry criteria",
    "Key stage",
    "Plan forecast",
    "Forecast backtest",
    "Reverse funnel",
    "Data quality",
    "Data issues",
]


def _book(result: AuditResult, lang: str) -> openpyxl.Workbook:
    data = render(result, "xlsx", lang=lang)
    assert isinstance(data, bytes)
    return openpyxl.load_workbook(io.BytesIO(data))


def test_expected_sheets_in_each_language(result: AuditResult) -> None:
    assert _book(result, "en").sheetnames == EXPECTED_EN
    ru = _book(result, "ru").sheetnames
    assert ru[:3] == ["Главное", "Воронка", "Утечки"]
    assert len(ru) == len(EXPECTED_EN)


def test_every_table_sheet_freezes_its_header_and_filters(result: AuditResult) -> None:
    book = _book(result, "en")
    for ws in book.worksheets[1:]:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title


def test_funnel_sheet_has_typed_cells_and_a_native_chart(result: AuditResult) -> None:
    ws = _book(result, "en")["Funnel"]
    header = [c.value for c in ws[1]]
    assert header[:7] == [
        "Stage", "Reached", "Conversion", "Interval, low", "Interval, high", "Raw conversion",
        "Still open, young",
    ]
    first = ws[2]
    assert first[1].value == 1200 and first[1].number_format == "#,##0"
    assert first[2].value == 0.75 and first[2].number_format == "0.0%"
    assert first[3].value == 0.725 and first[3].number_format == "0.0%"
    assert first[7].number_format == "0.0"  # days
    charts = ws._charts
    assert len(charts) == 1
    assert charts[0].tagname == "barChart"


def test_money_dates_and_booleans(result: AuditResult) -> None:
    book = _book(result, "ru")
    leaks = book["Утечки"]
    assert leaks["C2"].value == 900 and leaks["C2"].number_format == "#,##0"  # n
    assert leaks["D2"].value == 0.5 and leaks["F2"].value == 0.6  # conversion, target
    assert leaks["H2"].value == 90  # whole deals
    assert leaks["I2"].value == 2_160_000.0 and leaks["I2"].number_format == "#,##0"
    assert leaks["N2"].value == "да"
    anomalies = book["Аномалии"]
    assert anomalies["D2"].is_date and anomalies["D2"].number_format == "dd.mm.yyyy"
    assert anomalies["E2"].value == 0.52 and anomalies["E2"].number_format == "0.0%"
    assert anomalies["E3"].value == 62.0 and anomalies["E3"].number_format == "#,##0.0"
    sources = book["Источники"]
    assert sources["I2"].number_format == "+0%;-0%;0%"
    assert sources["C4"].value is None  # no spend: blank, not zero


def test_text_that_looks_like_a_formula_stays_text(result: AuditResult) -> None:
    evil = SourceEconomics('=HYPERLINK("http://x","y")', 1, None, None, 0, None, None, None, 0.0)
    book = _book(dataclasses.replace(result, sources=(evil,)), "en")
    cell = book["Sources"]["A2"]
    assert cell.value == '=HYPERLINK("http://x","y")'
    assert cell.data_type == "s"


def test_empty_result_still_has_every_sheet(empty_result: AuditResult) -> None:
    book = _book(empty_result, "en")
    assert book.sheetnames == EXPECTED_EN
    assert book["Leaks"]["A3"].value == "No data for this section."


def test_sheet_names_are_valid_and_unique() -> None:
    used: set[str] = set()
    assert sheet_name("a/b:c", used) == "a b c"
    assert sheet_name("A/B:C", used) == "A B C (2)"
    long = sheet_name("x" * 40, used)
    assert len(long) == 31
