"""The standalone receivers app (``voronka hooks``): the router on its own FastAPI app.

``voronka serve`` mounts the same router (and the sync scheduler) into its app instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from voronka.live.receivers import HooksConfig, router
from voronka.live.store import LiveStore
from voronka.live.sync import Scheduler


def create_app(
    data: str | Path,
    config: HooksConfig | None = None,
    *,
    scheduler: Scheduler | None = None,
    store: LiveStore | None = None,
) -> FastAPI:
    """A FastAPI app serving ``/hooks/*`` and storing into ``<data>/live.duckdb``.

    The store is opened when the app starts and closed (checkpointed) when it stops; a
    ``scheduler`` given is started and stopped with it (webhook triggers nudge it). ``store``:
    an already opened store of ``data`` (the scheduler's).
    """
    config = config or HooksConfig.from_env()
    store = store or LiveStore(data)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            store.close()

    app = FastAPI(title="voronka hooks", lifespan=lifespan, docs_url=None, redoc_url=None)
    on_trigger = scheduler.nudge if scheduler is not None else None
    app.include_router(router(store, config, on_trigger=on_trigger))
    app.state.store = store
    return app


def app_from_env() -> FastAPI:
    """The app ``uvicorn --factory voronka.live.app:app_from_env`` serves: data folder from
    ``VORONKA_DATA`` (default ``./voronka-data``), secrets from ``VORONKA_HOOK_*``."""
    import os

    return create_app(os.environ.get("VORONKA_DATA", "voronka-data"))
