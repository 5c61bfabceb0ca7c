"""A file of a folder that cannot be opened (issue 10, point 17: a PermissionError ended in
"internal error"). The tests run as root too: the refusal is planted by making ``open`` raise
the ``PermissionError`` the system gives another user; one more test uses real permissions when
not run as root."""

from __future__ import annotations

import builtins
import json
import os
from pathlib import Path
from typing import Any

import pytest
from inputs_world import make_world

from voronka.cli import main


def _folder(tmp_path: Path, extra: bool = True) -> Path:
    folder = tmp_path / "crm"
    folder.mkdir()
    make_world(n=40, seed=3).write(folder)
    if extra:
        (folder / "leads_backup.csv").write_text("deal_id,stage\n1,Lead\n", encoding="utf-8")
    return folder


def _refuse(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    real = builtins.open

    def guarded(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | os.PathLike) and Path(file).name == name:
            raise PermissionError(13, "Permission denied", str(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Internal error" not in err, err
    return code, out, err


def test_lenient_leaves_the_unreadable_file_out_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path)
    _refuse(monkeypatch, "leads_backup.csv")
    code, out, _ = _run(["audit", str(folder), "--format", "json", "-o", "-", "--lang", "en"],
                        capsys)
    assert code == 0
    dq = json.loads(out)["data_quality"]
    notes = " ".join(dq["notes"])
    assert "inputs2.unreadable_files" in notes
    assert '"count": 1' in notes and "leads_backup.csv (permission denied)" in notes
    for file, n in dq["rows_read"].items():
        assert n == dq["rows_used"][file] + dq["rows_rejected"][file]
    code, out, _ = _run(["audit", str(folder), "--lang", "ru", "--format", "md", "-o", "-"],
                        capsys)
    assert code == 0 and "не удалось открыть: 1" in out and "backup.csv (permission denied)" in out


def test_strict_stops_at_the_unreadable_file_and_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path)
    _refuse(monkeypatch, "leads_backup.csv")
    code, _, err = _run(["audit", str(folder), "--strict", "--lang", "en"], capsys)
    assert code == 2
    assert "leads_backup.csv" in err and "cannot be read: permission denied" in err


def test_an_unreadable_events_file_is_named_not_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, extra=False)
    _refuse(monkeypatch, "events.csv")
    code, _, err = _run(["audit", str(folder), "--lang", "en"], capsys)
    assert code == 2
    assert "events.csv (cannot be read" in err  # the folder has no usable events: it says why
    code, _, err = _run(["audit", str(folder / "events.csv"), "--lang", "en"], capsys)
    assert code == 2 and "events.csv" in err and "permission denied" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may open any file: the monkeypatched tests "
                    "above stand in for it")
def test_real_permissions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path)
    (folder / "leads_backup.csv").chmod(0)
    code, out, _ = _run(["audit", str(folder), "--format", "json", "-o", "-"], capsys)
    assert code == 0 and "leads_backup.csv" in out
    code, _, err = _run(["audit", str(folder), "--strict"], capsys)
    assert code == 2 and "leads_backup.csv" in err
