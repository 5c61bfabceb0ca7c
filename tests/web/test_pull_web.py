"""``voronka pull`` from the browser, against the fake CRM servers of the pull tests: the form,
the progress polled by htmx, the dataset the pull becomes (its funnel equals the fake's truth),
cancel and resume, a refused token shown in words with no credential anywhere."""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from web_helpers import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io" / "crm"))
from crm_fakes import FAKES, GOOD_TOKEN, FakeClock, FakeCrm  # noqa: E402

from voronka.web import ServeSettings, create_app  # noqa: E402
from voronka.web.pages_pull import pull_jobs_for  # noqa: E402

HX = {"HX-Request": "true"}


@pytest.fixture
def web(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(ServeSettings(data_dir=tmp_path / "data"))
    app.state.test_env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    with TestClient(app) as client:
        yield client


def _single(crm: str, web: TestClient) -> FakeCrm:
    """The fake with its main pipeline only (deals.csv then holds only funnel.toml's deals);
    the app's pulls use the fake's clock (the CRMs' rate limits then cost no real waiting)."""
    base = FAKES[crm]
    fake = type(f"Single{base.__name__}", (base,), {"pipelines": base.pipelines[:1]})(FakeClock())
    app: Any = web.app
    # No credentials of the machine running the tests: an empty environment and config folder.
    app.state.pull_jobs = pull_jobs_for(app, env=app.state.test_env,
                                        pull_options={"clock": fake.clock})
    return fake


def _form(fake: FakeCrm, base_url: str, **override: str) -> dict[str, str]:
    creds = {**fake.credentials(base_url), **override}
    return {"crm": fake.crm, **{f"cred_{k}": v for k, v in creds.items()}}


def _wait(web: TestClient, job_url: str, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        r = web.get(f"{job_url}/status", headers=HX)
        state = re.search(r'data-state="(\w+)"', r.text)
        assert state, r.text
        if state.group(1) != "running" or time.monotonic() > deadline:
            return r
        assert 'hx-trigger="every 1s"' in r.text and 'id="pull-progress"' in r.text
        time.sleep(0.05)


@pytest.mark.parametrize("crm", sorted(FAKES))
def test_a_pull_from_the_browser_becomes_the_dashboard_data(
    crm: str, web: TestClient, httpserver: HTTPServer
) -> None:
    fake = _single(crm, web)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    form_page = web.get("/pull", params={"crm": crm})
    assert form_page.status_code == 200 and 'id="pull-crm"' in form_page.text
    started = web.post("/pull", data=_form(fake, httpserver.url_for("/")), follow_redirects=False)
    assert started.status_code == 303
    job_url = started.headers["location"].split("?")[0]
    assert web.get(job_url).status_code == 200
    done = _wait(web, job_url)
    assert 'data-state="done"' in done.text, done.text
    target = done.headers["HX-Redirect"]
    dataset_id = target.split("/d/")[1].split("?")[0]
    funnel = web.get(f"/api/v1/datasets/{dataset_id}/audit").json()["funnel"]
    pipeline = fake.pipelines[0]
    line = [*pipeline.open, pipeline.won]
    assert [s["name"] for s in funnel["stages"]] == [s.name for s in line]
    keys = [s.key for s in line]
    furthest = [max(keys.index(k) for k, _ in d.steps if k in keys) for d in fake.deals]
    assert [s["reached"] for s in funnel["stages"]] == [
        sum(1 for f in furthest if f >= i) for i in range(len(line))]
    statuses = [d.status for d in fake.deals]
    assert (funnel["deals"], funnel["won"], funnel["lost"]) == (
        len(fake.deals), statuses.count("won"), statuses.count("lost"))
    if crm != "amocrm":
        return  # the rest is the same web code whatever the CRM
    assert web.get(target).status_code == 200  # the dashboard of the pulled data
    # Entered once: the form says so without showing the value, and a second pull needs none.
    again = web.get("/pull", params={"crm": crm}).text
    for value in fake.credentials(httpserver.url_for("/")).values():
        assert value not in again
    assert GOOD_TOKEN not in again and "value=" not in again.split('id="pull-fields"')[1]
    second = web.post("/pull", data={"crm": crm}, follow_redirects=False)
    assert 'data-state="done"' in _wait(web, second.headers["location"].split("?")[0]).text
    assert web.get("/").text.count('href="/d/') == 2


def test_a_refused_token_is_said_in_both_languages_and_never_shown(
    web: TestClient, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    fake = _single("hubspot", web)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    secret = "pat-eu1-THIS-IS-SECRET-42"
    caplog.set_level(logging.DEBUG)
    started = web.post("/pull", data=_form(fake, httpserver.url_for("/"), token=secret),
                       follow_redirects=False)
    job_url = started.headers["location"].split("?")[0]
    failed = _wait(web, job_url)
    assert 'data-state="failed"' in failed.text and 'id="pull-error"' in failed.text
    english = web.get(job_url, params={"lang": "en"}).text
    russian = web.get(job_url, params={"lang": "ru"}).text
    error_en = english.split('id="pull-error">')[1].split("<")[0]
    error_ru = russian.split('id="pull-error">')[1].split("<")[0]
    assert error_en and error_ru and error_en != error_ru
    assert re.search("[а-яё]", error_ru) and not re.search("[а-яё]", error_en)
    for text in (failed.text, english, russian, web.get("/pull?crm=hubspot").text, caplog.text):
        assert secret not in text
    assert "Traceback" not in english


def test_a_pull_can_be_cancelled_and_the_next_one_resumes(
    web: TestClient, httpserver: HTTPServer
) -> None:
    fake = _single("amocrm", web)
    gate = threading.Event()
    served = threading.Event()

    def slow(request: Any) -> Any:
        if len(fake.log) >= 2 and not gate.is_set():
            served.set()
            gate.wait(20)
        return fake.handle(request)

    httpserver.expect_request(re.compile(".*")).respond_with_handler(slow)
    started = web.post("/pull", data=_form(fake, httpserver.url_for("/")), follow_redirects=False)
    job_url = started.headers["location"].split("?")[0]
    assert served.wait(20)  # the pull is past its first requests, waiting on the next page
    running = web.get(f"{job_url}/status", headers=HX).text
    assert 'data-state="running"' in running and 'id="pull-cancel"' in running
    cancelled = web.post(f"{job_url}/cancel", headers=HX)
    assert cancelled.status_code == 200
    gate.set()
    end = _wait(web, job_url)
    assert 'data-state="cancelled"' in end.text and 'id="pull-cancelled"' in end.text
    assert "/d/" not in web.get("/").text  # nothing half-pulled became a dataset
    resumed = web.post("/pull", data={"crm": "amocrm"}, follow_redirects=False)
    done = _wait(web, resumed.headers["location"].split("?")[0])
    assert 'data-state="done"' in done.text
    dataset_id = done.headers["HX-Redirect"].split("/d/")[1].split("?")[0]
    funnel = web.get(f"/api/v1/datasets/{dataset_id}/audit").json()["funnel"]
    assert funnel["deals"] == len(fake.deals)
