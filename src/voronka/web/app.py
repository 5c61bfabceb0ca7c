"""The FastAPI app factory: ``create_app(settings)`` wires the store, the workspace, the pages,
the REST API and the access token. Nothing lives at module level; each app owns its state
(``app.state.settings``, ``app.state.store``, ``app.state.workspace``).
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from voronka.errors import InputError, Msg, UsageError
from voronka.web.store import Store
from voronka.web.workspace import UnknownDataset, Workspace

TOKEN_COOKIE = "voronka_token"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
"""Default limit of one upload (bytes)."""


@dataclass(frozen=True)
class ServeSettings:
    """How the server runs.

    Attributes:
        data_dir: the folder holding the store and the uploaded datasets.
        host: the address the server listens on.
        token: the access token (required when ``host`` is not a loopback address).
        max_upload_bytes: the largest upload accepted.
        lang: the default language of the pages.
        cache_size: audits kept per server.
    """

    data_dir: Path
    host: str = "127.0.0.1"
    token: str | None = None
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    lang: str = "ru"
    cache_size: int = 64
    hooks: bool = False
    sync_crms: tuple[str, ...] = ()
    sync_every: float = 15.0
    credentials: Path | None = None
    watch_config: Path | None = None
    watch_every: float = 60.0

    @property
    def live(self) -> bool:
        """Whether the server also runs the live features (receivers, sync, watch)."""
        return self.hooks or bool(self.sync_crms) or self.watch_config is not None


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ensure_port_free(host: str, port: int) -> None:
    """Exit 2 with a clear message when another program listens on ``host:port`` (rather than
    the web server's own bind error after start-up)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise UsageError(
                Msg("errors.raised.port_in_use", host=host, port=port),
                expected=Msg("errors.expected.free_port"),
            ) from exc


def check_settings(settings: ServeSettings) -> None:
    """Refuse to serve beyond this machine without an access token (:class:`UsageError`)."""
    if not is_loopback(settings.host) and not settings.token:
        raise UsageError(
            Msg("errors.raised.refusing_to_listen_on_without_an", host=settings.host),
            expected=Msg("errors.expected.token_token_or_voronka_token_or"),
        )


class _TokenCheck(BaseHTTPMiddleware):
    """Every request carries the token: ``Authorization: Bearer``, the cookie, or ``?token=``
    (which sets the cookie, so a browser needs it once)."""

    def __init__(self, app: object, token: str) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.token = token

    def _ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.url.path.startswith(HOOKS_PREFIX + "/"):
            # The CRMs cannot send the dashboard's token: each receiver checks its own secret
            # (signature, application token or basic auth; docs/live.md).
            return await call_next(request)
        header = request.headers.get("authorization", "")
        bearer = header[7:] if header.lower().startswith("bearer ") else None
        query = request.query_params.get("token")
        if self._ok(bearer) or self._ok(request.cookies.get(TOKEN_COOKIE)):
            return await call_next(request)
        if self._ok(query):
            response = await call_next(request)
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
            return response
        return JSONResponse(
            {"detail": "an access token is required"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )


HOOKS_PREFIX = "/hooks"
"""Where the webhook receivers are mounted when ``serve`` runs them."""


def _live_parts(settings: ServeSettings) -> Any:
    """The live store and scheduler of ``settings`` (None when not asked for)."""
    if not settings.live:
        return None
    from voronka.live.app import live_parts

    return live_parts(settings.data_dir, sync_crms=settings.sync_crms,
                      sync_every=settings.sync_every, credentials=settings.credentials,
                      watch=settings.watch_config, watch_every=settings.watch_every)


def _static(name: str) -> bytes:
    return resources.files("voronka.web").joinpath("static", name).read_bytes()


def create_app(settings: ServeSettings) -> FastAPI:
    """A new app serving ``settings.data_dir`` (see the module docstring)."""
    check_settings(settings)
    store = Store.open(settings.data_dir)
    live = _live_parts(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            if live is None:
                yield
            else:
                async with live.lifespan():  # the live app's own (voronka.live.app)
                    yield
        finally:
            app.state.pull_jobs.close()
            store.close()

    app = FastAPI(
        title="voronka",
        summary="Sales-funnel audit: the dashboard's REST API",
        version="1",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.store = store
    app.state.workspace = Workspace(store, cache_size=settings.cache_size)
    if settings.token:
        app.add_middleware(_TokenCheck, token=settings.token)

    inside_data = re.compile(re.escape(str(store.data_dir)) + r"/datasets/[0-9a-f]+/")

    @app.exception_handler(InputError)
    async def bad_input(request: Request, exc: Exception) -> Response:
        message = _error_text(exc, _request_lang(request, settings.lang))
        message = inside_data.sub("", message)  # the user's file name, not the server's path
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=400)
        return PlainTextResponse(message, status_code=400)

    @app.exception_handler(UnknownDataset)
    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": "no such dataset"}, status_code=404)

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        kinds = {"htmx.min.js": "text/javascript", "web.css": "text/css"}
        if name in kinds:
            return Response(_static(name), media_type=kinds[name],
                            headers={"Cache-Control": "max-age=86400"})
        if name == "report.js":
            from voronka.report.html import report_asset

            return Response(report_asset("report.js"), media_type="text/javascript")
        if name == "report.css":
            from voronka.report.html import report_asset

            return Response(report_asset("report.css"), media_type="text/css")
        if name == "plotly.js":
            from voronka.report.html import plotly_js

            return Response(plotly_js(), media_type="text/javascript",
                            headers={"Cache-Control": "max-age=86400"})
        return PlainTextResponse("not found", status_code=404)

    from voronka.web.api_routes import router as api_router
    from voronka.web.pages import router as pages_router
    from voronka.web.pages_funnel import router as funnel_router
    from voronka.web.pages_funnel_form import router as funnel_form_router
    from voronka.web.pages_pull import pull_jobs_for
    from voronka.web.pages_pull import router as pull_router
    from voronka.web.pages_team import router as team_router
    from voronka.web.pages_whatif import router as whatif_router

    app.include_router(api_router)
    app.include_router(pages_router)
    app.include_router(team_router)
    app.include_router(funnel_form_router)
    app.include_router(funnel_router)
    app.include_router(whatif_router)
    app.include_router(pull_router)
    app.state.pull_jobs = pull_jobs_for(app)
    if settings.hooks:
        live.mount(app, prefix=HOOKS_PREFIX, include_in_schema=False)
    app.state.live_store = live.store if live is not None else None
    app.state.scheduler = live.scheduler if live is not None else None
    return app


def _request_lang(request: Request, default: str) -> str:
    """The language a request asks for (``?lang=``), else the server's."""
    value = request.query_params.get("lang") or default
    return "en" if value.startswith("en") else "ru"


def _error_text(exc: Exception, lang: str) -> str:
    """An input error in ``lang``, as the CLI says it (:meth:`InputError.describe_in`)."""
    if isinstance(exc, InputError):
        return exc.describe_in(lang)
    return str(exc)
