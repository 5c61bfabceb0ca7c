"""``voronka serve``: the audit as a dashboard and a REST API in the browser (uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from voronka.errors import Msg, UsageError, any_of


def default_data_dir() -> Path:
    """The user's data folder for voronka (platformdirs: ``~/.local/share/voronka`` on Linux)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("voronka", appauthor=False))


def serve_command(
    path: Annotated[Path | None, typer.Argument(help="An export (file or folder) to open.")] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port.")] = 8000,
    data: Annotated[Path | None, typer.Option("--data", help="Folder for the store.")] = None,
    token: Annotated[str | None, typer.Option("--token", help="Access token (or VORONKA_TOKEN).",
                                              envvar="VORONKA_TOKEN")] = None,
    max_upload_mb: Annotated[int, typer.Option("--max-upload-mb", help="Upload limit, MB.")] = 200,
    lang: Annotated[str | None, typer.Option("--lang", help="ru or en.")] = None,
    hooks: Annotated[bool, typer.Option(
        "--hooks", help="Also receive CRM webhooks under /hooks/ (secrets from VORONKA_HOOK_*).",
    )] = False,
    sync: Annotated[list[str] | None, typer.Option(
        "--sync", help="Also sync this CRM on a schedule (repeatable).")] = None,
    every: Annotated[float, typer.Option("--every", help="Sync interval, minutes.")] = 15.0,
    config: Annotated[Path | None, typer.Option("--config", help="CRM credentials file.")] = None,
    watch: Annotated[Path | None, typer.Option(
        "--watch", help="Also run voronka watch with this watch.toml on a schedule.")] = None,
    watch_every: Annotated[float, typer.Option(
        "--watch-every", help="Watch interval, minutes.")] = 60.0,
) -> None:
    """Open the audit in the browser: filters, period comparison, the deals behind every number.

    Listening beyond this machine (--host 0.0.0.0) needs an access token. With --hooks, --sync
    or --watch the same process keeps the data current and sends digests (docs/live.md).
    """
    from voronka.i18n import user_language
    from voronka.web import ServeSettings, check_settings, create_app, ensure_port_free

    settings = ServeSettings(
        data_dir=(data or default_data_dir()).resolve(), host=host, token=token or None,
        max_upload_bytes=max_upload_mb * 1024 * 1024,
        lang=user_language(lang),
        hooks=hooks, sync_crms=tuple(sync or ()), sync_every=every, credentials=config,
        watch_config=watch, watch_every=watch_every,
    )
    check_settings(settings)  # before anything is created: exit 2 with the reason
    from voronka.io.crm import CRM_NAMES

    for crm in settings.sync_crms:
        if crm not in CRM_NAMES:
            raise UsageError(
                Msg("errors.raised.unknown_crm", crm=repr(crm)), expected=any_of(CRM_NAMES)
            )
    if not 0 < port < 65536:
        raise UsageError(
            Msg("errors.raised.port_is_not_a_port", port=port),
            expected=Msg("errors.expected.1_to_65535"),
        )
    ensure_port_free(host, port)
    app = create_app(settings)
    if path is not None:
        _add_path(app, path)
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning")


def _add_path(app: object, path: Path) -> None:
    """Copy a local export into the store as a dataset (so the dashboard opens on it)."""
    import shutil

    from voronka.errors import InputError, Msg

    store = app.state.store  # type: ignore[attr-defined]
    if not path.exists():
        raise InputError(Msg("errors.msg.export_missing"), file=str(path))
    dataset_id, folder = store.new_dataset_folder()
    if path.is_dir():
        shutil.copytree(path, folder, dirs_exist_ok=True)
    else:
        shutil.copy2(path, folder / path.name)
    store.add_dataset(dataset_id, path.name, folder)
