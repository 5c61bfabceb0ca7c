"""Input errors in the user's language (non-negotiable 6): the frame (file, row, column, expected),
a strict-mode bad row's reason and the common messages come from the ru/en catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voronka.cli import main


def _err(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, " ".join(capsys.readouterr().err.split())


def test_a_strict_bad_row_is_told_in_russian(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("deal_id;stage;date\n1;a;2024-01-02\n2;a;zzz\n", encoding="utf-8")
    code, ru = _err(["audit", str(bad), "--strict", "--lang", "ru"], capsys)
    assert code == 2
    assert "файл" in ru and "строка 2" in ru and "«zzz»" in ru and "не дата" in ru
    code, en = _err(["audit", str(bad), "--strict", "--lang", "en"], capsys)
    assert code == 2 and "row 2" in en and "not a date" in en and "строка" not in en


def test_a_missing_file_is_told_in_russian(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.csv"
    events.write_text("deal_id;stage;date\n1;a;2024-01-02\n", encoding="utf-8")
    code, ru = _err(["audit", str(events), "--deals", str(tmp_path / "nope.csv"),
                     "--lang", "ru"], capsys)
    assert code == 2 and "nope.csv" in ru
    after_prefix = ru.split(":", 1)[1]
    # Nothing English in the message apart from the file's path.
    words = re.findall(r"[A-Za-z]{3,}", after_prefix.replace(str(tmp_path), ""))
    assert words == ["nope", "csv"], words
    code, en = _err(["audit", str(events), "--deals", str(tmp_path / "nope.csv"),
                     "--lang", "en"], capsys)
    assert code == 2 and "does not exist" in en
