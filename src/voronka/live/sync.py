"""``voronka sync``: the existing incremental pulls, every N minutes, into the store.

Each sync of a CRM runs :func:`voronka.io.crm.pull` into ``<data>/pulled/<crm>/`` (incremental,
resumable from its checkpoint, paced by the CRM's rate limit) and then replaces that CRM's deals
and stage entries in the store with the folder's rows; webhook triggers received before the pull
began are marked as pulled. A sync that fails (network, a spent daily budget) is logged in
``sync_runs`` and the next one resumes where it stopped.

:class:`Scheduler` runs jobs (syncs, watch) at their intervals on an injectable clock: ``start`` /
``stop`` run it on a background thread (inside ``voronka serve`` or ``voronka hooks``), and
``run_until`` runs it in the foreground (``voronka sync --every``; tests with a simulated clock).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from voronka.io.crm import Clock, CrmError, PullProgress, SystemClock, load_credentials, pull
from voronka.io.crm.store import read_csv_rows
from voronka.live.deals import DealSync, gone_since, prune_folder, remove_deals
from voronka.live.store import LiveStore

log = logging.getLogger("voronka.live.sync")

PULLED_DIR = "pulled"
"""Sub-folder of the data folder holding one pulled folder per CRM."""


def pulled_folder(data: str | Path, crm: str) -> Path:
    """Where the sync of ``crm`` keeps its pulled folder (an audit input)."""
    return Path(data) / PULLED_DIR / crm


@dataclass(frozen=True)
class SyncResult:
    """One sync of one CRM.

    Attributes:
        crm: the CRM.
        started, finished: when it began and ended (UTC).
        deals_fetched: deals the pull fetched (changed since the previous sync).
        events_added: stage entries new to the store.
        deals_total, events_total: what the store holds for the CRM afterwards.
        triggers_done: webhook triggers this sync covered.
        requests: HTTP requests made.
        error: the error's message when the sync failed (it resumes next time).
    """

    crm: str
    started: datetime
    finished: datetime
    deals_fetched: int = 0
    events_added: int = 0
    deals_total: int = 0
    events_total: int = 0
    triggers_done: int = 0
    requests: int = 0
    error: str | None = None


def sync_once(
    store: LiveStore,
    data: str | Path,
    crm: str,
    *,
    credentials: Mapping[str, str] | None = None,
    config: str | Path | None = None,
    clock: Clock | None = None,
    client: httpx.Client | None = None,
    env: Mapping[str, str] | None = None,
    progress: Callable[[PullProgress], None] | None = None,
) -> SyncResult:
    """Pull what changed in ``crm`` since the last sync and bring the store up to date.

    A :class:`~voronka.io.crm.CrmError` does not propagate: it is logged in the store and returned
    as ``error`` (the pull resumes from its checkpoint next time).
    """
    clock = clock or SystemClock()
    started = clock.now()
    folder = pulled_folder(data, crm)
    try:
        summary = pull(crm, folder, credentials=credentials, config=config, clock=clock,
                       client=client, env=env, progress=progress)
    except CrmError as exc:
        message = str(exc)
        store.record_sync(crm, started, clock.now(), error=message)
        log.warning("sync %s failed: %s", crm, message)
        return SyncResult(crm, started, clock.now(), error=message)
    _deletions(store, folder, crm, started, clock, client,
               load_credentials(crm, given=credentials, config=config, env=env))
    before = len(store.stage_entries(crm))
    deals = read_csv_rows(folder / "deals.csv")
    entries = read_csv_rows(folder / "events.csv")
    store.replace_pulled(crm, deals, entries)
    finished = clock.now()
    done = store.mark_pulled(crm, started, finished)
    store.record_sync(crm, started, finished, deals_fetched=summary.deals_fetched,
                      events_added=len(entries) - before, requests=summary.requests)
    return SyncResult(
        crm, started, finished, deals_fetched=summary.deals_fetched,
        events_added=len(entries) - before, deals_total=len(deals), events_total=len(entries),
        triggers_done=done, requests=summary.requests,
    )


def _deletions(store: LiveStore, folder: Path, crm: str, started: datetime, clock: Clock,
               client: httpx.Client | None, credentials: Mapping[str, str]) -> None:
    """After a pull: deals deleted before and pulled again are back (restored); deals the CRM
    says it deleted since the previous sync are removed; and nothing of a deleted deal stays in
    the folder (a pull may bring back its old stage events)."""
    in_folder = {d["deal_id"] for d in read_csv_rows(folder / "deals.csv")}
    # A deleted deal was pruned from the folder when it was marked: there again, it was pulled.
    store.unmark_deleted(crm, store.deleted(crm) & in_folder)
    try:
        gone = gone_since(crm, in_folder | set(store.deals(crm)), store, store.last_sync(crm),
                          now=started, clock=clock, credentials=credentials, client=client)
    except CrmError as exc:  # the pull itself worked: the check runs again next time
        log.warning("sync %s: the check for deleted deals failed: %s", crm, exc)
        gone = None
    if gone:
        remove_deals(store, folder, crm, gone, started, "sync")
    prune_folder(folder, store.deleted(crm))


@dataclass
class Job:
    """A task run every ``every`` seconds (first at ``next_at``, monotonic seconds)."""

    name: str
    every: float
    run: Callable[[], Any]
    next_at: float = 0.0
    runs: int = 0
    last_error: str | None = None
    results: list[Any] = field(default_factory=list)


class Scheduler:
    """Runs jobs at their intervals on a clock; one job at a time, never overlapping.

    Args:
        clock: monotonic time and sleep (the real clock, or a test's simulated one).
        nudge_delay: how soon a webhook trigger brings a CRM's sync forward when there is no
            single-deal job for that CRM (seconds).
        keep_results: results kept per job (for progress and tests).
    """

    def __init__(self, clock: Clock | None = None, *, nudge_delay: float = 60.0,
                 keep_results: int = 50) -> None:
        self.clock = clock or SystemClock()
        self.jobs: dict[str, Job] = {}
        self.deal_queues: dict[str, DealSync] = {}
        self.nudge_delay = nudge_delay
        self.keep_results = keep_results
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, name: str, every_seconds: float, run: Callable[[], Any], *,
            first_in: float = 0.0) -> Job:
        """Add a job, first due ``first_in`` seconds from now."""
        if every_seconds <= 0:
            raise ValueError("a job's interval must be positive")
        job = Job(name, every_seconds, run, self.clock.monotonic() + first_in)
        with self._lock:
            self.jobs[name] = job
        return job

    def add_deal_queue(self, crm: str, queue: DealSync) -> Job:
        """Add the ``deals:<crm>`` job: idle until :meth:`nudge` queues deals, then due at once."""
        self.deal_queues[crm] = queue
        job = self.add(f"deals:{crm}", math.inf, queue.run, first_in=math.inf)
        return job

    def nudge(self, crm: str, deal_ids: list[str] | None = None) -> None:
        """A webhook named deals whose payload does not say what changed (or that were deleted):
        pull those deals now (the ``deals:<crm>`` job), or, for a CRM without one, bring its
        sync forward to within :attr:`nudge_delay`."""
        queue = self.deal_queues.get(crm)
        with self._lock:
            if queue is not None and deal_ids:
                queue.add(deal_ids)
                self.jobs[f"deals:{crm}"].next_at = self.clock.monotonic()
            else:
                job = self.jobs.get(f"sync:{crm}")
                if job is not None:
                    job.next_at = min(job.next_at, self.clock.monotonic() + self.nudge_delay)
        self._wake.set()

    def run_due(self) -> list[str]:
        """Run every job that is due (in name order); returns their names."""
        now = self.clock.monotonic()
        with self._lock:
            due = sorted((j for j in self.jobs.values() if j.next_at <= now),
                         key=lambda j: (j.next_at, j.name))
        ran = []
        for job in due:
            try:
                result = job.run()
                job.last_error = None
            except Exception as exc:  # a job's failure must not stop the others
                log.exception("job %s failed", job.name)
                result, job.last_error = None, f"{type(exc).__name__}: {exc}"
            job.runs += 1
            job.results = [*job.results, result][-self.keep_results:]
            with self._lock:
                if job.name.startswith("deals:"):
                    # Idle again, unless deals were queued (or left queued by a failure).
                    queue = self.deal_queues[job.name.removeprefix("deals:")]
                    again = self.clock.monotonic() + (30.0 if job.last_error else 0.0)
                    job.next_at = again if queue.pending() else math.inf
                else:
                    job.next_at = max(job.next_at + job.every, self.clock.monotonic())
            ran.append(job.name)
        return ran

    def seconds_to_next(self) -> float:
        """Seconds until the next job is due (0 when one is due now)."""
        with self._lock:
            if not self.jobs:
                return 3600.0
            nxt = min(j.next_at for j in self.jobs.values())
        return min(3600.0, max(0.0, nxt - self.clock.monotonic()))

    def run_until(self, seconds: float) -> None:
        """Run jobs in the foreground for ``seconds`` of the scheduler's clock (sleeping on it
        between jobs), then return; ``stop`` from another thread ends it early."""
        end = self.clock.monotonic() + seconds
        while not self._stop.is_set():
            self.run_due()
            wait = self.seconds_to_next()
            if self.clock.monotonic() + wait > end:
                break
            self.clock.sleep(wait)

    def start(self, tick: float = 1.0) -> None:
        """Run the jobs on a background thread (real time) until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.is_set():
                self.run_due()
                self._wake.wait(min(tick, self.seconds_to_next()) or 0.01)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="voronka-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread (a running job finishes first)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=600)
            self._thread = None

    def status(self) -> list[dict[str, Any]]:
        """Each job's name, runs, seconds to its next run and last error (for progress)."""
        now = self.clock.monotonic()
        with self._lock:
            return [{"job": j.name, "runs": j.runs,
                     "next_in": max(0.0, j.next_at - now) if math.isfinite(j.next_at) else None,
                     "last_error": j.last_error} for j in self.jobs.values()]


def sync_scheduler(
    store: LiveStore,
    data: str | Path,
    crms: list[str],
    every_minutes: float,
    *,
    clock: Clock | None = None,
    scheduler: Scheduler | None = None,
    **pull_options: Any,
) -> Scheduler:
    """A scheduler (new, or the one given) with, per CRM, a ``sync:<crm>`` job and the
    ``deals:<crm>`` job that pulls the deals webhooks name."""
    sched = scheduler or Scheduler(clock)
    for crm in crms:
        def job(crm: str = crm) -> SyncResult:
            return sync_once(store, data, crm, clock=sched.clock, **pull_options)

        sched.add(f"sync:{crm}", every_minutes * 60, job)
        sched.add_deal_queue(crm, DealSync(store, pulled_folder(data, crm), crm,
                                           clock=sched.clock, **pull_options))
    return sched
