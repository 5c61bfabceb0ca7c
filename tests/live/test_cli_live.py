"""The live commands through ``voronka.cli.main``: sync prints what it did and the last-sync time,
watch records its baseline, a bad watch.toml is exit status 2 with a one-line message."""

from __future__ import annotations

import re
from pathlib import Path

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
    import time

    import httpx
    from hookdata import AMO_TOKEN, amocrm_status, form
    from server import SRC, free_port, secrets_env

    port = free_port()
    data = tmp_path / "data"
    env = {**os.environ, **secrets_env(), "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from voronka.cli import main; sys.exit(main())",
         "hooks", "--data", str(data), "--port", str(port), "--lang", "en"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(url + "/hooks/health", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.2)
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
