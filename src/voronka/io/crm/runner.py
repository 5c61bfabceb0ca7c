"""``pull``: run a connector into a folder, resumably and incrementally."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import httpx
import tomli_w

from voronka.funnel import funnel_to_dict
from voronka.i18n import t
from voronka.io.crm.base import Connector, stage_owner
from voronka.io.crm.credentials import CRM_NAMES, load_credentials
from voronka.io.crm.errors import CrmError
from voronka.io.crm.funnels import pipeline_funnels
from voronka.io.crm.http import Clock, SystemClock
from voronka.io.crm.model import (
    ProgressCallback,
    Pulled,
    PullProgress,
    PullSummary,
    RunWindow,
    from_iso,
    to_utc,
)
from voronka.io.crm.profiles import REGISTRY
from voronka.io.crm.redact import redact, secrets_of
from voronka.io.crm.store import (
    STATE_VERSION,
    Staging,
    atomic_write_text,
    format_amount,
    format_datetime,
    load_state,
    merge_deals,
    merge_events,
    save_state,
)

CONNECTORS: Mapping[str, type[Connector]] = {
    p.id: p.load_connector() for p in REGISTRY.values()
}
"""The pull connector of each CRM (:mod:`voronka.io.crm.profiles`)."""


def pull(
    crm: str,
    out_dir: str | Path,
    *,
    credentials: Mapping[str, str] | None = None,
    config: str | Path | None = None,
    progress: ProgressCallback | None = None,
    since: datetime | date | None = None,
    client: httpx.Client | None = None,
    clock: Clock | None = None,
    env: Mapping[str, str] | None = None,
) -> PullSummary:
    """Pull pipelines, deals and stage history from a CRM's API into ``out_dir``.

    Writes ``funnel.toml`` (the main pipeline; ``funnel-<pipeline>.toml`` for the others),
    ``deals.csv``, ``events.csv`` and the state file ``.voronka-pull.json``. A second pull into
    the same folder fetches only what changed since the first began and merges it without
    duplicates; a pull that died half-way resumes from its last checkpoint.

    Args:
        crm: ``amocrm``, ``bitrix24``, ``hubspot`` or ``pipedrive``.
        out_dir: the folder to write (created when missing).
        credentials: keys such as ``token``, ``subdomain``, ``webhook``, ``base_url``; missing
            ones come from ``VORONKA_<CRM>_<KEY>`` variables, then the config file.
        config: the credentials file (default ``~/.config/voronka/credentials.toml``).
        progress: called after every page fetched.
        since: fetch only what changed from this date or instant (UTC) on; default: everything
            on a first pull, what changed since the previous pull otherwise.
        client: an :class:`httpx.Client` to send the requests with.
        clock: the clock and sleep (tests pass a simulated one).
        env: the environment to read credentials from (default ``os.environ``).

    Raises:
        CrmError: (an :class:`~voronka.errors.InputError`) bad or missing credentials, a wrong
            account address, a missing permission, a CRM that keeps failing.
    """
    crm = crm.strip().lower()
    if crm not in CONNECTORS:
        raise CrmError.make("unknown_crm", crm=crm, known=", ".join(CRM_NAMES))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clock = clock or SystemClock()
    creds = load_credentials(crm, given=credentials, config=config, env=env)
    secrets = secrets_of(creds)
    try:
        return _pull(crm, out, creds, progress=progress, since=since, client=client, clock=clock)
    except CrmError as exc:
        raise exc.scrub(secrets) from None
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        shown = redact(text, secrets)
        if shown != text:  # never let a credential reach the internal-error line
            raise RuntimeError(shown) from None
        raise


def _pull(
    crm: str,
    out: Path,
    creds: Mapping[str, str],
    *,
    progress: ProgressCallback | None,
    since: datetime | date | None,
    client: httpx.Client | None,
    clock: Clock,
) -> PullSummary:
    """The pull of :func:`pull` once the credentials are known."""
    cls = CONNECTORS[crm]
    state = load_state(out)
    if state.get("crm") not in (None, crm):
        raise CrmError.make("other_crm", path=str(out), other=state["crm"], crm=crm)
    staging = Staging(out)
    last: dict[str, Any] | None = state.get("last_pull")
    run: dict[str, Any] | None = state.get("run")
    resumed = run is not None
    if run is None:
        staging.clear()
        window_since = _since(since) if since is not None else (
            from_iso(last["until"]) if last else None
        )
        run = {
            "until": clock.now().astimezone(UTC).isoformat(),
            "since": window_since.isoformat() if window_since else None,
            "marks": dict(last.get("marks", {})) if last and since is None else {},
            "cursors": {},
            "done": [],
        }
        state.update(version=STATE_VERSION, crm=crm, run=run)
        save_state(out, state)
    else:
        staging.load()
    window = RunWindow(
        since=from_iso(run["since"]), until=from_iso(run["until"]) or clock.now(),
        marks=run["marks"],
    )
    http = cls.connect(creds, clock=clock, client=client)
    connector = cls(http, window, staging)
    try:
        for phase in cls.phases:
            if phase in run["done"]:
                continue
            cursor = run["cursors"].get(phase)
            while True:
                page = connector.fetch(phase, cursor)
                staging.add(phase, cursor, page.records)
                cursor = page.next_cursor
                run["cursors"][phase] = cursor
                if page.done:
                    run["done"].append(phase)
                save_state(out, state)
                if progress is not None:
                    progress(PullProgress(phase, staging.count(phase), page.total, http.requests))
                if page.done:
                    break
        pulled = connector.assemble()
        marks = connector.marks()
    finally:
        http.close()
    summary = _write_folder(out, crm, pulled, last, window, resumed, http.requests)
    state["last_pull"] = {
        "since": run["since"],
        "until": run["until"],
        "marks": marks,
        "funnel_files": list(summary.funnel_files),
    }
    state["run"] = None
    save_state(out, state)
    staging.clear()
    return summary


def _since(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return to_utc(value)
    return datetime.combine(value, time(0), tzinfo=UTC)


def _write_folder(
    out: Path,
    crm: str,
    pulled: Pulled,
    last: Mapping[str, Any] | None,
    window: RunWindow,
    resumed: bool,
    requests: int,
) -> PullSummary:
    funnels = pipeline_funnels(pulled.pipelines)
    names = {(pf.pipeline.key, k): v for pf in funnels for k, v in pf.names.items()}
    pipeline_names = {pf.pipeline.key: pf.pipeline.name for pf in funnels}
    owner = stage_owner(pulled.pipelines)
    events = []
    skipped = 0
    for e in pulled.entries:
        pipeline_key = e.pipeline_key if e.pipeline_key is not None else owner.get(e.stage_key)
        name = names.get((pipeline_key or "", e.stage_key))
        if name is None:
            skipped += 1
            continue
        events.append(
            {"deal_id": e.deal_id, "stage": name, "entered_at": format_datetime(e.entered_at)}
        )
    deals = [
        {
            "deal_id": d.deal_id,
            "created_at": format_datetime(d.created_at),
            "source": d.source or "",
            "utm_source": d.utm_source or "",
            "utm_medium": d.utm_medium or "",
            "utm_campaign": d.utm_campaign or "",
            "manager": d.manager or "",
            "amount": format_amount(d.amount),
            "status": d.status,
            "closed_at": format_datetime(d.closed_at),
            "lost_reason": d.lost_reason or "",
            "pipeline": pipeline_names.get(d.pipeline_key, d.pipeline_key),
        }
        for d in pulled.deals
    ]
    deals_total, _ = merge_deals(out / "deals.csv", deals)
    events_total, events_added = merge_events(out / "events.csv", events)
    written = []
    for pf in funnels:
        comment = t(
            "crm.funnel_file_comment", pf.funnel.language, crm=crm, pipeline=pf.pipeline.name,
            key=pf.pipeline.key,
        )
        text = f"# {comment}\n" + tomli_w.dumps(funnel_to_dict(pf.funnel))
        atomic_write_text(out / pf.file_name, text)
        written.append(pf.file_name)
    for stale in (last or {}).get("funnel_files", []):
        if stale not in written and "/" not in stale and stale.startswith("funnel"):
            (out / stale).unlink(missing_ok=True)
    return PullSummary(
        crm=crm,
        out_dir=out,
        since=window.since,
        incremental=last is not None,
        resumed=resumed,
        deals_fetched=len(deals),
        deals_total=deals_total,
        events_added=events_added,
        events_total=events_total,
        events_skipped=skipped,
        pipelines=tuple(pf.pipeline.name for pf in funnels),
        funnel_files=tuple(written),
        requests=requests,
    )


def describe_pull(summary: PullSummary, lang: str | None = None) -> list[str]:
    """The lines a person reads after a pull (for the CLI), in ``lang``."""
    lines = [
        t(
            "crm.summary.fetched", lang, deals=summary.deals_fetched, total=summary.deals_total,
            added=summary.events_added, events=summary.events_total, path=str(summary.out_dir),
        )
    ]
    if summary.incremental and summary.since is not None:
        lines.append(t("crm.summary.incremental", lang, since=format_datetime(summary.since)))
    if summary.resumed:
        lines.append(t("crm.summary.resumed", lang))
    if len(summary.funnel_files) > 1:
        others = ", ".join(
            f"{f} ({p})"
            for f, p in zip(summary.funnel_files[1:], summary.pipelines[1:], strict=True)
        )
        lines.append(
            t("crm.summary.pipelines", lang, main=summary.pipelines[0], others=others)
        )
    if summary.events_skipped:
        lines.append(t("crm.summary.skipped", lang, count=summary.events_skipped))
    return lines
