"""The live commands: ``voronka sync``, ``voronka watch``, ``voronka hooks`` (docs/live.md).

Registered on the main app by :func:`register`; the heavy imports (FastAPI, uvicorn) happen only
when a live command runs.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from voronka.errors import Msg, UsageError, any_of
from voronka.i18n import t, user_language

DEFAULT_DATA = Path("voronka-data")


def _lang(lang: str | None) -> str:
    """The language of a live command, by the rule every command follows
    (:func:`voronka.i18n.user_language`: ``--lang``, else ``VORONKA_LANG``, else ``LANG``)."""
    return user_language(lang)


def _check_crms(crms: list[str]) -> None:
    from voronka.io.crm import CRM_NAMES

    for crm in crms:
        if crm not in CRM_NAMES:
            raise UsageError(
                Msg("errors.raised.unknown_crm", crm=repr(crm)), expected=any_of(CRM_NAMES)
            )


def sync_command(
    crms: Annotated[list[str], typer.Argument(help="amocrm, bitrix24, hubspot, pipedrive.")],
    data: Annotated[Path, typer.Option("--data", help="The data folder (the store).")] = DEFAULT_DATA,
    config: Annotated[Path | None, typer.Option("--config", help="Credentials file.")] = None,
    every: Annotated[float | None, typer.Option(
        "--every", help="Keep running: sync every N minutes.")] = None,
    for_minutes: Annotated[float | None, typer.Option(
        "--for", help="With --every: stop after N minutes.")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="ru or en.")] = None,
) -> None:
    """Pull what changed in the CRM since the last sync into the store (incremental, resumable).

    Without --every: one sync of each CRM, for cron or a systemd timer. With --every: a foreground
    loop. Credentials as for `voronka pull`, never on the command line.
    """
    from voronka.io.crm import PullProgress
    from voronka.live.store import LiveStore
    from voronka.live.sync import SyncResult, sync_once, sync_scheduler

    language = _lang(lang)
    _check_crms(crms)
    out = Console(highlight=False)
    err = Console(stderr=True, highlight=False)

    def progress(p: PullProgress) -> None:
        if err.is_terminal:
            err.print(f"  {t(f'crm.phase.{p.phase}', language)}: {p.records}", end="\r")

    def report(result: SyncResult) -> None:
        if result.error:
            err.print(t("live.sync.failed", language, crm=result.crm, error=result.error))
        else:
            out.print(t("live.sync.done", language, crm=result.crm, deals=result.deals_fetched,
                        events=result.events_added, deals_total=result.deals_total,
                        events_total=result.events_total, requests=result.requests))

    store = LiveStore(data)
    failed = False
    try:
        if every is None:
            for crm in crms:
                result = sync_once(store, data, crm, config=config, progress=progress)
                report(result)
                failed = failed or result.error is not None
        else:
            sched = sync_scheduler(store, data, crms, every, config=config, progress=progress)
            for job in sched.jobs.values():
                inner = job.run

                def run(inner: Any = inner) -> Any:
                    result = inner()
                    report(result)
                    return result

                job.run = run
            with contextlib.suppress(KeyboardInterrupt):
                sched.run_until((for_minutes or 10**9) * 60)
        for crm in crms:
            last = store.last_sync(crm)
            line = (t("live.sync.last", language, crm=crm, at=last.isoformat(timespec="seconds"))
                    if last else t("live.sync.never", language, crm=crm))
            out.print(line)
            pending = store.pending_deals(crm)
            if pending:
                out.print(t("live.sync.triggers", language, crm=crm, count=len(pending)))
    finally:
        store.close()
    if failed:
        raise typer.Exit(2)  # a CRM error is an input error, as for `voronka pull`


def watch_command(
    config: Annotated[Path, typer.Option("--config", help="watch.toml.")] = Path("watch.toml"),
    data: Annotated[Path, typer.Option("--data", help="The data folder (the store).")] = DEFAULT_DATA,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", help="What to audit (default: the file's dataset, else the synced CRM).")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="ru or en (this output).")] = None,
) -> None:
    """Audit, compare with what each recipient was told, and send only what is new.

    A one-shot command for cron or a systemd timer; secrets come from the environment.
    """
    from voronka.live.store import LiveStore
    from voronka.live.watch import run_watch
    from voronka.live.watchconfig import load_watch_config

    cfg = load_watch_config(config)
    language = _lang(lang or cfg.language)
    store = LiveStore(data)
    try:
        report = run_watch(cfg, store, dataset=dataset, data=data, base=config.parent)
    finally:
        store.close()
    err = Console(stderr=True, highlight=False)
    for d in report.deliveries:
        err.print(d.describe(language))
    if any(d.status == "failed" for d in report.deliveries):
        raise typer.Exit(1)


def hooks_command(
    data: Annotated[Path, typer.Option("--data", help="The data folder (the store).")] = DEFAULT_DATA,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port.")] = 8787,
    sync: Annotated[list[str] | None, typer.Option(
        "--sync", help="Also sync this CRM on a schedule (repeatable).")] = None,
    every: Annotated[float, typer.Option("--every", help="Sync interval, minutes.")] = 15.0,
    config: Annotated[Path | None, typer.Option("--config", help="Credentials file.")] = None,
    watch: Annotated[Path | None, typer.Option(
        "--watch", help="Also run voronka watch with this watch.toml on a schedule.")] = None,
    watch_every: Annotated[float, typer.Option(
        "--watch-every", help="Watch interval, minutes.")] = 60.0,
    lang: Annotated[str | None, typer.Option("--lang", help="ru or en.")] = None,
) -> None:
    """Serve the webhook receivers (/hooks/amocrm, /hooks/bitrix24, /hooks/hubspot,
    /hooks/pipedrive) on their own; put a TLS reverse proxy in front (docs/live.md).
    """
    import uvicorn

    from voronka.live.app import create_app, live_parts
    from voronka.live.receivers import HooksConfig
    from voronka.web import ensure_port_free

    language = _lang(lang)
    crms = list(sync or [])
    _check_crms(crms)
    ensure_port_free(host, port)
    hooks = HooksConfig.from_env()
    err = Console(stderr=True, highlight=False)
    if not hooks.enabled():
        err.print(t("live.hooks.none_enabled", language))
    parts = live_parts(data, sync_crms=crms, sync_every=every, credentials=config, watch=watch,
                       watch_every=watch_every)
    store = parts.store
    app = create_app(data, hooks, parts=parts)
    err.print(t("live.hooks.serving", language, host=host, port=port,
                crms=", ".join(hooks.enabled()) or "—", path=str(store.path)))
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


def register(app: typer.Typer) -> None:
    """Add ``sync``, ``watch`` and ``hooks`` to the main command line."""
    app.command("sync")(sync_command)
    app.command("watch")(watch_command)
    app.command("hooks")(hooks_command)
