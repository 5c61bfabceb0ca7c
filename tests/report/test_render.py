"""The public entry point: dispatch to each format, the JSON contract, terminal text, Jupyter."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console
from sample_result import IMG_XSS, SCRIPT_XSS

from voronka.audit import AuditResult
from voronka.report import FORMATS, print_text, render, render_text
from voronka.report.format import NBSP


def test_render_gives_bytes_for_xlsx_and_text_otherwise(result: AuditResult) -> None:
    for fmt in FORMATS:
        out = render(result, fmt)
        assert isinstance(out, bytes if fmt == "xlsx" else str), fmt
        assert len(out) > 100
    assert render(result, "xlsx")[:2] == b"PK"  # a zip container


def test_render_rejects_unknown_format(result: AuditResult) -> None:
    with pytest.raises(ValueError, match="pdf"):
        render(result, "pdf")


def test_json_is_the_contract_unescaped_and_indented(result: AuditResult) -> None:
    text = render(result, "json")
    assert isinstance(text, str)
    assert json.loads(text) == json.loads(json.dumps(result.to_dict()))
    assert "Новая заявка" in text  # ensure_ascii=False
    assert '\n  "schema_version": 1' in text  # indent 2


def test_text_leads_with_findings_then_tables(result: AuditResult) -> None:
    text = render_text(result, lang="en", width=120)
    assert text.index("Key findings") < text.index("Leak: ") < text.index("\nFunnel ")
    assert "\x1b[" not in text  # no colour codes when not on a terminal
    assert "█" in text  # the funnel's conversion bars, on a wide terminal
    assert "█" not in render_text(result, lang="en", width=80)  # no room for them at 80
    assert IMG_XSS in text and SCRIPT_XSS in text  # shown as written, not eaten as markup


def test_text_language_and_locale_numbers(result: AuditResult) -> None:
    ru = render(result, "text")
    en = render(result, "text", lang="en")
    assert isinstance(ru, str) and isinstance(en, str)
    assert "Главное" in ru and f"1{NBSP}200" in ru and "75,0" in ru
    assert "Key findings" in en and "1,200" in en and "75.0%" in en


def test_text_survives_rich_markup_in_names(result: AuditResult) -> None:
    import dataclasses

    stages = list(result.funnel.stages)
    stages[0] = dataclasses.replace(stages[0], name="[bold red]Новая[/] [link=x]")
    odd = dataclasses.replace(
        result, funnel=dataclasses.replace(result.funnel, stages=tuple(stages))
    )
    assert "[bold red]Новая[/] [link=x]" in str(render(odd, "text"))


def test_print_text_colours_only_on_a_terminal(result: AuditResult) -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True, color_system="standard", width=120)
    print_text(result, terminal, "en")
    assert "\x1b[" in terminal.file.getvalue()  # type: ignore[attr-defined]
    piped = Console(file=io.StringIO(), force_terminal=False, width=120)
    print_text(result, piped, "en")
    assert "\x1b[" not in piped.file.getvalue()  # type: ignore[attr-defined]


def test_empty_result_renders_in_every_format(empty_result: AuditResult) -> None:
    for fmt in FORMATS:
        assert render(empty_result, fmt)
    assert "Nothing stands out" in str(render(empty_result, "text"))


def test_result_shows_itself_as_the_html_report_in_jupyter(result: AuditResult) -> None:
    page = result._repr_html_()
    assert page is not None
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="ru">' in page
