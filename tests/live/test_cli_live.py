"""The live commands through ``voronka.cli.main``: sync prints what it did and the last-sync time,
watch records its baseline, a bad watch.toml is exit status 2 with a one-line message."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from crm_fakes import FakeAmoCrm, FakeClock
from pytest_httpserver import HTTPServer

from voronka.cli import main
from voronka.live.store import LiveStore


def test_sync_then_watch_from_the_command_line(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = FakeAmoCrm(FakeClock())
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    for key, value in fake.credentials(httpserver.url_for("/")).items():
        monkeypatch.setenv(f"VORONKA_AMOCRM_{key.upper()}", value)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    data = tmp_path / "data"
    assert main(["sync", "amocrm", "--data", str(data), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert f"amocrm: {len(fake.deals)} changed deals fetched" in out
    assert "last successful sync 20" in out
    store = LiveStore(data)
    assert store.stage_entries("amocrm") == fake.expected_events()
    store.close()

    (tmp_path / "watch.toml").write_text(
        'language = "en"\n[[recipient]]\nname = "head"\nchannels = ["markdown"]\n'
        '[markdown]\ndir = "digests"\n', encoding="utf-8")
    code = main(["watch", "--config", str(tmp_path / "watch.toml"), "--data", str(data)])
    assert code == 0
    err = capsys.readouterr().err
    assert "head (markdown): first run" in err


def test_bad_watch_toml_exits_2_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "watch.toml"
    cfg.write_text('[[recipient]]\nname = "a"\nchannels = ["pager"]\n', encoding="utf-8")
    assert main(["watch", "--config", str(cfg), "--data", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert "watch.toml" in err and "recipient.0.channels.0" in err and "Traceback" not in err
    assert main(["sync", "salesforce", "--data", str(tmp_path / "d")]) == 2


def test_voronka_hooks_serves_the_receivers_until_stopped(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    import httpx
    from hookdata import AMO_TOKEN, amocrm_status, form
    from server import SRC, free_port, in_use, secrets_env

    data = tmp_path / "data"
    env = {**os.environ, **secrets_env(), "PYTHONPATH": str(SRC)}
    for _attempt in range(3):  # a port taken between picking and binding: again on another
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; from voronka.cli import main; sys.exit(main())",
             "hooks", "--data", str(data), "--port", str(port), "--lang", "en"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        health = _wait_healthy(url, proc)
        if health is not None:
            break
        err = proc.stderr.read().decode() if proc.stderr else ""
        assert in_use(err), err
    else:
        pytest.fail("three free ports in a row were taken before the server bound them")
    try:
        assert health.json()["receivers"] == ["amocrm", "bitrix24", "hubspot", "pipedrive"]
        r = httpx.post(f"{url}/hooks/amocrm?token={AMO_TOKEN}", content=form(amocrm_status()),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.json() == {"received": 1, "new": 1}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert "receiving webhooks on http://127.0.0.1" in err and AMO_TOKEN not in err
    store = LiveStore(data)
    assert [e.to_stage for e in store.events("amocrm")] == ["142"]
    store.close()


def _wait_healthy(url: str, proc: Any) -> Any:
    """The health response once the server answers; None when the process exited first."""
    import time

    import httpx

    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(url + "/hooks/health", timeout=1)
        except httpx.HTTPError:
            if proc.poll() is not None:
                return None
            assert time.monotonic() < deadline
            time.sleep(0.2)
