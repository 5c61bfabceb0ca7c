"""Ctrl-C and atomic outputs (issue 10, point 18), and messages printed literally (point 19)."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from inputs_world import lean_audits, make_world

from voronka import api
from voronka.cli import main
from voronka.outputs import write_output


def test_ctrl_c_exits_130_with_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "audit", interrupted)
    paths = make_world(n=20).write(tmp_path)
    code = main(["audit", str(paths["events"]), "--lang", "en", "-o", str(tmp_path / "r.json"),
                 "--format", "json"])
    _, err = capsys.readouterr()
    assert code == 130
    assert err.strip() == "Interrupted (Ctrl-C): nothing was written."
    assert not (tmp_path / "r.json").exists()


def test_a_swallowed_ctrl_c_still_exits_130_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = api.audit

    def swallowing(*args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(KeyboardInterrupt):  # a library that swallows it
            os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "audit", swallowing)
    lean_audits(monkeypatch)  # what is written (or not) is the point, not the statistics
    paths = make_world(n=20).write(tmp_path)
    target = tmp_path / "r.json"
    target.write_text("the previous report", encoding="utf-8")
    code = main(["audit", str(paths["events"]), "--lang", "en", "-o", str(target),
                 "--format", "json"])
    capsys.readouterr()
    assert code == 130
    assert target.read_text(encoding="utf-8") == "the previous report"


def test_a_failed_write_keeps_the_previous_report(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")

    def full_disk(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    from voronka.errors import UsageError

    with pytest.raises(UsageError, match="No space left"):
        write_output(target, "new " * 1000)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left


def test_markup_and_emoji_codes_in_messages_are_printed_literally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.csv"
    path.write_text("deal_id,stage\n1,:x: [bold]\n", encoding="utf-8")
    missing = tmp_path / ":x: [red]nope.csv"
    code = main(["audit", str(missing), "--lang", "en"])
    _, err = capsys.readouterr()
    assert code == 2 and ":x: [red]nope.csv" in err and "❌" not in err


def test_map_to_a_missing_header_names_that_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = make_world(n=20).write(tmp_path)
    code = main(["audit", str(paths["events"]), "--map", "foo=Этап", "--map", "stage=Этап",
                 "--lang", "en"])
    _, err = capsys.readouterr()
    assert code == 2 and "'Этап'" in err and "--map" in err


def test_running_again_overwrites_the_previous_report_but_never_an_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A weekly re-run writes over last week's report (the output's own path is not an input);
    naming an input file as the output is still refused with exit 2."""
    lean_audits(monkeypatch)
    paths = make_world(n=20).write(tmp_path)
    report = tmp_path / "r.json"
    for _ in range(2):
        code = main(["audit", str(paths["events"]), "--lang", "en", "-o", str(report),
                     "--format", "json"])
        assert code == 0, capsys.readouterr().err
    assert report.stat().st_size > 0
    before = paths["events"].read_bytes()
    code = main(["audit", str(paths["events"]), "--lang", "en", "--output", str(paths["events"]),
                 "--format", "json"])
    assert code == 2 and "one of the inputs" in capsys.readouterr().err
    assert paths["events"].read_bytes() == before
