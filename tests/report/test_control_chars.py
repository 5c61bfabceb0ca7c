"""Control characters in data and file names are shown, never obeyed (issue 10, point 14).

A stage name carrying ``ESC ] 0 ; … BEL`` (sets the terminal's title), ``ESC [ 2 J`` (clears the
screen), a C1 control or a right-to-left override reaches every printed output only as visible
``\\x1b`` / ``\\u202e`` text.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from voronka.cli import main
from voronka.text_safety import excerpt, safe_text

EVIL = "Won\x1b]0;PWNED\x07\x1b[2J\u202eevil\x9b31m\x00"
DATA = EVIL.rstrip("\x00")  # a NUL byte makes the file binary, refused before any name is read
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_safe_text_shows_every_control_character() -> None:
    shown = safe_text(EVIL)
    assert not RAW.search(shown)
    assert "\\x1b]0;PWNED\\x07\\x1b[2J\\u202eevil\\x9b31m\\x00" in shown
    assert safe_text("Встреча назначена — 100 %") == "Встреча назначена — 100 %"
    assert safe_text("a\nb\tc") == "a\\x0ab\\x09c"
    assert safe_text("a\nb\tc", multiline=True) == "a\nb\tc"
    for ch in ("\u2066", "\u2067", "\u2068", "\u2069", "\u202a", "\u202b", "\u202c", "\u202d"):
        assert ch not in safe_text(f"x{ch}y")
    assert len(excerpt("z" * 500)) == 40 and not RAW.search(excerpt(EVIL * 3))


def _events(path: Path) -> Path:
    rows = []
    for i in range(40):
        rows.append((f"d{i}", "Lead", f"2025-01-{1 + i % 20:02d}"))
        if i % 2 == 0:
            rows.append((f"d{i}", "Meeting\x1b[2J", f"2025-02-{1 + i % 20:02d}"))
        if i % 4 == 0:
            rows.append((f"d{i}", DATA, f"2025-03-{1 + i % 20:02d}"))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["deal_id", "stage", "entered_at"])
        w.writerows(rows)
    return path


@pytest.mark.parametrize("fmt", ["text", "md"])
def test_the_report_shows_no_raw_control_character(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    events = _events(tmp_path / "events.csv")
    args = ["audit", str(events), "--lang", "en", "--format", fmt]
    if fmt != "text":
        args += ["-o", "-"]
    assert main(args) == 0
    out = capsys.readouterr()
    assert not RAW.search(out.out), repr(RAW.search(out.out))
    assert not RAW.search(out.err)
    assert "\\x1b" in out.out  # the name is there, visibly


def test_an_error_naming_a_hostile_file_shows_no_raw_control_character(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "ev\x1b]0;PWNED\x07\u202e.csv"
    bad.write_text("deal_id,stage\n1,A\x1b[2J\n", encoding="utf-8")
    assert main(["audit", str(bad), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert not RAW.search(err)
    assert "\\x1b" in err


def test_lint_stages_shows_no_raw_control_character(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint-stages", "Думают\x1b]0;x\x07", "Meeting\u202e", "--lang", "ru"]) == 0
    out = capsys.readouterr().out
    assert not RAW.search(out)
    assert "\\x1b" in out and "\\u202e" in out
