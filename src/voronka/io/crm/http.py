"""One HTTP client for every CRM: rate limit, retries with backoff, Retry-After, clear errors.

The clock is injectable (:class:`Clock`), so tests run a pull with hours of simulated waiting in
milliseconds and can check every wait the client made.
"""

from __future__ import annotations

import email.utils
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from voronka.io.crm.errors import (
    CrmAccountNotFound,
    CrmAuthError,
    CrmCredentialsInvalid,
    CrmError,
    CrmRateLimited,
    CrmRequestError,
    CrmScopeError,
    CrmTokenExpired,
    CrmUnavailable,
)
from voronka.io.crm.redact import protect_logs, redact, secrets_of


class Clock(Protocol):
    """Time as the pull sees it: a monotonic counter, a sleep, and the wall clock (UTC)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        """:func:`time.monotonic`."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """:func:`time.sleep`."""
        if seconds > 0:
            time.sleep(seconds)

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)


class TokenBucket:
    """A token bucket: at most ``burst`` requests at once, refilled at ``rate`` per second.

    With ``burst=1`` it spaces requests at least ``1/rate`` seconds apart, which keeps any
    one-second window at ``rate`` requests (amoCRM's "not more than 7 requests per second");
    Bitrix24's leaky bucket (2 per second drained) is the same model.
    """

    def __init__(self, rate: float, burst: int, clock: Clock) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock.monotonic()

    def acquire(self) -> None:
        """Take one token, sleeping until one is there."""
        now = self._clock.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < 1:
            wait = (1 - self._tokens) / self.rate
            self._clock.sleep(wait)
            self._last = self._clock.monotonic()
            self._tokens = 1.0
        self._tokens -= 1


@dataclass(frozen=True)
class HttpPolicy:
    """How hard one CRM may be asked.

    Attributes:
        rate_per_second: sustained requests per second.
        burst: requests allowed at once before the rate applies.
        max_retries: retries of one request on a transient failure (5xx, timeout, dropped link).
        backoff_seconds: the first retry's wait; each next one doubles it.
        max_backoff_seconds: the cap of one backoff wait.
        max_rate_limit_waits: 429 answers tolerated for one request.
        max_wait_seconds: the longest Retry-After the pull sits through before giving up with
            :class:`CrmRateLimited` (a spent daily budget is better resumed later).
        timeout_seconds: the timeout of one HTTP request.
    """

    rate_per_second: float
    burst: int = 1
    max_retries: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    max_rate_limit_waits: int = 20
    max_wait_seconds: float = 900.0
    timeout_seconds: float = 60.0


Classifier = Callable[[httpx.Response], CrmError | None]
"""A CRM's own reading of an error answer; None falls back to the generic mapping."""

BudgetReader = Callable[[httpx.Response], float]
"""Seconds to wait before the next request, read from a successful answer's budget headers."""

_TRANSIENT_STATUS = frozenset({500, 502, 503, 504, 520, 522, 524})
_DNS_WORDS = (
    "name or service not known", "nodename nor servname", "getaddrinfo failed",
    "no address associated", "temporary failure in name resolution", "name resolution",
)


class CrmHttp:
    """Requests to one CRM account, paced, retried and mapped to :class:`CrmError`.

    ``client`` is an :class:`httpx.Client` to use (tests pass one with hooks); without it the
    instance makes its own and closes it in :meth:`close`. Paths are joined to ``base_url``.
    """

    def __init__(
        self,
        crm: str,
        base_url: str,
        *,
        policy: HttpPolicy,
        clock: Clock,
        headers: Mapping[str, str] | None = None,
        client: httpx.Client | None = None,
        classify: Classifier | None = None,
        budget: BudgetReader | None = None,
    ) -> None:
        self.crm = crm
        self.base_url = base_url.rstrip("/") + "/"
        self.policy = policy
        self.clock = clock
        self.headers = dict(headers or {})
        self._own_client = client is None
        self._client = client or httpx.Client(timeout=policy.timeout_seconds)
        self._classify = classify
        self._budget = budget
        self._bucket = TokenBucket(policy.rate_per_second, policy.burst, clock)
        self._not_before = 0.0
        self.requests = 0
        """HTTP requests sent, retries included."""
        self.secrets = _secrets(self.base_url, self.headers)
        """The credential values of this client, removed from every message (:mod:`.redact`)."""
        protect_logs(self.secrets)

    def close(self) -> None:
        """Close the HTTP client when this instance made it."""
        if self._own_client:
            self._client.close()

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` (an absolute URL is kept as it is)."""
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + path.lstrip("/")

    def get(self, path: str, params: Any = None, *, account_check: bool = False) -> Any:
        """GET ``path``; the parsed JSON body, or None for an empty answer (HTTP 204)."""
        return self.request("GET", path, params=params, account_check=account_check)

    def post(self, path: str, body: Any = None, *, account_check: bool = False) -> Any:
        """POST ``body`` as JSON to ``path``; the parsed JSON answer."""
        return self.request("POST", path, json=body, account_check=account_check)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        account_check: bool = False,
    ) -> Any:
        """Send one request with pacing and retries; raise :class:`CrmError` when it cannot work.

        ``account_check`` marks the first request of a pull: a 404 there means the account
        address is wrong, not that one record is missing.
        """
        url = self.url(path)
        failures = 0
        rate_waits = 0
        while True:
            self._pace()
            self.requests += 1
            try:
                response = self._client.request(
                    method, url, params=params, json=json, headers=self.headers,
                    timeout=self.policy.timeout_seconds,
                )
            except (UnicodeEncodeError, httpx.LocalProtocolError, httpx.InvalidURL):
                # A header or address that cannot be sent (a token with a line break or a
                # non-Latin letter): retrying cannot help.
                raise CrmCredentialsInvalid.make(
                    "credential_unsendable", crm=self.crm
                ) from None
            except httpx.TransportError as exc:
                if _is_dns_failure(exc):
                    raise CrmAccountNotFound.make(
                        "dns", crm=self.crm, host=httpx.URL(url).host
                    ) from None
                failures += 1
                if failures > self.policy.max_retries:
                    raise CrmUnavailable.make(
                        "unavailable", crm=self.crm, tries=failures, detail=type(exc).__name__
                    ) from exc
                self.clock.sleep(self._backoff(failures))
                continue
            if response.status_code == 429 or _is_bitrix_query_limit(response):
                rate_waits += 1
                wait = _retry_after(response, self.clock)
                if wait is None:
                    wait = self._backoff(rate_waits)
                if wait > self.policy.max_wait_seconds or rate_waits > self.policy.max_rate_limit_waits:
                    raise CrmRateLimited.make("rate_limited", crm=self.crm, seconds=round(wait))
                self.clock.sleep(wait)
                continue
            if response.status_code in _TRANSIENT_STATUS:
                failures += 1
                if failures > self.policy.max_retries:
                    raise CrmUnavailable.make(
                        "unavailable", crm=self.crm, tries=failures,
                        detail=f"HTTP {response.status_code}",
                    )
                wait = _retry_after(response, self.clock)
                self.clock.sleep(wait if wait is not None else self._backoff(failures))
                continue
            if response.status_code >= 400:
                raise self._error(response, account_check)
            if self._budget is not None:
                wait = self._budget(response)
                if wait > 0:
                    self._not_before = self.clock.monotonic() + wait
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise CrmRequestError.make(
                    "bad_answer", crm=self.crm, status=response.status_code, path=self._shown(url)
                ) from exc

    # -- internals ----------------------------------------------------------------------------
    def _pace(self) -> None:
        now = self.clock.monotonic()
        if self._not_before > now:
            self.clock.sleep(self._not_before - now)
        self._bucket.acquire()

    def _shown(self, url: str) -> str:
        """``url`` without the base URL and query, which may hold a secret (a Bitrix24 webhook)."""
        path = url.split("?", 1)[0]
        return path[len(self.base_url):] if path.startswith(self.base_url) else httpx.URL(path).path

    def _backoff(self, attempt: int) -> float:
        return float(
            min(self.policy.max_backoff_seconds, self.policy.backoff_seconds * 2 ** (attempt - 1))
        )

    def _error(self, response: httpx.Response, account_check: bool) -> CrmError:
        if self._classify is not None:
            mapped = self._classify(response)
            if mapped is not None:
                return mapped.scrub(self.secrets)
        status = response.status_code
        text = response.text[:2000].lower()
        if status == 401:
            if "expired" in text:
                return CrmTokenExpired.make("expired", crm=self.crm)
            return CrmAuthError.make("auth", crm=self.crm)
        if status == 403:
            return CrmScopeError.make("scope", crm=self.crm)
        if status == 404 and account_check:
            return CrmAccountNotFound.make(
                "not_found", crm=self.crm, host=httpx.URL(self.base_url).host
            )
        detail = redact(response.text[:2000], self.secrets).replace("\n", " ")[:200]
        return CrmRequestError.make(
            "request", crm=self.crm, status=status,
            path=redact(self._shown(str(response.request.url)), self.secrets), detail=detail,
        ).scrub(self.secrets)


def _secrets(base_url: str, headers: Mapping[str, str]) -> tuple[str, ...]:
    """The credential values in a client's address and headers."""
    found = list(secrets_of({"base_url": base_url}))
    for name, value in headers.items():
        if name.lower() in ("authorization", "x-api-token", "x-api-key", "api-key"):
            found.append(value.split(None, 1)[-1] if " " in value else value)
    return tuple(found)


def _retry_after(response: httpx.Response, clock: Clock) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), else None."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - clock.now()).total_seconds())


def _is_bitrix_query_limit(response: httpx.Response) -> bool:
    """Bitrix24 refuses over-the-bucket requests with 503 ``QUERY_LIMIT_EXCEEDED``: wait, retry."""
    return response.status_code == 503 and "QUERY_LIMIT_EXCEEDED" in response.text[:500]


def _is_dns_failure(exc: BaseException) -> bool:
    """Whether a transport error is a failed name lookup (a wrong subdomain), not a flaky link."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, socket.gaierror):
            return True
        if isinstance(cur, httpx.ConnectError | OSError) and any(
            w in str(cur).lower() for w in _DNS_WORDS
        ):
            return True
        cur = cur.__cause__ or cur.__context__
    return False
