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
