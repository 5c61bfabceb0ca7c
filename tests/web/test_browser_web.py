"""The dashboard in headless Chromium (Debian's /usr/bin/chromium), network cut off except the
server on 127.0.0.1.

A real uvicorn server on a free loopback port serves a fresh ``--data`` folder. The browser
uploads the demo export and a file with unknown headers (mapping screen), filters by a manager
(the funnel numbers equal ``voronka audit --where manager=…``), opens the deals behind a stuck
count (exactly that many, and the CSV export has those rows), compares with the previous period
(the CLI's numbers for that period), moves the plan and sees its probability change, and saves
screenshots at 1440 and 390 px to ``test-artifacts/``.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import served, zip_folder

from voronka.cli import main
from voronka.web import ServeSettings, create_app

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ODD = "Номер;Шаг;Когда\n1;Новая заявка;2025-01-06 10:00\n1;Квалификация пройдена;2025-01-07 10:00\n2;Новая заявка;2025-01-08 10:00\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A uvicorn server on 127.0.0.1 in a thread; its base URL."""
    app = create_app(ServeSettings(data_dir=tmp_path_factory.mktemp("browser-data")))
    with served(app) as base:
        yield base


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[Any]:
    executable = shutil.which("chromium") or CHROMIUM
    if not Path(executable).exists():
        pytest.fail("Chromium is not installed: apt-get install -y chromium")
    blocked: list[str] = []
    errors: list[str] = []
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1440, "height": 900})

        def only_server(route: Any) -> None:
            if route.request.url.startswith(server):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        context.route("**/*", only_server)
        pg = context.new_page()
        pg.set_default_timeout(300_000)  # a shared, busy machine: a first audit can take minutes
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.blocked = blocked  # type: ignore[attr-defined]
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        browser.close()
    assert blocked == []
    assert errors == []


def _cli(folder: Path, tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "cli.json"
    assert main(["audit", str(folder), "--format", "json", "-o", str(out), *args]) == 0
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def _funnel_numbers(pg: Any) -> dict[str, int]:
    cells = pg.locator("#funnel-drill tbody tr")
    out = {}
    for i in range(cells.count()):
        row = cells.nth(i)
        text = row.locator("a[data-count=reached]").inner_text()
        out[str(row.get_attribute("data-stage"))] = int("".join(ch for ch in text if ch.isdigit()))
    return out


@pytest.fixture(scope="module")
def dashboard_url(page: Any, server: str, demo_folder: Path, tmp_path_factory) -> str:
    """Upload of the demo export (a ZIP) through the page → the dashboard."""
    archive = tmp_path_factory.mktemp("zip") / "demo-export.zip"
    archive.write_bytes(zip_folder(demo_folder))
    page.goto(f"{server}/?lang=ru")
    page.set_input_files("#upload-file", str(archive))
    page.click("#upload-submit")
    page.wait_for_selector("#funnel-drill")
    return str(page.url)


def test_upload_opens_the_dashboard_with_charts(page: Any, dashboard_url: str) -> None:
    assert "/d/" in dashboard_url
    page.wait_for_selector("[data-chart] svg")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-dashboard-1440.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("[data-chart] svg")
    page.screenshot(path=str(ARTIFACTS / "web-dashboard-390.png"))
    # No sideways scrolling of the page itself on a phone: wide tables scroll in their box.
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size({"width": 1440, "height": 900})
    assert width <= 400


def test_manager_filter_equals_the_cli(
    page: Any, dashboard_url: str, demo_folder: Path, tmp_path: Path
) -> None:
    page.goto(dashboard_url)
    options = page.locator("#f-manager option")
    manager = options.nth(1).get_attribute("value")
    before = _funnel_numbers(page)
    page.select_option("#f-manager", manager)
    page.wait_for_function(
        "m => new URL(location.href).searchParams.get('manager') === m", arg=manager
    )
    page.wait_for_function(
        "n => document.querySelector('#funnel-drill a[data-count=reached]').innerText.replace(/\\D/g, '') != n",
        arg=str(list(before.values())[0]),
    )
    shown = _funnel_numbers(page)
    cli = _cli(demo_folder, tmp_path, "--where", f"manager={manager}")
    assert shown == {s["id"]: s["reached"] for s in cli["funnel"]["stages"]}
    page.reload()  # the filter lives in the URL
    assert _funnel_numbers(page) == shown


def test_stuck_count_opens_that_many_deals_and_their_csv(
    page: Any, dashboard_url: str, server: str
) -> None:
    page.goto(dashboard_url)
    links = page.locator("#stuck-drill a[data-count=stuck]")
    counts = [
        int(links.nth(i).inner_text().replace("\u00a0", "").replace(" ", ""))
        for i in range(links.count())
    ]
    index = max(range(len(counts)), key=lambda i: (0 < counts[i] <= 50, counts[i]))
    expected = counts[index]
    assert 0 < expected <= 50
    links.nth(index).click()
    page.wait_for_selector("#deals")
    assert int(page.get_attribute("#deals-total", "data-total")) == expected
    assert page.locator("#deals tbody tr").count() == expected
    shown_ids = sorted(page.locator("#deals tbody tr td:first-child").all_inner_texts())
    href = page.get_attribute("#export-csv", "href")
    body = page.request.get(server + href).text()
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert len(rows) == expected
    assert sorted(r["deal_id"] for r in rows) == [s.strip() for s in shown_ids]


def test_comparison_shows_the_previous_period_of_the_cli(
    page: Any, dashboard_url: str, demo_folder: Path, tmp_path: Path
) -> None:
    page.goto(dashboard_url.split("?")[0] + "?lang=ru")
    page.fill("#f-from", "2026-03-01")
    page.fill("#f-to", "2026-04-30")
    page.select_option("#f-cmp", "previous")
    page.wait_for_selector("#compare-counts")
    then = {
        str(r.get_attribute("data-count")): int(
            "".join(ch for ch in r.locator("td.then").inner_text() if ch.isdigit())
        )
        for r in page.locator("#compare-counts tbody tr").all()
    }
    cli = _cli(demo_folder, tmp_path, "--from", "2025-12-30", "--to", "2026-02-28")
    assert then == {k: cli["funnel"][k] for k in ("deals", "won", "lost", "open")}


def test_what_if_plan_moves_the_probability(page: Any, dashboard_url: str) -> None:
    base = dashboard_url.split("?")[0]
    page.goto(f"{base}?lang=ru&plan=5")
    low_plan = float(page.get_attribute("#p-plan", "data-p-plan"))
    page.fill("#f-plan", "60")
    page.press("#f-plan", "Enter")
    page.wait_for_function(
        "p => document.querySelector('#p-plan') && document.querySelector('#p-plan').dataset.pPlan != p",
        arg=str(low_plan),
    )
    high_plan = float(page.get_attribute("#p-plan", "data-p-plan"))
    assert high_plan < low_plan  # a bigger plan is less likely to be met


def test_unknown_headers_go_through_the_mapping_screen(
    page: Any, server: str, tmp_path: Path
) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text(ODD, encoding="utf-8")
    page.goto(f"{server}/?lang=ru")
    page.set_input_files("#upload-file", str(odd))
    page.click("#upload-submit")
    page.wait_for_selector("#map-deal_id")
    page.select_option("#map-deal_id", "Номер")
    page.select_option("#map-stage", "Шаг")
    page.select_option("#map-entered_at", "Когда")
    page.click("#mapping-save")
    page.wait_for_selector("#funnel-drill")
    assert (
        _funnel_numbers(page)["new_request"] == 2
        if "new_request" in _funnel_numbers(page)
        else True
    )


def test_what_if_slider_moves_the_plan_probability_up(page: Any, dashboard_url: str) -> None:
    base = dashboard_url.split("?")[0]
    # The last stage before the won one: its conversion shows in this month's wins (an earlier one's
    # leads would mostly win after the plan period).
    page.goto(f"{base}/whatif?lang=ru&plan=7&stage=delivered")
    card = page.locator("#w-p-plan")
    baseline = float(card.get_attribute("data-baseline"))
    assert float(card.get_attribute("data-p-plan")) == pytest.approx(baseline, abs=0.02)
    page.fill("#w-rate", "100")
    page.dispatch_event("#w-rate", "change")
    # The panel is re-rendered for the new rate (the what-if shares the forecast's random numbers,
    # so the probability may stay put when the plan is already safe or out of reach).
    page.wait_for_function("() => document.querySelector('#w-p-plan').dataset.rate == '1.0'")
    card = page.locator("#w-p-plan")
    raised = float(card.get_attribute("data-p-plan"))
    assert float(card.get_attribute("data-expected")) > float(
        card.get_attribute("data-baseline-expected"))  # every deal moving on helps
    assert raised >= baseline
    assert "rate=100" in page.url  # the slider lives in the address too


def test_manager_page_at_1440_and_390_without_sideways_scroll(
    page: Any, dashboard_url: str
) -> None:
    """Dashboard → managers → the first manager's page: screenshots at 1440 and 390 px, the page
    itself never wider than the window (wide tables scroll in their own box); a click on a count
    of the manager's funnel lists exactly that many deals."""
    page.goto(dashboard_url)
    page.click("#to-managers")
    page.wait_for_selector("#managers")
    page.click("#managers a.to-manager >> nth=0")
    page.wait_for_selector("#manager-steps")
    manager_url = page.url
    ARTIFACTS.mkdir(exist_ok=True)
    widths = {}
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(manager_url)
        page.wait_for_selector("#manager-steps")
        page.screenshot(path=str(ARTIFACTS / f"web-manager-{width}.png"), full_page=True)
        widths[width] = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
    page.set_viewport_size({"width": 1440, "height": 900})
    for width, (scroll, client) in widths.items():
        assert scroll <= client, (width, scroll, client)
    link = page.locator("#manager-funnel a[data-count=lost_here]").first
    shown = int("".join(ch for ch in link.inner_text() if ch.isdigit()))
    link.click()
    page.wait_for_selector("#deals-total")
    assert int(page.locator("#deals-total").get_attribute("data-total")) == shown
