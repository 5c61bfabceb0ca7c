"""``voronka hooks`` and ``voronka serve`` run the live parts through one lifespan
(``LiveParts.lifespan`` of voronka.live.app): the scheduler starts with the app, and stops, and the
store is closed, when it stops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from voronka.live.app import LiveParts, create_app, live_parts
from voronka.web.app import ServeSettings
from voronka.web.app import create_app as create_web_app


@pytest.fixture
def entered(monkeypatch: pytest.MonkeyPatch) -> list[LiveParts]:
    seen: list[LiveParts] = []
    original = LiveParts.lifespan

    @asynccontextmanager
    async def spy(self: LiveParts) -> AsyncIterator[None]:
        seen.append(self)
        async with original(self):
            yield

    monkeypatch.setattr(LiveParts, "lifespan", spy)
    return seen


def _check_started_then_stopped(parts: LiveParts, client_app: object) -> None:
    assert parts.scheduler is not None
    with TestClient(client_app):  # type: ignore[arg-type]
        assert parts.scheduler._thread is not None
        assert parts.store.query("SELECT 1") == [(1,)]
    assert parts.scheduler._stop.is_set() and parts.scheduler._thread is None
    with pytest.raises(duckdb.ConnectionException):
        parts.store.query("SELECT 1")


def test_hooks_app_uses_the_live_lifespan(tmp_path: Path, entered: list[LiveParts]) -> None:
    parts = live_parts(tmp_path, sync_crms=["amocrm"], sync_every=30.0)
    app = create_app(tmp_path, parts=parts)
    _check_started_then_stopped(parts, app)
    assert entered == [parts]


def test_serve_uses_the_same_lifespan(tmp_path: Path, entered: list[LiveParts]) -> None:
    app = create_web_app(ServeSettings(data_dir=tmp_path, sync_crms=("amocrm",), sync_every=30.0,
                                       hooks=True))
    assert entered == []  # entered only when the app starts
    scheduler, store = app.state.scheduler, app.state.live_store
    _check_started_then_stopped(LiveParts(store, scheduler), app)
    assert len(entered) == 1 and entered[0].store is store
    assert {j["job"] for j in scheduler.status()} == {"sync:amocrm", "deals:amocrm"}
