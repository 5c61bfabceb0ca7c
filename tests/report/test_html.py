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
        "chart-series",
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
    assert f"2.2{NBSP}M" in page[biggest:plan]


def test_print_stylesheet_for_a4(pages: dict[str, str]) -> None:
    assert "@page { size: A4" in pages["ru"]
    assert "@media print" in pages["ru"]


def test_empty_result_renders_without_charts(empty_result: AuditResult) -> None:
    page = str(render(empty_result, "html"))
    parsed = _parse(page)
    assert set(json.loads(parsed.chart_json)) == {"chart-funnel-reach"}
    assert "No forecast was made." in page
    assert "Nothing stands out" in page


def test_funnel_names_are_used_when_given(result: AuditResult, funnel: Funnel) -> None:
    page = str(render(result, "html", lang="en", funnel=funnel))
    assert "EN Новая заявка" in page


def test_conversion_over_time_chart_draws_the_series_and_marks_the_shift(
    pages: dict[str, str], result: AuditResult
) -> None:
    """One panel per series, titled with the step; the rate line plots the audit's rates as they
    are, the band its p-chart limits, points outside the limits are red; the segment shift of
    qualified → meeting is a down-triangle at its ``since``; the chart sits in the anomalies
    section, before the before/after chart."""
    figure = json.loads(_parse(pages["en"]).chart_json)["chart-series"]
    titles = [a["text"] for a in figure["layout"]["annotations"]]
    assert titles == [
        "Новая заявка → Квалификация пройдена",
        "Квалификация пройдена → &lt;img src=x onerror=alert(1)&gt;",
    ]
    series = result.series[1]
    rates = [d for d in figure["data"] if d.get("mode") == "lines+markers"]
    assert len(rates) == 2
    assert rates[1]["y"] == pytest.approx(list(series.rate))
    assert rates[1]["x"][0] == "2023-11-06"
    assert rates[1]["marker"]["color"][-1] != rates[1]["marker"]["color"][0]  # the red point
    bands = [d for d in figure["data"] if d.get("fill") == "tonexty"]
    assert bands[1]["y"] == pytest.approx(list(series.limit_low))
    marks = [d for d in figure["data"] if d.get("marker", {}).get("symbol") == "triangle-down"]
    assert len(marks) == 1 and marks[0]["x"] == ["2024-02-05"]
    assert ("38.0% since 5 Feb 2024, where 52.0% was expected without the change"
            in marks[0]["text"][0])
    page = pages["en"]
    anomalies = page.index('<section id="anomalies"')
    assert anomalies < page.index('id="chart-series"') < page.index('id="chart-anomalies"')


def test_funnel_wide_shift_is_drawn_as_the_level_since_and_the_level_expected(
        result: AuditResult) -> None:
    """A funnel-wide shift of a charted step: from ``since`` on, a solid line at ``after`` and a
    dashed one at ``before`` (the level the model expected over those periods without the shift:
    a counterfactual, so it is not drawn over the periods before)."""
    shift = dataclasses.replace(result.anomalies[0], segment=None)
    one = dataclasses.replace(result, anomalies=(shift,))
    figure = json.loads(_parse(str(render(one, "html", lang="en"))).chart_json)["chart-series"]
    steps = [d for d in figure["data"] if d.get("name") == "Shift"]
    assert [d["line"]["dash"] for d in steps] == ["dash", "solid"]
    assert all(d["x"][0] == "2024-02-05" for d in steps)
    assert steps[0]["y"] == [0.52, 0.52] and steps[1]["y"] == [0.38, 0.38]


def test_limits_of_the_input_are_a_warning_at_the_top(pages: dict[str, str]) -> None:
    page = pages["en"]
    assert page.index('class="limits"') < page.index('id="findings"')
    assert "snapshot of the CRM" in page and "not.a.message.key" not in page


def test_cards_show_the_top_leak_and_the_plan(pages: dict[str, str]) -> None:
    page = pages["ru"]
    leak = page.index('class="card card-leak"')
    assert f"2,2{NBSP}млн" in page[leak : leak + 200]
    assert leak < page.index('class="card card-plan"') < page.index('id="findings"')
