"""``watch.toml``: what ``voronka watch`` audits, who hears about it, how, and when not.

Secrets never live in the file: the SMTP password, the Telegram bot token and the webhook's
bearer token come from ``VORONKA_SMTP_PASSWORD``, ``VORONKA_TELEGRAM_TOKEN`` and
``VORONKA_WATCH_WEBHOOK_TOKEN``. A file that names a secret, an unknown key, a wrong type, a
channel without its settings: each is an :class:`~voronka.errors.InputError` naming the file and
the key. See docs/live.md for an example.
"""

from __future__ import annotations

import tomllib
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from voronka.errors import InputError, Msg

Channel = Literal["stdout", "json", "markdown", "email", "telegram", "webhook"]
PUSH_CHANNELS = ("email", "telegram", "webhook")
"""Channels that reach a person's device: quiet hours hold them back."""

SECRET_KEYS = {"password", "token", "secret", "bot_token", "api_key"}
SECRET_ENV = {
    "smtp": "VORONKA_SMTP_PASSWORD",
    "telegram": "VORONKA_TELEGRAM_TOKEN",
    "webhook": "VORONKA_WATCH_WEBHOOK_TOKEN",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuditSettings(_Strict):
    """Options of the audit that watch runs (as ``voronka audit`` takes them)."""

    plan: float | None = Field(default=None, gt=0)
    plan_revenue: float | None = Field(default=None, gt=0)
    by: tuple[str, ...] | None = None
    funnel: str | None = None


class Thresholds(_Strict):
    """What counts as significant enough to tell again.

    Attributes:
        leak_growth: a leak already told is told again when its lost deals grew by this fraction.
        plan_points: the plan's probability is told when it moved by more than this many points.
        max_stuck_listed: stuck deals listed in one digest (the rest are counted).
        close_after_runs: a finding told before is *closed* once it is missing (resolved, or no
            longer significant) from this many runs in a row; when it comes back it is told
            again, as reopened. A finding present in every run is told once.
    """

    leak_growth: float = Field(default=0.25, gt=0)
    plan_points: float = Field(default=10.0, gt=0, le=100)
    max_stuck_listed: int = Field(default=20, ge=1)
    close_after_runs: int = Field(default=2, ge=1)


class QuietHours(_Strict):
    """Hours in the recipient's time zone when e-mail, Telegram and webhooks wait."""

    start: time
    end: time


class Smtp(_Strict):
    host: str
    port: int = Field(default=587, gt=0, lt=65536)
    sender: str
    starttls: bool = True
    ssl: bool = False
    user: str | None = None
    timeout: float = Field(default=30.0, gt=0)


class Telegram(_Strict):
    base_url: str = "https://api.telegram.org"
    timeout: float = Field(default=30.0, gt=0)


class Webhook(_Strict):
    url: str
    timeout: float = Field(default=30.0, gt=0)


class Markdown(_Strict):
    dir: str = "digests"


class Recipient(_Strict):
    """A person (or a chat) that gets digests.

    Attributes:
        name: unique; also what ``watch_known`` remembers them by.
        role: ``team`` (the whole funnel: leaks, anomalies, plan, every newly stuck deal) or
            ``manager`` (their own stuck deals, today's list, leaks in their segment).
        manager: for ``manager``: their value in the data's ``manager`` column.
        language: ``ru`` or ``en`` (default: the file's ``language``).
        timezone: for quiet hours (default: the file's ``timezone``).
        email, telegram_chat_id, webhook_url: addresses for those channels.
        channels: where this person's digests go.
    """

    name: str = Field(min_length=1)
    role: Literal["team", "manager"] = "team"
    manager: str | None = None
    language: Literal["ru", "en"] | None = None
    timezone: str | None = None
    email: str | None = None
    telegram_chat_id: str | None = None
    webhook_url: str | None = None
    channels: tuple[Channel, ...] = ("stdout",)


class WatchConfig(_Strict):
    """The whole ``watch.toml``."""

    dataset: str | None = None
    language: Literal["ru", "en"] = "ru"
    timezone: str = "UTC"
    first_run: Literal["baseline", "report"] = "baseline"
    audit: AuditSettings = AuditSettings()
    thresholds: Thresholds = Thresholds()
    quiet_hours: QuietHours | None = None
    smtp: Smtp | None = None
    telegram: Telegram | None = None
    webhook: Webhook | None = None
    markdown: Markdown = Markdown()
    recipient: tuple[Recipient, ...] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        _zone_of(value)
        return value

    def language_of(self, r: Recipient) -> str:
        return r.language or self.language

    def zone_of(self, r: Recipient) -> ZoneInfo:
        return _zone_of(r.timezone or self.timezone)


def _zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (e.g. Europe/Moscow, UTC)") from None


def _secret_keys(table: Any, path: str = "") -> list[str]:
    found = []
    if isinstance(table, dict):
        for key, value in table.items():
            where = f"{path}.{key}" if path else key
            if key.lower() in SECRET_KEYS:
                found.append(where)
            found.extend(_secret_keys(value, where))
    elif isinstance(table, list):
        for i, item in enumerate(table):
            found.extend(_secret_keys(item, f"{path}[{i}]"))
    return found


def parse_watch_config(data: dict[str, Any], source: str = "watch.toml") -> WatchConfig:
    """Validate a parsed ``watch.toml`` (``source`` names it in errors)."""
    secrets = _secret_keys(data)
    if secrets:
        envs = ", ".join(SECRET_ENV.values())
        raise InputError(
            Msg("errors.raised.key_holds_a_secret_secrets_are", value=repr(secrets[0])),
            file=source, expected=Msg("errors.expected.no_secret_in_the_file_set", envs=envs),
        )
    try:
        config = WatchConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(Msg("errors.raised.key", where=repr(where) if where else
                             Msg("errors.part.top_level"), value=err["msg"]),
                         file=source) from None
    _check_consistency(config, source)
    return config


def _check_consistency(config: WatchConfig, source: str) -> None:
    names = [r.name for r in config.recipient]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise InputError(
            Msg("errors.raised.recipient_name_is_used_twice", value=repr(sorted(dup)[0])),
            file=source,
        )
    for i, r in enumerate(config.recipient):
        where = f"recipient[{i}] ({r.name})"
        if r.role == "manager" and not r.manager:
            raise InputError(
                Msg("errors.raised.role_manager_needs_manager", where=where),
                file=source,
                expected=Msg("errors.expected.the_manager_s_value_in_the"),
            )
        if r.timezone:
            try:
                _zone_of(r.timezone)
            except ValueError as exc:
                raise InputError(Msg("errors.raised.where_detail", where=where, detail=str(exc)),
                                 file=source) from None
        needs = {"email": (r.email, config.smtp, "email", "[smtp]"),
                 "telegram": (r.telegram_chat_id, config.telegram, "telegram_chat_id",
                              "[telegram]"),
                 "webhook": (r.webhook_url or (config.webhook.url if config.webhook else None),
                             True, "webhook_url", "[webhook]")}
        for channel, (address, section, key, table) in needs.items():
            if channel not in r.channels:
                continue
            if not address:
                raise InputError(
                    Msg(
                        "errors.raised.channel_needs",
                        where=where,
                        channel=repr(channel),
                        key=repr(key),
                    ),
                    file=source,
                )
            if section is None:
                raise InputError(
                    Msg(
                        "errors.raised.channel_needs_the_table",
                        where=where,
                        channel=repr(channel),
                        table=table,
                    ),
                    file=source,
                )


def load_watch_config(path: str | Path) -> WatchConfig:
    """Read and validate ``watch.toml``."""
    p = Path(path)
    if not p.is_file():
        raise InputError(Msg("errors.raised.the_watch_configuration_does_not_exist"), file=str(p),
                         expected=Msg("errors.expected.a_toml_file_see_docs_live"))
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(Msg("errors.raised.not_valid_toml", exc=exc), file=str(p)) from None
    return parse_watch_config(data, str(p))
