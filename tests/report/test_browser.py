"""The HTML report in headless Chromium (Debian's /usr/bin/chromium) with the network cut off.

For each language: no console errors, every chart drew an SVG with data in it, the hostile stage
names show as text and run nothing, tables sort, and a screenshot of the first screen goes to
``test-artifacts/`` for people to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sample_result import IMG_XSS, SCRIPT_XSS, make_result

from voronka.report import render

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium for the module."""
    executable = shutil.which("chromium") or CHROMIUM
    if not Path(executable).exists():
        pytest.fail("Chromium is not installed: apt-get install -y chromium")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module", params=["ru", "en"])
def opened(
    request: pytest.FixtureRequest, browser: object, tmp_path_factory: pytest.TempPathFactory
):  # type: ignore[no-untyped-def]
    """The report of the rich fixture opened offline: ``(page, lang, events)``."""
    lang: str = request.param
    path = tmp_path_factory.mktemp("html") / f"report-{lang}.html"
    path.write_text(str(render(make_result(), "html", lang=lang)), encoding="utf-8")
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    blocked: list[str] = []

    def only_files(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_files)
    page = context.new_page()
    events: dict[str, list[str]] = {"console": [], "dialogs": [], "blocked": blocked}
    page.on(
        "console",
        lambda m: events["console"].append(f"{m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: events["console"].append(f"pageerror: {e}"))

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        events["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(path.as_uri())
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')]"
        ".every(el => el.querySelector('svg.main-svg'))",
        timeout=20_000,
    )
    page.wait_for_timeout(300)  # let an onerror handler fire, if one could
    yield page, lang, events
    context.close()


def test_no_console_errors_no_dialogs_no_requests(opened) -> None:  # type: ignore[no-untyped-def]
    page, lang, events = opened
    assert events["console"] == []
    assert events["dialogs"] == []
    assert events["blocked"] == []  # the page never even tried the network
    assert page.evaluate("document.documentElement.lang") == lang


def test_every_chart_drew_svg_with_data(opened) -> None:  # type: ignore[no-untyped-def]
    page, _, _ = opened
    charts = page.evaluate(
        """() => [...document.querySelectorAll('[data-chart]')].map(el => ({
            id: el.id,
            svg: el.querySelectorAll('svg.main-svg').length,
            traces: el.querySelectorAll('g.trace, g.sankey').length,
            marks: [...el.querySelectorAll(
                'g.trace path, g.sankey path, g.trace .point')]
                .filter(p => (p.getAttribute('d') || 'x').length > 1).length,
        }))"""
    )
    assert len(charts) == 10
    for chart in charts:
        assert chart["svg"] >= 1, chart
        assert chart["traces"] >= 1, chart
        assert chart["marks"] >= 1, chart


def test_hostile_stage_names_show_as_text(opened) -> None:  # type: ignore[no-untyped-def]
    page, _, events = opened
    cells = page.locator("table.table-funnel td").all_inner_texts()
    assert IMG_XSS in cells and SCRIPT_XSS in cells
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    # Only the report's three script elements exist: the names added none.
    assert page.evaluate("document.querySelectorAll('script').length") == 3
    labels = page.locator("#chart-funnel-reach .ytick text").all_text_contents()
    assert IMG_XSS in labels
    assert events["dialogs"] == []


def test_tables_sort_on_click(opened) -> None:  # type: ignore[no-untyped-def]
    page, _, _ = opened
    table = page.locator("table.table-funnel")
    header = table.locator("th").nth(1)  # reached
    header.click()
    ascending = table.locator("tbody tr td:nth-child(2)").all_inner_texts()
    header.click()
    descending = table.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert ascending == list(reversed(descending))
    assert header.get_attribute("aria-sort") == "descending"
    assert ascending[0] == "120"


def test_screenshot_of_the_first_screen(opened) -> None:  # type: ignore[no-untyped-def]
    page, lang, _ = opened
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"report-first-screen-{lang}.png"
    page.evaluate("window.scrollTo(0, 0)")  # an earlier test may have scrolled to a table
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    # The first screen answers: where is the biggest leak, what it costs, how likely the plan is.
    first = page.locator("#findings .finding").first
    assert first.is_visible()
    plan = page.locator(".card-plan")
    assert plan.is_visible()
    assert plan.bounding_box()["y"] < 900  # type: ignore[index]
