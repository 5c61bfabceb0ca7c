"""No credential in any output or log of a pull, even from a server that echoes the request.

The fake answers every request with an error whose body repeats the request: its address (a
Bitrix24 webhook's secret in the path), every header (``Authorization: Bearer …``,
``x-api-token``) and the body. Whatever the status, the message the user reads (English and
Russian), the ``voronka pull`` output and every log record must not hold the secret.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from crm_fakes import FakeClock
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from voronka.errors import InputError
from voronka.io.crm import pull
from voronka.io.crm.credentials import CredentialsFileWarning, load_credentials
from voronka.io.crm.errors import CrmCredentialsInvalid, CrmError
from voronka.io.crm.redact import MASK, redact

TOKEN = "tok-9f8e7d6c5b4a3210-SECRET"
WEBHOOK_SECRET = "whk0s3cr3tVALUE42"
STATUSES = (400, 401, 403, 404, 409, 422, 500, 200)
"""200 with a body that is not JSON: the "malformed answer" path."""


def _echo(status: int) -> object:
    def handle(request: Request) -> Response:
        echoed = {
            "error": "echo",
            "url": request.url,
            "query": request.query_string.decode(),
            "headers": dict(request.headers),
            "raw": f"{request.method} {request.full_path} Authorization: "
                   f"{request.headers.get('Authorization', '')} x-api-token: "
                   f"{request.headers.get('x-api-token', '')}",
            "body": request.get_data(as_text=True),
        }
        if status == 200:
            return Response("<html>proxy says " + json.dumps(echoed) + "</html>", status=200,
                            content_type="text/html")
        return Response(json.dumps(echoed), status=status, content_type="application/json")
    return handle


def _credentials(crm: str, base: str) -> dict[str, str]:
    if crm == "bitrix24":
        return {"webhook": f"{base.rstrip('/')}/rest/7/{WEBHOOK_SECRET}/"}
    if crm == "amocrm":
        return {"token": TOKEN, "subdomain": "example", "base_url": base}
    return {"token": TOKEN, "base_url": base}


def _secret(crm: str) -> str:
    return WEBHOOK_SECRET if crm == "bitrix24" else TOKEN


def _assert_clean(text: str, crm: str) -> None:
    secret = _secret(crm)
    assert secret not in text
    assert secret[:12] not in text  # not even its start (a cut-off excerpt)
    assert not re.search(r"(?i)bearer\s+(?!\*\*\*)\S", text)


@pytest.fixture
def caplog_all(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG):
        yield caplog


def _client_logs(caplog: pytest.LogCaptureFixture) -> str:
    """Every log record of the client side (the fake server's own access log is not ours)."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))


@pytest.mark.parametrize("crm", ["amocrm", "bitrix24", "hubspot", "pipedrive"])
@pytest.mark.parametrize("status", STATUSES)
def test_an_echoing_server_shows_no_credential(
    crm: str, status: int, httpserver: HTTPServer, tmp_path: Path,
    caplog_all: pytest.LogCaptureFixture,
) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_handler(_echo(status))
    base = httpserver.url_for("/")
    with pytest.raises(CrmError) as info:
        pull(crm, tmp_path / "out", credentials=_credentials(crm, base), clock=FakeClock(),
             env={"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    err = info.value
    assert isinstance(err, InputError)
    shown = [str(err), err.describe(), err.describe_in("en"), err.describe_in("ru"),
             repr(err.params), _client_logs(caplog_all)]
    for text in shown:
        _assert_clean(text, crm)
    assert httpserver.log, "the fake was asked"
    # The fake did receive the secret: the test would see a leak.
    assert any(_secret(crm) in (req.url + json.dumps(dict(req.headers))) for req, _ in
               httpserver.log)
    assert "httpx" in {r.name for r in caplog_all.records}  # the request log was there


@pytest.mark.parametrize("crm", ["bitrix24", "pipedrive"])
def test_the_cli_prints_no_credential(
    crm: str, httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, caplog_all: pytest.LogCaptureFixture,
) -> None:
    from voronka.cli import main

    httpserver.expect_request(re.compile(".*")).respond_with_handler(_echo(400))
    for key, value in _credentials(crm, httpserver.url_for("/")).items():
        monkeypatch.setenv(f"VORONKA_{crm.upper()}_{key.upper()}", value)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    for lang in ("ru", "en"):
        code = main(["pull", crm, "--out", str(tmp_path / "out"), "--lang", lang])
        out = capsys.readouterr()
        assert code == 2
        assert "echo" in out.err  # the server's body is shown …
        _assert_clean(out.out + out.err + _client_logs(caplog_all), crm)  # … without the secret


def test_redact_removes_every_credential_shape() -> None:
    text = ("GET /rest/1/abc123def/crm.deal.list?api_token=zz99&x=1 Authorization: Bearer "
            "eyJhbGciOi.payload.sig x-api-token: 0123abcd \"token\": \"t-42-secret\" "
            "https://h.example/v1/deals?access_token=ya29.x&limit=5")
    shown = redact(text)
    for secret in ("abc123def", "zz99", "eyJhbGciOi", "0123abcd", "t-42-secret", "ya29.x"):
        assert secret not in shown
    assert shown.count(MASK) >= 6
    assert "limit=5" in shown and "crm.deal.list" in shown  # the rest stays readable
    # a known secret anywhere, also percent-encoded
    assert redact("proxy saw tok%2Bplus/1 and tok+plus/1", ["tok+plus/1"]).count(MASK) == 2
    assert redact("an ordinary message about the token") == "an ordinary message about the token"


@pytest.mark.parametrize("bad", ["tok\nen-line2", "токен-кириллицей", "tok en", "tok\ten"])
def test_a_token_that_cannot_be_sent_is_refused_at_once(
    bad: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    clock = FakeClock()
    with pytest.raises(CrmCredentialsInvalid) as info:
        pull("hubspot", tmp_path / "out", credentials={"token": bad,
             "base_url": httpserver.url_for("/")}, clock=clock,
             env={"XDG_CONFIG_HOME": str(tmp_path / "cfg")})
    assert not httpserver.log  # no request, hence no retries
    assert clock.sleeps == []
    message = info.value.describe_in("ru") + info.value.describe_in("en")
    assert bad not in message and "\n" not in message
    assert "token" in info.value.describe_in("en")


# The command line refusing a token with a line break, and warning about a credentials file
# others can read: catalogue rows ``pull-token-line-break`` and ``credentials-file-open``
# (tests/inputs/catalogue_b.py).


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_credentials_file_others_can_read_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    httpserver: HTTPServer,
) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text('[hubspot]\ntoken = "pat-eu1-abcdef"\n', encoding="utf-8")
    path.chmod(0o644)
    with pytest.warns(CredentialsFileWarning, match="chmod 600"):
        assert load_credentials("hubspot", config=path, env={})["token"] == "pat-eu1-abcdef"
    path.chmod(0o600)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_credentials("hubspot", config=path, env={})  # no warning
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
