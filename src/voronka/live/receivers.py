"""Webhook receivers for amoCRM, Bitrix24, HubSpot and Pipedrive: a FastAPI router to mount.

``router(store, config)`` serves ``POST /hooks/{amocrm,bitrix24,hubspot,pipedrive}``. Each request
is authenticated the way its CRM allows (401 otherwise, logged without the secret), read (400 when
the body is not what the CRM documents), and its events are committed to the store by the single
writer before the 2xx goes out. A retry or a duplicate has the same event key and is stored once.

| CRM | authentication |
|---|---|
| amoCRM | account webhooks are not signed: a secret ``token`` in the webhook's URL query |
| Bitrix24 | ``auth[application_token]`` of the body equals the application token |
| HubSpot | ``X-HubSpot-Signature-v3``: base64 HMAC-SHA256 of method + URI + body + timestamp with the app's client secret; the timestamp within 5 minutes |
| Pipedrive | HTTP basic auth with the user and password set on the webhook |
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from voronka.live.payloads import (
    Malformed,
    amocrm_events,
    bitrix24_events,
    hubspot_events,
    parse_form,
    parse_json,
    pipedrive_events,
)
from voronka.live.store import HookEvent, LiveStore

log = logging.getLogger("voronka.live.hooks")

MAX_BODY = 2 * 1024 * 1024
"""The largest webhook body accepted (HubSpot's 100 events are far below)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class HooksConfig:
    """The receivers' secrets and settings (secrets only from the environment, see
    :meth:`from_env`).

    Attributes:
        amocrm_token: the secret in amoCRM's webhook URL (``?token=``).
        bitrix24_token: Bitrix24's application token.
        hubspot_secret: the HubSpot app's client secret.
        pipedrive_user, pipedrive_password: the basic-auth pair set on the Pipedrive webhook.
        public_url: the address the CRMs call (``https://hooks.example.com``), used for HubSpot's
            signature when a reverse proxy changes scheme or host; None: the request's own URL.
        max_skew_seconds: HubSpot timestamps older (or newer) than this are refused.
        now: the clock (tests pass their own).
    """

    amocrm_token: str | None = None
    bitrix24_token: str | None = None
    hubspot_secret: str | None = None
    pipedrive_user: str | None = None
    pipedrive_password: str | None = None
    public_url: str | None = None
    max_skew_seconds: float = 300.0
    now: Callable[[], datetime] = field(default=_utc_now, compare=False)

    ENV = {
        "amocrm_token": "VORONKA_HOOK_AMOCRM_TOKEN",
        "bitrix24_token": "VORONKA_HOOK_BITRIX24_TOKEN",
        "hubspot_secret": "VORONKA_HOOK_HUBSPOT_SECRET",
        "pipedrive_user": "VORONKA_HOOK_PIPEDRIVE_USER",
        "pipedrive_password": "VORONKA_HOOK_PIPEDRIVE_PASSWORD",
        "public_url": "VORONKA_HOOK_PUBLIC_URL",
    }
    """Environment variable of each setting."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> HooksConfig:
        """The settings from ``VORONKA_HOOK_*`` variables (an empty one counts as unset)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {k: (env.get(v) or None) for k, v in cls.ENV.items()}
        values.update(overrides)
        return cls(**values)

    def enabled(self) -> list[str]:
        """The CRMs whose receiver has its secret."""
        out = []
        if self.amocrm_token:
            out.append("amocrm")
        if self.bitrix24_token:
            out.append("bitrix24")
        if self.hubspot_secret:
            out.append("hubspot")
        if self.pipedrive_user and self.pipedrive_password:
            out.append("pipedrive")
        return out


class Refused(Exception):
    """A request that is not from the CRM (401). The reason never holds the secret."""


def _same(given: str | None, secret: str | None) -> bool:
    if not given or not secret:
        return False
    return hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8"))


def hubspot_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """HubSpot's v3 signature: base64 of HMAC-SHA256(secret, method + uri + body + timestamp)."""
    message = method.encode() + uri.encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _check_hubspot(request: Request, body: bytes, config: HooksConfig) -> None:
    if not config.hubspot_secret:
        raise Refused("no client secret configured (VORONKA_HOOK_HUBSPOT_SECRET)")
    given = request.headers.get("x-hubspot-signature-v3")
    stamp = request.headers.get("x-hubspot-request-timestamp")
    if not given or not stamp:
        raise Refused("missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp")
    try:
        sent = float(stamp) / 1000
    except ValueError:
        raise Refused("timestamp is not a number") from None
    if abs(config.now().timestamp() - sent) > config.max_skew_seconds:
        raise Refused("timestamp outside the allowed window")
    if config.public_url:
        uri = config.public_url.rstrip("/") + request.url.path
        if request.url.query:
            uri += "?" + request.url.query
    else:
        uri = str(request.url)
    expected = hubspot_signature(config.hubspot_secret, request.method, uri, body, stamp)
    if not _same(given, expected):
        raise Refused("bad signature")


def _check_pipedrive(request: Request, config: HooksConfig) -> None:
    if not (config.pipedrive_user and config.pipedrive_password):
        raise Refused("no basic-auth pair configured (VORONKA_HOOK_PIPEDRIVE_USER/PASSWORD)")
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise Refused("missing basic auth")
    try:
        user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Refused("unreadable basic auth") from None
    if not (_same(user, config.pipedrive_user) & _same(password, config.pipedrive_password)):
        raise Refused("wrong user or password")


def _reply(status: int, **content: Any) -> JSONResponse:
    return JSONResponse(content, status_code=status)


def router(
    store: LiveStore,
    config: HooksConfig,
    *,
    on_trigger: Callable[[str, list[str]], None] | None = None,
    prefix: str = "/hooks",
) -> APIRouter:
    """The webhook receivers as a router to mount in any FastAPI app.

    Args:
        store: where events are committed (one per process; its writer thread serialises).
        config: secrets and settings (:meth:`HooksConfig.from_env`).
        on_trigger: called with ``(crm, deal_ids)`` after trigger or delete events are stored
            (a scheduler pulls those deals right away).
        prefix: the path prefix of the receivers.
    """
    api = APIRouter(prefix=prefix)

    async def receive(
        crm: str, request: Request, read: Callable[[bytes, datetime], list[HookEvent]],
        check: Callable[[bytes], None],
    ) -> JSONResponse:
        client = request.client.host if request.client else "?"
        body = await request.body()
        if len(body) > MAX_BODY:
            return _reply(413, error="body too large")
        received = config.now()
        try:
            check(body)
        except Refused as exc:
            log.warning("hooks/%s: 401 from %s: %s", crm, client, exc)
            return _reply(401, error="unauthorized")
        except Malformed as exc:
            log.warning("hooks/%s: 400 from %s: %s", crm, client, exc)
            return _reply(400, error=str(exc))
        try:
            events = read(body, received)
        except Malformed as exc:
            log.warning("hooks/%s: 400 from %s: %s", crm, client, exc)
            return _reply(400, error=str(exc))
        new = 0
        if events:
            fut = store.writer().submit(events, received)
            new = await asyncio.wrap_future(fut)
        triggers = sorted({e.deal_id for e in events if e.kind in ("trigger", "delete")})
        if triggers and on_trigger is not None:
            on_trigger(crm, triggers)
        return _reply(200, received=len(events), new=new)

    @api.post("/amocrm")
    async def amocrm(request: Request) -> JSONResponse:
        def check(_: bytes) -> None:
            if not config.amocrm_token:
                raise Refused("no token configured (VORONKA_HOOK_AMOCRM_TOKEN)")
            if not _same(request.query_params.get("token"), config.amocrm_token):
                raise Refused("missing or wrong token")

        return await receive("amocrm", request,
                             lambda b, at: amocrm_events(parse_form(b), at), check)

    @api.post("/bitrix24")
    async def bitrix24(request: Request) -> JSONResponse:
        def check(body: bytes) -> None:
            if not config.bitrix24_token:
                raise Refused("no application token configured (VORONKA_HOOK_BITRIX24_TOKEN)")
            try:
                auth = parse_form(body).get("auth")
            except Malformed:
                raise Refused("unreadable body, no application token") from None
            token = auth.get("application_token") if isinstance(auth, dict) else None
            if not _same(token, config.bitrix24_token):
                raise Refused("missing or wrong application token")

        return await receive("bitrix24", request,
                             lambda b, at: bitrix24_events(parse_form(b), at), check)

    @api.post("/hubspot")
    async def hubspot(request: Request) -> JSONResponse:
        return await receive("hubspot", request,
                             lambda b, at: hubspot_events(parse_json(b), at),
                             lambda b: _check_hubspot(request, b, config))

    @api.post("/pipedrive")
    async def pipedrive(request: Request) -> JSONResponse:
        return await receive("pipedrive", request,
                             lambda b, at: pipedrive_events(parse_json(b), at),
                             lambda _: _check_pipedrive(request, config))

    @api.get("/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "receivers": config.enabled()}

    return api
