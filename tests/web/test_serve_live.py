"""``voronka serve --hooks``: the dashboard's app also receives CRM webhooks — stored in the live
store, authenticated by each receiver's own secret even when the dashboard has its token — and
runs the sync scheduler with the app's lifetime."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from voronka.web import ServeSettings, create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "live"))
from hookdata import AMO_TOKEN, amocrm_status, form  # noqa: E402

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def hook_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VORONKA_HOOK_AMOCRM_TOKEN", AMO_TOKEN)


def test_serve_receives_webhooks_beside_the_token_protected_dashboard(
    tmp_path: Path, hook_env: None
) -> None:
    settings = ServeSettings(data_dir=tmp_path, host="0.0.0.0", token="dash-secret", hooks=True)
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/api/v1/datasets").status_code == 401  # the dashboard keeps its token
        url = f"/hooks/amocrm?token={AMO_TOKEN}"
        assert client.post(url, content=form(amocrm_status()), headers=FORM).status_code == 200
        assert client.post(url, content=form(amocrm_status()), headers=FORM).status_code == 200
        wrong = client.post("/hooks/amocrm?token=guess", content=form(amocrm_status()),
                            headers=FORM)
        assert wrong.status_code == 401  # the receiver checks its own secret
        events = app.state.live_store.events("amocrm")
        assert len(events) == 1  # the retry is stored once
        assert events[0].from_stage is not None and events[0].to_stage is not None
        assert "/hooks/amocrm" not in client.get(
            "/api/v1/openapi.json", headers={"Authorization": "Bearer dash-secret"}).text


def test_serve_without_live_options_mounts_no_receivers(tmp_path: Path) -> None:
    app = create_app(ServeSettings(data_dir=tmp_path))
    with TestClient(app) as client:
        assert client.post("/hooks/amocrm", content=b"x", headers=FORM).status_code in (404, 405)
    assert app.state.live_store is None and app.state.scheduler is None


def test_serve_runs_the_sync_scheduler_with_the_app(tmp_path: Path) -> None:
    app = create_app(ServeSettings(data_dir=tmp_path, sync_crms=("amocrm",), sync_every=30.0))
    scheduler = app.state.scheduler
    assert [job["job"] for job in scheduler.status()] == ["sync:amocrm", "deals:amocrm"]
    with TestClient(app):
        assert scheduler._thread is not None  # started with the app
    assert scheduler._stop.is_set()  # stopped with it
