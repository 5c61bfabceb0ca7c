"""The command line as a user meets it: exit codes and messages for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voronka.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_missing_column_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.csv"
    path.write_text("deal_id,stage\n1,Новая заявка\n", encoding="utf-8")
    code, _, err = run(["audit", str(path), "--format", "json"], capsys)
    assert code == 2
    assert "entered_at" in err and "events.csv" in err
    assert "Traceback" not in err


def test_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["audit", str(tmp_path / "missing.csv")], capsys)
    assert code == 2 and "missing.csv" in err


def _with_bad_date(small_events: Path) -> tuple[Path, int]:
    lines = small_events.read_text(encoding="utf-8").splitlines()
    bad_row = 3  # data rows count from 1 after the header
    parts = lines[bad_row].split(",")
    parts[2] = "31.02.2025"
    lines[bad_row] = ",".join(parts)
    small_events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return small_events, bad_row


def test_bad_date_is_rejected_with_its_row_in_lenient_mode(
    small_events: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, bad_row = _with_bad_date(small_events)
    code, out, _ = run(["audit", str(path), "--format", "json", "-o", "-"], capsys)
    assert code == 0
    result = json.loads(out)
    dq = result["data_quality"]
    name = next(iter(dq["rows_read"]))
    assert dq["rows_read"][name] == 8
    assert dq["rows_rejected"][name] >= 1
    assert dq["rows_read"][name] == dq["rows_used"][name] + dq["rows_rejected"][name]
    bad = next(i for i in dq["issues"] if i["kind"] == "bad_date")
    assert bad["count"] == 1
    assert any(str(bad_row) in str(example) for example in bad["examples"])


def test_bad_date_stops_strict_mode_naming_the_row(
    small_events: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, bad_row = _with_bad_date(small_events)
    code, _, err = run(["audit", str(path), "--strict", "--format", "json", "--lang", "en"],
                       capsys)
    assert code == 2
    assert f"row {bad_row}" in err
    assert "entered_at" in err
    code, _, err = run(["audit", str(path), "--strict", "--format", "json", "--lang", "ru"],
                       capsys)
    assert code == 2 and f"строка {bad_row}" in err and "entered_at" in err


def test_bad_usage_exits_2(small_events: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["audit", str(small_events), "--format", "pdf"], capsys)
    assert code == 2 and "pdf" in err
    code, _, _ = run(["audit", str(small_events), "--no-such-option"], capsys)
    assert code == 2


def test_bad_map_exits_2(small_events: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["audit", str(small_events), "--map", "deal_id", "--lang", "en"], capsys)
    assert code == 2 and "canonical=header" in err
    code, _, err = run(["audit", str(small_events), "--map", "deal_id", "--lang", "ru"], capsys)
    assert code == 2 and "поле=заголовок" in err
