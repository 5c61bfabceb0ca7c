"""``voronka pull`` from the browser: a pull runs as a background job of the app, reports its
progress, can be cancelled, and its folder becomes a dataset (the dashboard's data).

Each CRM pulls into its own folder ``<data>/pulls/<crm>``, so the next pull of the same CRM
fetches only what changed and a cancelled one resumes (as the CLI's). When a pull ends, its
deals, events and main funnel file are copied into a new dataset and read once, so a broken
pull is reported on the progress page, not on the dashboard.

Credentials: the form's values, else ``VORONKA_<CRM>_<KEY>`` variables, else the credentials
file (:func:`voronka.io.crm.load_credentials`). Values typed in the form are kept in this app's
memory for the next pull of that CRM ("entered once"); they are never written to disk, never put
back into a page, and every message shown goes through :func:`voronka.io.crm.redact.redact`.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voronka.errors import InputError, Msg
from voronka.io.crm import CrmError, PullProgress, pull
from voronka.io.crm.redact import redact, secrets_of

PULLED_FILES = ("deals.csv", "events.csv", "funnel.toml")
"""What a dataset takes from a pulled folder (the other pipelines' funnel files stay there)."""

SECRET_KEYS = frozenset({"token", "webhook", "api_token", "access_token", "refresh_token",
                         "client_secret"})
"""Credential keys whose field hides what is typed."""


class PullCancelled(Exception):
    """The user cancelled the pull (raised from the progress callback between two pages)."""


@dataclass
class PullJob:
    """One pull and where it is.

    Attributes:
        id: the job's id (in its page's address).
        crm: the CRM pulled.
        state: ``running``, ``done``, ``failed`` or ``cancelled``.
        phase: the phase running (``deals``, ``events`` …; ``dataset`` while the dataset is read).
        records: records fetched in the phase so far.
        total: the phase's record count when the CRM tells it.
        requests: HTTP requests sent so far.
        errors: what went wrong per language (``ru``, ``en``; credentials redacted).
        dataset_id: the dataset made from the pull (when done).
        deals: deals in the pulled folder (when done).
    """

    id: str
    crm: str
    state: str = "running"
    phase: str = "start"
    records: int = 0
    total: int | None = None
    requests: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    dataset_id: str | None = None
    deals: int | None = None
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        """Whether the pull is still going."""
        return self.state == "running"

    @property
    def fraction(self) -> float | None:
        """The phase's share done, when the CRM tells the phase's size."""
        if self.total:
            return min(1.0, self.records / self.total)
        return None


class PullJobs:
    """The pulls of one app: at most one running per CRM (they share its folder)."""

    def __init__(
        self,
        data_dir: Path,
        make_dataset: Callable[[str, Path], str],
        *,
        env: Mapping[str, str] | None = None,
        pull_options: Mapping[str, Any] | None = None,
    ) -> None:
        """``make_dataset(name, folder)``: store the folder's files as a dataset and read it
        once; returns the dataset's id. ``env``: where the credential variables are read
        (default ``os.environ``). ``pull_options``: extra arguments of :func:`pull` (tests)."""
        self.data_dir = data_dir
        self._make_dataset = make_dataset
        self._env = env
        self._options = dict(pull_options or {})
        self._lock = threading.Lock()
        self._jobs: dict[str, PullJob] = {}
        self._entered: dict[str, dict[str, str]] = {}

    def entered_keys(self, crm: str) -> set[str]:
        """The credential keys of ``crm`` typed earlier (their values are never shown)."""
        with self._lock:
            return set(self._entered.get(crm, {}))

    def job(self, job_id: str) -> PullJob | None:
        """The job ``job_id``, or None."""
        with self._lock:
            return self._jobs.get(job_id)

    def start(self, crm: str, given: Mapping[str, str]) -> PullJob:
        """Start pulling ``crm`` (or return its running pull). ``given``: the form's non-empty
        credential values, remembered for the next pull of this CRM."""
        with self._lock:
            running = next((j for j in self._jobs.values() if j.crm == crm and j.running), None)
            if running is not None:
                return running
            remembered = {**self._entered.get(crm, {}), **{k: v for k, v in given.items() if v}}
            if remembered:
                self._entered[crm] = remembered
            job = PullJob(uuid.uuid4().hex[:12], crm)
            self._jobs[job.id] = job
        job.thread = threading.Thread(target=self._run, args=(job, dict(remembered)),
                                      name=f"voronka-pull-{crm}", daemon=True)
        job.thread.start()
        return job

    def cancel(self, job_id: str) -> PullJob | None:
        """Ask the job to stop after the page it is fetching."""
        job = self.job(job_id)
        if job is not None and job.running:
            job.cancel.set()
        return job

    def close(self, timeout: float = 10.0) -> None:
        """Cancel every running pull and wait for it (when the app stops)."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel.set()
        for job in jobs:
            if job.thread is not None:
                job.thread.join(timeout)

    def _run(self, job: PullJob, credentials: dict[str, str]) -> None:
        secrets = (*secrets_of(credentials), *credentials.values())
        out = self.data_dir / "pulls" / job.crm

        def progress(p: PullProgress) -> None:
            if job.cancel.is_set():
                raise PullCancelled
            job.phase, job.records, job.total, job.requests = p.phase, p.records, p.total, p.requests

        try:
            summary = pull(job.crm, out, credentials=credentials, progress=progress,
                           env=self._env, **self._options)
            if job.cancel.is_set():
                raise PullCancelled
            job.phase, job.records, job.total = "dataset", 0, None
            job.deals = summary.deals_total
            job.dataset_id = self._make_dataset(f"{job.crm} · {summary.deals_total}", out)
            job.state = "done"
        except PullCancelled:
            job.state = "cancelled"
        except CrmError as exc:  # already scrubbed by pull; redacted again all the same
            job.errors = {lang: redact(exc.describe_in(lang), secrets) for lang in ("ru", "en")}
            job.state = "failed"
        except InputError as exc:
            job.errors = {lang: redact(exc.describe_in(lang), secrets) for lang in ("ru", "en")}
            job.state = "failed"
        except Exception as exc:  # noqa: BLE001 - shown on the page, never a traceback
            shown = redact(f"{type(exc).__name__}: {exc}", secrets)
            job.errors = dict.fromkeys(("ru", "en"), shown)
            job.state = "failed"


def copy_pulled(out: Path, folder: Path) -> None:
    """Copy a pulled folder's deals, events and main funnel file into a dataset ``folder``."""
    missing = [name for name in PULLED_FILES if not (out / name).is_file()]
    if missing:
        raise InputError(
            Msg("errors.raised.the_pull_wrote_no", value=", ".join(missing)), file=str(out.name)
        )
    for name in PULLED_FILES:
        shutil.copyfile(out / name, folder / name)
