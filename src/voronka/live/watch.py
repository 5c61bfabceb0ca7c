"""``voronka watch``: audit, compare with what each recipient was told, deliver only what is new.

One run: audit the dataset (a pulled folder, any folder or file ``voronka audit`` reads), extract
the findings (:mod:`voronka.live.findings`), record them as this run in the store, and for each
recipient and each of their channels send a digest of what that channel has not told them yet.
What was sent is remembered per recipient and channel in the store, so nothing is sent twice; a
failed delivery is retried on the next run; quiet hours hold e-mail, Telegram and webhooks until
they end. The first run of a channel records the current findings as its baseline and sends
nothing (``first_run = "report"`` sends them instead).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from voronka.i18n import t
from voronka.live.channels import Channels, DeliveryError
from voronka.live.digest import Digest, build_digest
from voronka.live.findings import Finding, extract, for_recipient, news
from voronka.live.store import LiveStore
from voronka.live.sync import PULLED_DIR
from voronka.live.watchconfig import PUSH_CHANNELS, Recipient, WatchConfig

BASELINE_KEY = "__baseline__"

AuditFn = Callable[[str, WatchConfig], Mapping[str, Any]]


@dataclass(frozen=True)
class Delivery:
    """What happened for one recipient and channel: ``baseline``, ``sent``, ``nothing``,
    ``quiet`` or ``failed`` (with ``count`` findings and the ``error``)."""

    recipient: str
    channel: str
    status: str
    count: int = 0
    error: str | None = None

    def describe(self, lang: str) -> str:
        """One line for the person running ``voronka watch``."""
        return t(f"live.watch.{self.status}", lang, recipient=self.recipient,
                 channel=self.channel, count=self.count, error=self.error or "")


@dataclass(frozen=True)
class WatchReport:
    """One watch run: when, on what, the findings, and each delivery with its digest."""

    at: datetime
    dataset: str
    findings: tuple[Finding, ...]
    deliveries: tuple[Delivery, ...]
    digests: tuple[Digest, ...] = field(default=())


def in_quiet_hours(now: datetime, start: time, end: time) -> bool:
    """Whether the local time of ``now`` is within ``start``–``end`` (which may wrap midnight)."""
    local = now.time().replace(tzinfo=None)
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def resolve_dataset(config: WatchConfig, dataset: str | Path | None,
                    data: str | Path | None, base: Path | None = None) -> str:
    """What to audit: the ``dataset`` given, else the configuration's, else the one pulled folder
    of ``<data>/pulled/``."""
    from voronka.errors import Msg, UsageError

    chosen = dataset or config.dataset
    if chosen is not None:
        p = Path(chosen)
        if not p.is_absolute() and base is not None and dataset is None:
            p = base / p
        return str(p)
    if data is not None:
        pulled = sorted(p for p in (Path(data) / PULLED_DIR).glob("*") if p.is_dir())
        if len(pulled) == 1:
            return str(pulled[0])
    raise UsageError(Msg("live.watch.no_dataset"))


def default_audit(dataset: str, config: WatchConfig) -> Mapping[str, Any]:
    """Audit ``dataset`` with the configuration's audit options (the JSON contract)."""
    from voronka import api

    a = config.audit
    result = api.audit(dataset, funnel=a.funnel, by=a.by, plan=a.plan,
                       plan_revenue=a.plan_revenue, lang=config.language)
    return result.to_dict()


def _stage_names(result: Mapping[str, Any]) -> dict[str, str]:
    stages = (result.get("funnel") or {}).get("stages") or []
    return {str(s.get("id")): str(s.get("name") or s.get("id")) for s in stages}


def run_watch(
    config: WatchConfig,
    store: LiveStore,
    *,
    dataset: str | Path | None = None,
    data: str | Path | None = None,
    base: Path | None = None,
    now: datetime | None = None,
    channels: Channels | None = None,
    audit: AuditFn | None = None,
) -> WatchReport:
    """One watch run (see the module docstring).

    Args:
        config: the validated ``watch.toml``.
        store: where runs and what was told are remembered.
        dataset: what to audit (overrides the configuration's ``dataset``).
        data: the data folder (its one pulled folder is the default dataset).
        base: the folder relative paths in the configuration start from.
        now: the time of the run (UTC; tests move it).
        channels: the delivery channels (default: real ones from the configuration).
        audit: the audit function (default: :func:`default_audit`).
    """
    now = now or datetime.now(UTC)
    target = resolve_dataset(config, dataset, data, base)
    result = (audit or default_audit)(target, config)
    findings = extract(result)
    store.save_watch_run(now, target, [
        {"key": f.key, "kind": f.kind, "value": f.value, "manager": f.manager} for f in findings
    ])
    channels = channels or Channels(config, base=base)
    names = _stage_names(result)
    deliveries: list[Delivery] = []
    digests: list[Digest] = []
    for r in config.recipient:
        mine = for_recipient(findings, r.role, r.manager)
        for channel in r.channels:
            d, digest = _deliver(config, store, channels, r, channel, mine, names, now)
            deliveries.append(d)
            if digest is not None:
                digests.append(digest)
    return WatchReport(now, target, tuple(findings), tuple(deliveries), tuple(digests))


def _deliver(
    config: WatchConfig, store: LiveStore, channels: Channels, r: Recipient, channel: str,
    mine: list[Finding], names: Mapping[str, str], now: datetime,
) -> tuple[Delivery, Digest | None]:
    who = f"{r.name}/{channel}"
    known = store.known(who)
    if BASELINE_KEY not in known and config.first_run == "baseline":
        store.remember(who, {**{f.key: f.value for f in mine}, BASELINE_KEY: None}, now, False)
        return Delivery(r.name, channel, "baseline", len(mine)), None
    # A finding told before and missing from enough runs in a row is closed (forgotten), so
    # that it is told again when it reopens; one present in every run stays told once.
    store.track_absence(who, (f.key for f in mine), config.thresholds.close_after_runs,
                        ignore=(BASELINE_KEY,))
    known = store.known(who)
    fresh = news(mine, known, leak_growth=config.thresholds.leak_growth,
                 plan_points=config.thresholds.plan_points, closed=store.closed_findings(who))
    if not fresh:
        store.remember(who, {BASELINE_KEY: None}, now, False)
        return Delivery(r.name, channel, "nothing"), None
    quiet = config.quiet_hours
    if quiet is not None and channel in PUSH_CHANNELS:
        local = now.astimezone(config.zone_of(r))
        if in_quiet_hours(local, quiet.start, quiet.end):
            return Delivery(r.name, channel, "quiet", len(fresh)), None
    lang = config.language_of(r)
    today = [f for f in mine if f.kind == "stuck"] if r.role == "manager" else []
    digest = build_digest(r.name, r.role, lang, now, fresh, today, names,
                          max_stuck=config.thresholds.max_stuck_listed)
    try:
        channels.send(channel, digest, r)
    except DeliveryError as exc:
        return Delivery(r.name, channel, "failed", len(fresh), str(exc)), None
    store.remember(who, {**{n.finding.key: n.finding.value for n in fresh}, BASELINE_KEY: None},
                   now, True)
    store.reopened(who, (n.finding.key for n in fresh if n.reason == "reopened"))
    return Delivery(r.name, channel, "sent", len(fresh)), digest
