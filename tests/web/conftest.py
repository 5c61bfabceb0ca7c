"""Fixtures of the web tests: the demo export on disk and an app serving a temporary data folder.

The app is tested in-process over ASGI (``TestClient``), no server; the browser tests start a
real uvicorn server on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web_helpers import TestClient, zip_folder

from voronka.demo import generate_demo, write_demo
from voronka.web import ServeSettings, create_app

DEMO_DEALS = 900


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo company's export (900 deals, 14 months, taken mid-month)."""
    folder = tmp_path_factory.mktemp("demo-export")
    write_demo(generate_demo(DEMO_DEALS, seed=5, months=14, end_day=15), folder)
    return folder


@pytest.fixture(scope="session")
def demo_zip(demo_folder: Path) -> bytes:
    return zip_folder(demo_folder)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A client of an app on a fresh data folder (loopback, no token)."""
    app = create_app(ServeSettings(data_dir=tmp_path_factory.mktemp("serve-data")))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def demo_id(client: TestClient, demo_zip: bytes) -> str:
    """The demo export uploaded as a ZIP; its dataset id."""
    r = client.post("/api/v1/datasets", files={"file": ("demo.zip", demo_zip)})
    assert r.status_code == 201, r.text
    assert not r.json()["needs_mapping"]
    return str(r.json()["id"])
