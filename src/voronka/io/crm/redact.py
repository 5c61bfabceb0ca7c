"""Credentials never reach a message or a log: every text shown from a CRM pull goes through
:func:`redact`.

A server, a proxy or a load balancer may echo the request in its error body: the
``Authorization: Bearer …`` header, Pipedrive's ``x-api-token`` header or ``api_token`` query
parameter, a Bitrix24 webhook address (``/rest/<user>/<secret>/``). :func:`redact` replaces

* every credential value the pull knows (``secrets``: the token, the webhook's secret) wherever
  it appears, also percent-encoded;
* and, whatever the secrets, anything shaped like one: ``Bearer <x>``, ``x-api-token: <x>``,
  ``api_token=<x>`` / ``access_token=`` / ``token=`` / ``auth=`` / ``apikey=`` in a query, a
  webhook path ``/rest/<n>/<secret>/``, a JSON ``"token": "<x>"`` pair.

The replacement is :data:`MASK`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote

MASK = "***"
"""What a credential is replaced with."""

MIN_SECRET = 4
"""Shorter values are not replaced literally (they would mask ordinary words); the patterns still
apply."""

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer)(\s+)(?!\*\*\*)[^\s\"',;]+"), rf"\1\2{MASK}"),
    (re.compile(r"(?i)\b(basic)(\s+)[A-Za-z0-9+/]{8,}=*"), rf"\1\2{MASK}"),
    (re.compile(r"(?i)(x-api-token|x-api-key|authorization|api[-_]?key)(\"?\s*[:=]\s*\"?)"
                r"(?!\*\*\*)(?:bearer\s+|basic\s+)?[^\s\"',;&]+"), rf"\1\2{MASK}"),
    (re.compile(r"(?i)([?&;](?:api_token|access_token|refresh_token|token|auth|apikey|api_key|"
                r"client_secret|key|secret)=)[^&\s\"'#]*"), rf"\1{MASK}"),
    (re.compile(r"(?i)(/rest/\d+/)[^/\s\"'?#]+"), rf"\1{MASK}"),
    (re.compile(r"(?i)(\"(?:access_token|refresh_token|token|api_token|client_secret|secret|"
                r"password|webhook)\"\s*:\s*\")[^\"]*"), rf"\1{MASK}"),
)

_WEBHOOK = re.compile(r"(?i)/rest/\d+/([^/\s?#]+)")


def secrets_of(credentials: Mapping[str, str]) -> tuple[str, ...]:
    """The values of ``credentials`` that must never be shown: tokens, and a webhook's secret."""
    out: list[str] = []
    for key, value in credentials.items():
        if not value:
            continue
        if key in ("token", "api_token", "access_token", "refresh_token", "client_secret"):
            out.append(value)
        if key in ("webhook", "base_url"):
            found = _WEBHOOK.search(value)
            if found:
                out.append(found.group(1))
            if key == "webhook":
                out.append(value.rstrip("/"))
    return tuple(dict.fromkeys(out))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every credential replaced by :data:`MASK` (module docstring)."""
    out = str(text)
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET}, key=len,
                         reverse=True):
        for form in dict.fromkeys((secret, quote(secret, safe=""), quote(secret))):
            out = out.replace(form, MASK)
    for pattern, replacement in _PATTERNS:
        out = pattern.sub(replacement, out)
    return out


def redact_params(params: Mapping[str, object], secrets: Iterable[str] = ()) -> dict[str, object]:
    """``params`` with every string value redacted."""
    keep = tuple(secrets)
    return {k: redact(v, keep) if isinstance(v, str) else v for k, v in params.items()}


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record of the logger it is attached to (httpx logs
    each request's address, a Bitrix24 webhook's secret in it)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        shown = redact(text, self.secrets)
        if shown != text:
            record.msg, record.args = shown, ()
        return True


_FILTER = RedactingFilter()
_LOGGERS = ("httpx", "httpcore", "voronka")


def protect_logs(secrets: Iterable[str]) -> None:
    """Redact ``secrets`` (and credential shapes) from the logs of httpx, httpcore and voronka."""
    _FILTER.secrets.update(s for s in secrets if s and len(s) >= MIN_SECRET)
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
