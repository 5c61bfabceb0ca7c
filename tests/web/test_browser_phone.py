"""Every page of the dashboard on a 390-px phone (headless Chromium, network cut off except the
server on 127.0.0.1): the page itself never scrolls sideways — wide tables scroll in their box."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_helpers import served

from voronka.web import ServeSettings, create_app

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def phone_server(tmp_path_factory: pytest.TempPathFactory, demo_zip: bytes) -> Iterator[
    tuple[str, str]
]:
    """A uvicorn server on 127.0.0.1 with the demo export uploaded: ``(base URL, dataset id)``."""
    app = create_app(ServeSettings(data_dir=tmp_path_factory.mktemp("phone-data")))
    with served(app) as base:
        r = httpx.post(f"{base}/api/v1/datasets", files={"file": ("demo.zip", demo_zip)}, timeout=600)
        assert r.status_code == 201, r.text
        # A pull that fails at once (nothing listens on port 9): its page is a page too.
        pulled = httpx.post(f"{base}/pull", data={"crm": "hubspot", "cred_token": "x" * 12,
                                                  "cred_base_url": "http://127.0.0.1:9/"})
        job = pulled.headers["location"].split("?")[0]
        yield base, str(r.json()["id"]) + "|" + job


def test_no_page_scrolls_sideways_at_390_px(phone_server: tuple[str, str]) -> None:
    base, ids = phone_server
    dataset_id, job = ids.split("|")
    d = f"/d/{dataset_id}"
    pages = {
        "/": "#upload-file",
        f"{d}?lang=ru": "#funnel-drill",
        f"{d}?lang=en": "#funnel-drill",
        f"{d}/deals?sel=won": "#deals",
        f"{d}/managers": "#managers",
        f"{d}/today": "#today",
        f"{d}/whatif?plan=7": "body",
        f"{d}/funnel": "#funnel-text",
        f"{d}/funnel/form": "#funnel-stages",
        f"{d}/mapping": "body",
        "/pull": "#pull-crm",
        "/pull?crm=bitrix24": "#pull-webhook",
        job: "#pull-status",
    }
    executable = shutil.which("chromium") or CHROMIUM
    if not Path(executable).exists():
        pytest.fail("Chromium is not installed: apt-get install -y chromium")
    wide: dict[str, list[int]] = {}
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                      has_touch=True, device_scale_factor=3)
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            base) else route.abort())
        page: Any = context.new_page()
        page.set_default_timeout(600_000)  # a shared, busy machine: a first audit takes minutes
        for path, ready in pages.items():
            page.goto(base + path)
            page.wait_for_selector(ready)
            page.wait_for_timeout(200)
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            if widths[0] > widths[1]:
                wide[path] = widths
        browser.close()
    assert wide == {}
