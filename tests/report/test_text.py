"""The terminal report: what a head of sales reads, at 80 and 120 columns, in Russian and English."""

from __future__ import annotations

import dataclasses
import re

import pytest
from sample_result import IMG_XSS, STAGES

from voronka.audit import AuditResult
from voronka.audit.stuck import StuckStage
from voronka.report import render_text
from voronka.report.findings import select_findings
from voronka.report.format import NBSP
from voronka.report.names import build_labels


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_tables_fit_the_width_and_show_every_stage_name(
    result: AuditResult, width: int, lang: str
) -> None:
    """No line runs past the console, no header or cell is cut with "…", and every stage name
    of the funnel table is there in full (on one line: the names fit at 80 columns)."""
    text = render_text(result, lang=lang, width=width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "…" not in text.replace("…, ", "").replace("… ", "")
    funnel = text[text.index("\n" + ("Воронка" if lang == "ru" else "Funnel")) :]
    for _, name, *_ in STAGES:
        assert any(name in line for line in funnel.splitlines()), name


def test_numbers_keep_their_units_on_one_line(result: AuditResult) -> None:
    """Wrapping never splits "2,2 млн" or "50,0 %" (rich would break at the no-break space)."""
    text = render_text(result, lang="ru", width=80)
    for line in text.splitlines():
        stripped = line.rstrip()
        assert not stripped.endswith(("2,2", "50,0", "23")) or "│" in stripped, line
    assert f"2,2{NBSP}млн" in text


def test_limits_of_the_input_come_first(result: AuditResult) -> None:
    """A note key found in the catalogue is a visible warning above the findings; a key the
    catalogue lacks is not shown (nor does it break the report)."""
    text = render_text(result, lang="en", width=100)
    assert text.index("Limits of the input") < text.index("Key findings")
    assert "snapshot of the CRM" in text
    assert "not.a.message.key" not in text
    quiet = dataclasses.replace(
        result, data_quality=dataclasses.replace(result.data_quality, notes=())
    )
    assert "Limits of the input" not in render_text(quiet, lang="en")


def test_text_has_what_issues_3_4_5_ask_for(result: AuditResult) -> None:
    """The costliest leaks and the anomalies in words; wrong statuses with renames, pile-ups,
    stuck deals per manager; the key stage with why, the plan in words, the backtest and the
    reverse funnel."""
    text = re.sub(r"\n +", " ", render_text(result, lang="en", width=120))  # unwrap
    assert text.count("● alert: Leak:") == 3
    assert "Conversion fell: Квалификация пройдена →" in text
    assert "38.0% since 5 Feb 2024, where 52.0% was expected without the change" in text
    assert f"“{IMG_XSS}” → “Встреча назначена”" in text
    assert "Deals pile up in “Квалификация пройдена”" in text
    assert "By manager: Анна — 21 of 50" in text
    assert "Stuck deals by manager" in text
    assert "won 44% of the time, against 13% at the stage before (+31\u00a0pp)" in text
    assert "23% likely to reach 40 deals by 31 Mar 2024; expected 31, 80% range 25–38." in text
    assert "Backtest of the forecast" in text and "Feb 2024" in text
    assert "in 1 of 2 months" in text
    assert "Reverse funnel" in text and "needs 400 leads" in text


@pytest.mark.parametrize(
    ("count", "headline"),
    [
        (21, "Зависла 21 сделка в «Квалификация пройдена»"),
        (23, "Зависли 23 сделки в «Квалификация пройдена»"),
        (25, "Зависло 25 сделок в «Квалификация пройдена»"),
        (111, "Зависло 111 сделок в «Квалификация пройдена»"),
    ],
)
def test_russian_verb_and_noun_agree_with_the_number(
    result: AuditResult, count: int, headline: str
) -> None:
    """Hand-checked Russian: the verb agrees with the numeral as the noun does (1 → singular
    feminine, 2–4 → plural, 5+ and 11–14 → neuter singular)."""
    stuck = dataclasses.replace(
        result.stuck, stages=(StuckStage("qualified", 200, count, 7.0),), by_manager=()
    )
    one = dataclasses.replace(result, stuck=stuck)
    found = [f for f in select_findings(one, build_labels(one, "ru", None)) if f.kind == "stuck"]
    assert found[0].headline == headline


def test_entry_and_quality_sentences_agree_in_russian(result: AuditResult) -> None:
    findings = {f.kind: f for f in select_findings(result, build_labels(result, "ru", None))}
    assert findings["entry_criteria"].detail.startswith("17 сделок дошли до")
    assert "не использовано 12 строк из 4" in findings["data_quality"].detail
    one_row = dataclasses.replace(
        result,
        data_quality=dataclasses.replace(
            result.data_quality, rows_rejected={"events.csv": 1, "deals.csv": 0}
        ),
    )
    quality = [
        f
        for f in select_findings(one_row, build_labels(one_row, "ru", None))
        if f.kind == "data_quality"
    ]
    assert "не использована 1 строка из" in quality[0].detail


def test_the_terminal_report_modules_stay_under_400_lines() -> None:
    """House rule: modules under ~400 lines, split along concepts (blocks, section layouts, the
    report)."""
    from pathlib import Path

    import voronka.report

    folder = Path(voronka.report.__file__).parent
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines())
             for p in folder.glob("text*.py")}
    assert {"text.py", "text_blocks.py", "text_sections.py"} <= set(sizes)
    assert all(n < 400 for n in sizes.values()), sizes
