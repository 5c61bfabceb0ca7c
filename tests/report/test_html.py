"""The HTML report, read as text: self-contained, escaped, in the language asked."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser

import pytest
from sample_result import IMG_XSS, SCRIPT_XSS

from voronka.audit import AuditResult
from voronka.funnel import Funnel
from voronka.report import render
from voronka.report.format import NBSP
from voronka.report.html import safe_json


class _Page(HTMLParser):
    """Collects tags, their attributes and the text of the JSON chart data."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._in_json = False
        self.chart_json = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_json = tag == "script" and dict(attrs).get("type") == "application/json"

    def handle_endtag(self, tag: str) -> None:
        self._in_json = False

    def handle_data(self, data: str) -> None:
        if self._in_json:
            self.chart_json += data


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    from sample_result import make_result

    result = make_result()
    out = {lang: render(result, "html", lang=lang) for lang in ("ru", "en")}
    assert all(isinstance(v, str) for v in out.values())
    return out  # type: ignore[return-value]


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def test_html_lang_follows_the_language(pages: dict[str, str]) -> None:
    assert '<html lang="ru">' in pages["ru"]
    assert '<html lang="en">' in pages["en"]
    assert "<h2>Главное</h2>" in pages["ru"]
    assert "<h2>Key findings</h2>" in pages["en"]


def test_default_language_is_the_results(result: AuditResult) -> None:
    english = dataclasses.replace(result, language="en")
    assert '<html lang="en">' in str(render(english, "html"))


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_no_external_resources(pages: dict[str, str], lang: str) -> None:
    page = _parse(pages[lang])
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "data", "poster"):
            value = attrs.get(name) or ""
            assert not re.match(r"\s*(https?:)?//", value), (tag, name, value)
    assert not [t for t, a in page.tags if t == "link"]  # no stylesheet links
    assert not [t for t, a in page.tags if t == "script" and a.get("src")]


def test_plotly_is_inlined_exactly_once(pages: dict[str, str]) -> None:
    for page in pages.values():
        assert page.count("* plotly.js v") == 1


def test_hostile_names_are_escaped(pages: dict[str, str]) -> None:
    for page in pages.values():
        assert IMG_XSS not in page and SCRIPT_XSS not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        tags = [t for t, _ in _parse(page).tags]
        assert "img" not in tags
        assert tags.count("script") == 3  # chart JSON, plotly.js, the report's own script


def test_chart_json_is_safe_and_complete(pages: dict[str, str]) -> None:
    page = _parse(pages["en"])
    assert "<" not in page.chart_json and ">" not in page.chart_json
    charts = json.loads(page.chart_json)
    assert set(charts) == {
        "chart-funnel-reach",
        "chart-funnel-conversion",
        "chart-flow",
        "chart-anomalies",
        "chart-sources",
        "chart-stuck",
        "chart-time",
        "chart-key-stage",
        "chart-forecast",
        "chart-reverse",
    }
    # Every chart has a container, and every container its data.
    containers = {a["data-chart"] for t, a in page.tags if "data-chart" in a}
    assert containers == set(charts)
    # Input text reaches plotly HTML-escaped, so plotly shows it literally.
    reach = charts["chart-funnel-reach"]["data"][0]
    assert "&lt;img src=x onerror=alert(1)&gt;" in reach["y"]
    assert charts["chart-funnel-reach"]["layout"]["separators"] == ".,"


def test_safe_json_cannot_close_a_script() -> None:
    text = safe_json({"name": "</script><script>alert(1)</script>", "amp": "a&b", "ls": "\u2028"})
    assert "</script" not in text and "<" not in text and "&" not in text
    assert json.loads(text)["name"] == "</script><script>alert(1)</script>"


def test_numbers_use_the_locale(pages: dict[str, str]) -> None:
    assert f">1{NBSP}200<" in pages["ru"] and ">75,0\u00a0%<" in pages["ru"]
    assert ">1,200<" in pages["en"] and ">75.0%<" in pages["en"]
    assert f'data-sort="{float(1200)!r}"' in pages["en"]  # sorting uses the raw number


def test_findings_come_before_the_sections(pages: dict[str, str]) -> None:
    page = pages["en"]
    biggest = page.index("Leak: ")
    plan = page.index("23% chance of making the plan")
    assert biggest < plan < page.index('<section id="funnel"')
    assert "2,160,000" in page[biggest:plan]


def test_print_stylesheet_for_a4(pages: dict[str, str]) -> None:
    assert "@page { size: A4" in pages["ru"]
    assert "@media print" in pages["ru"]


def test_empty_result_renders_without_charts(empty_result: AuditResult) -> None:
    page = str(render(empty_result, "html"))
    parsed = _parse(page)
    assert set(json.loads(parsed.chart_json)) == {"chart-funnel-reach"}
    assert "No plan was given" in page
    assert "Nothing stands out" in page


def test_funnel_names_are_used_when_given(result: AuditResult, funnel: Funnel) -> None:
    page = str(render(result, "html", lang="en", funnel=funnel))
    assert "EN Новая заявка" in page
