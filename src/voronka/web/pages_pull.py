"""The pull pages: pick a CRM, give its credentials (or rely on the environment), watch the
pull's progress bar (htmx polls the status every second), cancel it, and open its data on the
dashboard when it is done (see :mod:`voronka.web.pull_jobs`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voronka.errors import Msg, UsageError, any_of
from voronka.i18n import has, t
from voronka.io.crm import CRM_NAMES
from voronka.io.crm.credentials import CREDENTIAL_KEYS, env_name
from voronka.web.pages import _lang, _page
from voronka.web.pull_jobs import SECRET_KEYS, PullJob, PullJobs, copy_pulled

router = APIRouter(include_in_schema=False)


def pull_jobs_for(
    app: FastAPI, *, env: Mapping[str, str] | None = None,
    pull_options: Mapping[str, Any] | None = None,
) -> PullJobs:
    """The app's pull jobs, whose finished pulls become datasets of its store."""
    workspace = app.state.workspace

    def make_dataset(name: str, out: Any) -> str:
        store = workspace.store
        dataset_id, folder = store.new_dataset_folder()
        copy_pulled(out, folder)
        store.add_dataset(dataset_id, name, folder)
        try:
            workspace.load(dataset_id)  # read once: a broken pull shows here, not on the dashboard
        except Exception:
            store.delete_dataset(dataset_id)
            raise
        return str(dataset_id)

    return PullJobs(workspace.store.data_dir, make_dataset, env=env, pull_options=pull_options)


def _jobs(request: Request) -> PullJobs:
    jobs: PullJobs = request.app.state.pull_jobs
    return jobs


def _crm(value: str | None) -> str:
    crm = (value or CRM_NAMES[0]).strip().lower()
    if crm not in CRM_NAMES:
        raise UsageError(
            Msg("errors.raised.unknown_crm", crm=repr(crm)), expected=any_of(CRM_NAMES)
        )
    return crm


def _fields(request: Request, crm: str) -> list[dict[str, Any]]:
    """The credential fields of ``crm``: name, whether hidden, and where a value already is
    (never the value itself)."""
    env = _jobs(request)._env
    env = os.environ if env is None else env
    entered = _jobs(request).entered_keys(crm)
    return [
        {
            "key": key,
            "name": f"cred_{key}",
            "secret": key in SECRET_KEYS,
            "env": env_name(crm, key),
            "in_env": bool(env.get(env_name(crm, key))),
            "entered": key in entered,
        }
        for key in CREDENTIAL_KEYS[crm]
    ]


@router.get("/pull", response_class=HTMLResponse)
def pull_page(request: Request, crm: str | None = None) -> HTMLResponse:
    chosen = _crm(crm)
    return _page("pull.html.j2", request, _lang(request), crms=CRM_NAMES, crm=chosen,
                 fields=_fields(request, chosen))


@router.get("/pull/fields", response_class=HTMLResponse)
def pull_fields(request: Request, crm: str | None = None) -> HTMLResponse:
    chosen = _crm(crm)
    return _page("_pull_fields.html.j2", request, _lang(request), crm=chosen,
                 fields=_fields(request, chosen))


@router.post("/pull")
async def pull_start(request: Request) -> Response:
    form = await request.form()
    crm = _crm(str(form.get("crm") or ""))
    given = {
        key: str(form.get(f"cred_{key}") or "").strip()
        for key in CREDENTIAL_KEYS[crm]
    }
    job = _jobs(request).start(crm, {k: v for k, v in given.items() if v})
    return RedirectResponse(f"/pull/{job.id}?lang={_lang(request)}", status_code=303)


def _job(request: Request, job_id: str) -> PullJob:
    job = _jobs(request).job(job_id)
    if job is None:
        raise UsageError(
            Msg("errors.raised.no_such_pull"),
            expected=Msg("errors.expected.a_pull_started_from_this_page"),
        )
    return job


def _status_context(job: PullJob, lang: str) -> dict[str, Any]:
    key = f"crm.phase.{job.phase}"
    phase = t(key, lang) if has(key) else t(f"web.pull.phase.{job.phase}", lang) if has(
        f"web.pull.phase.{job.phase}") else job.phase
    return {"job": job, "phase": phase, "error": job.errors.get(lang)}


@router.get("/pull/{job_id}", response_class=HTMLResponse)
def pull_job_page(request: Request, job_id: str) -> HTMLResponse:
    job = _job(request, job_id)
    lang = _lang(request)
    return _page("pull_job.html.j2", request, lang, **_status_context(job, lang))


@router.get("/pull/{job_id}/status", response_class=HTMLResponse)
def pull_status(request: Request, job_id: str) -> HTMLResponse:
    """The status fragment; once the pull is done, htmx is sent on to the dashboard."""
    job = _job(request, job_id)
    lang = _lang(request)
    page = _page("_pull_status.html.j2", request, lang, **_status_context(job, lang))
    if job.state == "done" and request.headers.get("hx-request"):
        page.headers["HX-Redirect"] = f"/d/{job.dataset_id}?lang={lang}"
    return page


@router.post("/pull/{job_id}/cancel", response_class=HTMLResponse)
def pull_cancel(request: Request, job_id: str) -> Response:
    _jobs(request).cancel(job_id)
    job = _job(request, job_id)
    lang = _lang(request)
    if request.headers.get("hx-request"):
        return _page("_pull_status.html.j2", request, lang, **_status_context(job, lang))
    return RedirectResponse(f"/pull/{job_id}?lang={lang}", status_code=303)
