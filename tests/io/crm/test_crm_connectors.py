"""Per-CRM behaviour of ``pull``: rate limits, budgets, clear errors, credentials, progress."""

from __future__ import annotations

import base64
import json
import re
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from crm_fakes import (
    GOOD_TOKEN,
    T0,
    FakeAmoCrm,
    FakeBitrix24,
    FakeClock,
    FakeCrm,
    FakeHubSpot,
    FakePipedrive,
)
from pytest_httpserver import HTTPServer

from voronka.io.crm import (
    CrmAccountNotFound,
    CrmCredentialsMissing,
    CrmRateLimited,
    CrmScopeError,
    CrmTokenExpired,
    CrmUnavailable,
    PullProgress,
    describe_pull,
    load_credentials,
    pull,
)


@pytest.fixture
def serve(httpserver: HTTPServer) -> Iterator[Any]:
    def start(fake: FakeCrm) -> str:
        httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
        return str(httpserver.url_for("/"))

    yield start


def run(fake: FakeCrm, base: str, out: Path, **kwargs: Any) -> Any:
    kwargs.setdefault("credentials", fake.credentials(base))
    return pull(fake.crm, out, clock=fake.clock, env={"XDG_CONFIG_HOME": str(out.parent)},
                **kwargs)


def gaps(fake: FakeCrm) -> list[float]:
    times = [t for t, _ in fake.log]
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def test_amocrm_sends_at_most_7_requests_a_second(serve: Any, tmp_path: Path) -> None:
    fake = FakeAmoCrm(FakeClock())
    run(fake, serve(fake), tmp_path / "out")
    assert len(fake.log) > 7
    assert min(gaps(fake)) >= 1 / 7 - 1e-9


def test_bitrix24_sends_at_most_2_requests_a_second_and_waits_out_query_limit(
    serve: Any, tmp_path: Path
) -> None:
    fake = FakeBitrix24(FakeClock())
    fake.faults[3] = (503, {}, {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"})
    run(fake, serve(fake), tmp_path / "out")
    assert min(gaps(fake)) >= 0.5 - 1e-9
    # The refused request was sent again: 3rd and 4th requests hit the same method.
    assert fake.log[2][1] == fake.log[3][1]


def test_pipedrive_obeys_its_rate_limit_headers(serve: Any, tmp_path: Path) -> None:
    fake = FakePipedrive(FakeClock())
    # Every answer says the 2-second window is used up and resets in 2 seconds.
    fake.page_headers = {"x-ratelimit-limit": "20", "x-ratelimit-remaining": "0",
                         "x-ratelimit-reset": "2"}
    run(fake, serve(fake), tmp_path / "out")
    assert len(fake.log) > 5
    assert min(gaps(fake)) >= 2 - 1e-9


def test_hubspot_waits_for_its_window_when_remaining_is_zero(serve: Any, tmp_path: Path) -> None:
    fake = FakeHubSpot(FakeClock())
    fake.page_headers = {"X-HubSpot-RateLimit-Remaining": "0",
                         "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
    run(fake, serve(fake), tmp_path / "out")
    assert min(gaps(fake)) >= 10 - 1e-9


def test_retry_after_as_an_http_date_is_honoured(serve: Any, tmp_path: Path) -> None:
    fake = FakeHubSpot(FakeClock())
    fake.faults[2] = (429, {"Retry-After": "Sat, 01 Mar 2025 12:00:30 GMT"}, {"status": "error"})
    run(fake, serve(fake), tmp_path / "out")
    # T0 is 12:00:00 and nothing slept before the 429: the date is 30 seconds away.
    assert fake.clock.sleeps[0] == pytest.approx(30.0)


def test_persistent_5xx_gives_up_after_bounded_exponential_backoff(
    serve: Any, tmp_path: Path
) -> None:
    fake = FakePipedrive(FakeClock())
    fake.always = (500, {"success": False, "error": "internal"})
    with pytest.raises(CrmUnavailable) as info:
        run(fake, serve(fake), tmp_path / "out")
    assert len(fake.log) == 6  # the request and 5 retries
    backoffs = [s for s in fake.clock.sleeps if s >= 1]
    assert backoffs == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert "pipedrive" in str(info.value) and "resumes" in str(info.value)


def test_a_day_long_retry_after_stops_the_pull_with_advice(serve: Any, tmp_path: Path) -> None:
    fake = FakePipedrive(FakeClock())
    fake.faults[3] = (429, {"Retry-After": "86400"}, {"success": False, "errorCode": 429})
    out = tmp_path / "out"
    with pytest.raises(CrmRateLimited):
        run(fake, serve(fake), out)
    # The pull stopped without sitting a day, and can be resumed.
    assert sum(fake.clock.sleeps) < 60
    summary = run(fake, serve(fake), out)
    assert summary.resumed and summary.events_total == len(fake.expected_events())


@pytest.mark.parametrize("fake_cls", [FakeAmoCrm, FakeHubSpot, FakePipedrive])
def test_403_is_a_missing_scope(serve: Any, tmp_path: Path, fake_cls: type[FakeCrm]) -> None:
    fake = fake_cls(FakeClock())
    fake.always = (403, {"status": "error", "category": "MISSING_SCOPES"})
    with pytest.raises(CrmScopeError) as info:
        run(fake, serve(fake), tmp_path / "out")
    assert "403" in str(info.value)


def test_bitrix24_missing_crm_scope(serve: Any, tmp_path: Path) -> None:
    fake = FakeBitrix24(FakeClock())
    fake.always = (401, {"error": "insufficient_scope", "error_description": "The request requires higher privileges"})
    with pytest.raises(CrmScopeError) as info:
        run(fake, serve(fake), tmp_path / "out")
    assert "crm scope" in str(info.value)


@pytest.mark.parametrize("fake_cls", [FakeAmoCrm, FakePipedrive])
def test_404_on_the_account_endpoint_is_a_wrong_address(
    serve: Any, tmp_path: Path, fake_cls: type[FakeCrm]
) -> None:
    fake = fake_cls(FakeClock())
    fake.always = (404, {"status": 404})
    with pytest.raises(CrmAccountNotFound) as info:
        run(fake, serve(fake), tmp_path / "out")
    assert len(fake.log) == 1
    assert "localhost" in str(info.value)


def test_unknown_subdomain_is_reported_without_retries(tmp_path: Path) -> None:
    tries = [0]

    def no_such_host(request: httpx.Request) -> httpx.Response:
        tries[0] += 1
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request) from (
            socket.gaierror(-2, "Name or service not known")
        )

    client = httpx.Client(transport=httpx.MockTransport(no_such_host))
    with pytest.raises(CrmAccountNotFound) as info:
        pull("amocrm", tmp_path / "out", credentials={"token": "t", "subdomain": "nosuchco"},
             client=client, clock=FakeClock(), env={})
    assert tries[0] == 1
    assert "nosuchco.amocrm.ru" in str(info.value)


def test_a_dropped_connection_is_retried(serve: Any, tmp_path: Path) -> None:
    fake = FakeHubSpot(FakeClock())
    base = serve(fake)
    drops = [2]
    real = httpx.HTTPTransport()

    def flaky(request: httpx.Request) -> httpx.Response:
        if drops[0]:
            drops[0] -= 1
            raise httpx.ReadTimeout("timed out", request=request)
        return real.handle_request(request)

    client = httpx.Client(transport=httpx.MockTransport(flaky))
    summary = run(fake, base, tmp_path / "out", client=client)
    assert summary.events_total == len(fake.expected_events())
    assert fake.clock.sleeps[:2] == [1.0, 2.0]


def _jwt(exp: int) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'typ': 'JWT', 'alg': 'RS256'})}.{part({'exp': exp, 'account_id': 1})}.sig"


def test_expired_amocrm_long_lived_token_is_refused_before_any_request(
    serve: Any, tmp_path: Path
) -> None:
    fake = FakeAmoCrm(FakeClock())
    base = serve(fake)
    expired = _jwt(int((T0 - timedelta(days=3)).timestamp()))
    with pytest.raises(CrmTokenExpired) as info:
        run(fake, base, tmp_path / "out", credentials={"token": expired, "base_url": base})
    assert fake.log == []
    assert "2025-02-26" in str(info.value)
    # A token valid for a year passes the local check (and is then refused by the server).
    valid = _jwt(int((T0 + timedelta(days=365)).timestamp()))
    with pytest.raises(Exception) as other:
        run(fake, base, tmp_path / "out2", credentials={"token": valid, "base_url": base})
    assert not isinstance(other.value, CrmTokenExpired) and len(fake.log) == 1


def test_expired_bitrix24_webhook(serve: Any, tmp_path: Path) -> None:
    fake = FakeBitrix24(FakeClock())
    fake.always = (401, {"error": "expired_token", "error_description": "The access token provided has expired."})
    with pytest.raises(CrmTokenExpired):
        run(fake, serve(fake), tmp_path / "out")


def test_credentials_come_from_the_environment_then_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "credentials.toml"
    config.write_text('[amocrm]\nsubdomain = "fromfile"\ntoken = "file-token"\n', encoding="utf-8")
    config.chmod(0o600)  # as docs/pull.md asks (a file others can read is warned about)
    env = {"VORONKA_AMOCRM_TOKEN": "env-token"}
    creds = load_credentials("amocrm", config=config, env=env)
    assert creds == {"subdomain": "fromfile", "token": "env-token"}
    # Given values win over both.
    assert load_credentials("amocrm", given={"token": "x"}, config=config, env=env)["token"] == "x"
    # The default file lives under XDG_CONFIG_HOME.
    default = tmp_path / "voronka" / "credentials.toml"
    default.parent.mkdir()
    default.write_text('[hubspot]\ntoken = "hs"\n', encoding="utf-8")
    default.chmod(0o600)
    assert load_credentials("hubspot", env={"XDG_CONFIG_HOME": str(tmp_path)}) == {"token": "hs"}


def test_missing_credentials_say_which_variable_to_set(tmp_path: Path) -> None:
    with pytest.raises(CrmCredentialsMissing) as info:
        pull("pipedrive", tmp_path / "out", env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert "VORONKA_PIPEDRIVE_TOKEN" in str(info.value)
    assert "VORONKA_PIPEDRIVE_TOKEN" in info.value.describe_in("ru")
    with pytest.raises(CrmCredentialsMissing) as missing_file:
        load_credentials("hubspot", config=tmp_path / "nope.toml", env={})
    assert "nope.toml" in str(missing_file.value)


def test_progress_reports_every_phase_with_growing_counts(serve: Any, tmp_path: Path) -> None:
    fake = FakeBitrix24(FakeClock())
    seen: list[PullProgress] = []
    run(fake, serve(fake), tmp_path / "out", progress=seen.append)
    assert [p.phase for p in seen][0] == "pipelines"
    assert {p.phase for p in seen} == {"pipelines", "deals", "history"}
    history = [p.records for p in seen if p.phase == "history"]
    assert history == sorted(history) and history[-1] == sum(len(d.steps) for d in fake.deals)
    assert [p.requests for p in seen] == sorted(p.requests for p in seen)


def test_summary_names_the_funnel_files_of_several_pipelines(serve: Any, tmp_path: Path) -> None:
    fake = FakeAmoCrm(FakeClock())
    summary = run(fake, serve(fake), tmp_path / "out")
    assert summary.pipelines == ("Воронка", "Партнёры")
    assert summary.funnel_files == ("funnel.toml", "funnel-партнёры.toml")
    text = "\n".join(describe_pull(summary, "en"))
    assert "funnel-партнёры.toml (Партнёры)" in text and '"Воронка"' in text
    assert "сделок" in "\n".join(describe_pull(summary, "ru")).lower()


def test_a_folder_of_one_crm_refuses_another(serve: Any, tmp_path: Path) -> None:
    fake = FakeHubSpot(FakeClock())
    out = tmp_path / "out"
    run(fake, serve(fake), out)
    with pytest.raises(Exception, match="already holds a pull from hubspot"):
        pull("pipedrive", out, credentials={"token": GOOD_TOKEN}, env={})
