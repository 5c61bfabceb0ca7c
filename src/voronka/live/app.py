"""The live features as parts of a FastAPI app: the store, the scheduler and the receivers.

:func:`live_parts` builds them once (the store under ``--data``, a scheduler with the sync,
single-deal and watch jobs asked for); :meth:`LiveParts.lifespan` starts the scheduler with the
app and stops it and closes (checkpoints) the store when the app stops; :meth:`LiveParts.mount`
adds the receivers, their triggers wired to the scheduler. ``voronka hooks`` serves them on their
own app (:func:`create_app`); ``voronka serve`` uses the same parts and the same lifespan inside
the web app (``voronka.web.app``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from voronka.live.receivers import HooksConfig, router
from voronka.live.store import LiveStore
from voronka.live.sync import Scheduler, sync_scheduler


@dataclass
class LiveParts:
    """The store and scheduler of one server (see the module docstring).

    Attributes:
        store: the live store (one per process).
        scheduler: the jobs (None when neither sync nor watch was asked for).
    """

    store: LiveStore
    scheduler: Scheduler | None = None

    def start(self) -> None:
        """Start the scheduler's thread."""
        if self.scheduler is not None:
            self.scheduler.start()

    def stop(self) -> None:
        """Stop the scheduler (a running job finishes), then close the store."""
        try:
            if self.scheduler is not None:
                self.scheduler.stop()
        finally:
            self.store.close()

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Running while the app runs (use inside an app's own lifespan)."""
        self.start()
        try:
            yield
        finally:
            self.stop()

    def mount(self, app: FastAPI, config: HooksConfig | None = None, *, prefix: str = "/hooks",
              **include: Any) -> None:
        """Add the receivers to ``app``; a trigger or delete pulls its deal via the scheduler."""
        on_trigger = self.scheduler.nudge if self.scheduler is not None else None
        app.include_router(router(self.store, config or HooksConfig.from_env(),
                                  on_trigger=on_trigger, prefix=prefix), **include)


def live_parts(
    data: str | Path,
    *,
    sync_crms: Sequence[str] = (),
    sync_every: float = 15.0,
    credentials: str | Path | None = None,
    watch: Path | None = None,
    watch_every: float = 60.0,
    store: LiveStore | None = None,
    scheduler: Scheduler | None = None,
) -> LiveParts:
    """The store of ``data`` and a scheduler with the ``sync:<crm>`` and ``deals:<crm>`` jobs of
    ``sync_crms`` (every ``sync_every`` minutes, credentials from the file ``credentials`` or the
    environment) and a ``watch`` job for the ``watch.toml`` given (every ``watch_every``
    minutes, first a minute after the start)."""
    store = store or LiveStore(data)
    if sync_crms:
        scheduler = sync_scheduler(store, data, list(sync_crms), sync_every, config=credentials,
                                   scheduler=scheduler)
    if watch is not None:
        from voronka.live.watch import run_watch
        from voronka.live.watchconfig import load_watch_config

        watch_config = load_watch_config(watch)
        scheduler = scheduler or Scheduler()
        scheduler.add("watch", watch_every * 60, lambda: run_watch(
            watch_config, store, data=data, base=watch.parent), first_in=60)
    return LiveParts(store, scheduler)


def create_app(
    data: str | Path,
    config: HooksConfig | None = None,
    *,
    scheduler: Scheduler | None = None,
    store: LiveStore | None = None,
    parts: LiveParts | None = None,
) -> FastAPI:
    """A FastAPI app serving ``/hooks/*`` and storing into ``<data>/live.duckdb``.

    The store is opened when the app starts and closed (checkpointed) when it stops; a
    ``scheduler`` given is started and stopped with it. ``store``: an already opened store of
    ``data`` (the scheduler's); ``parts``: both, from :func:`live_parts`.
    """
    live = parts or LiveParts(store or LiveStore(data), scheduler)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with live.lifespan():
            yield

    app = FastAPI(title="voronka hooks", lifespan=lifespan, docs_url=None, redoc_url=None)
    live.mount(app, config or HooksConfig.from_env())
    app.state.store = live.store
    app.state.scheduler = live.scheduler
    return app


def app_from_env() -> FastAPI:
    """The app ``uvicorn --factory voronka.live.app:app_from_env`` serves: data folder from
    ``VORONKA_DATA`` (default ``./voronka-data``), secrets from ``VORONKA_HOOK_*``."""
    import os

    return create_app(os.environ.get("VORONKA_DATA", "voronka-data"))
