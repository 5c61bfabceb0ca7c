"""The commands as a user runs them: lint-stages, pull, audit output formats and the JSON contract."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from voronka.cli import main
from voronka.schema import load_schema


def test_lint_stages_prints_one_verdict_per_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint-stages", "Думают", "Встреча назначена", "--lang", "ru"]) == 0
    out = capsys.readouterr().out
    assert "Думают" in out and "Встреча назначена" in out
    assert "процесс" in out and "результат" in out
    assert "Решение принято" in out  # the rename of the process name


def test_lint_stages_json_follows_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    names = ["Думают", "Встреча назначена", "Negotiation", "Contract Sent"]
    assert main(["lint-stages", *names, "--format", "json", "--lang", "en"]) == 0
    payload = json.loads(capsys.readouterr().out)
    jsonschema.validate(payload, load_schema("lint"))
    assert [p["name"] for p in payload] == names
    assert [p["verdict"] for p in payload] == ["process", "result", "process", "result"]
    assert payload[0]["suggestion"] and payload[2]["suggestion"]
    assert payload[1]["suggestion"] is None


def test_lint_stages_reads_a_file_and_a_funnel(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    names = tmp_path / "names.txt"
    names.write_text("На согласовании\n\nIn progress\n", encoding="utf-8")
    assert main(["lint-stages", "--file", str(names), "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [p["verdict"] for p in payload] == ["process", "process"]


def test_lint_stages_without_names_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint-stages"]) == 2


def test_pull_without_credentials_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VORONKA_AMOCRM_TOKEN", raising=False)
    monkeypatch.delenv("VORONKA_AMOCRM_SUBDOMAIN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    code = main(["pull", "amocrm", "--out", str(tmp_path / "out"), "--lang", "en"])
    err = capsys.readouterr().err
    assert code == 2
    assert "VORONKA_AMOCRM_TOKEN" in err and "[amocrm]" in err
    assert "Traceback" not in err


def test_pull_unknown_crm_is_a_usage_error(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pull", "salesforce", "--out", str(tmp_path)]) == 2
    assert "amocrm" in capsys.readouterr().err


def test_audit_json_validates_against_the_schema(
    small_events: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", str(small_events), "--format", "json", "-o", "-"]) == 0
    payload = json.loads(capsys.readouterr().out)
    jsonschema.validate(payload, load_schema("audit"))
    assert payload["schema_version"] == 1
    assert [s["reached"] for s in payload["funnel"]["stages"][:3]] == [4, 3, 2]


@pytest.mark.parametrize("fmt", ["html", "md", "xlsx", "json"])
def test_audit_writes_every_format(small_events: Path, tmp_path: Path, fmt: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"report.{fmt}"
    assert main(["audit", str(small_events), "--format", fmt, "-o", str(out), "--lang", "en"]) == 0
    assert out.stat().st_size > 200
    if fmt == "xlsx":
        assert out.read_bytes()[:2] == b"PK"
    elif fmt == "html":
        assert '<html lang="en"' in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(("name", "kind"), [("report.html", "html"), ("REPORT.HTM", "html"),
                                            ("out.json", "json"), ("book.xlsx", "xlsx"),
                                            ("notes.md", "md"), ("plain.txt", "text")])
def test_without_format_the_output_extension_chooses_it(
    small_events: Path, tmp_path: Path, name: str, kind: str,
) -> None:
    """`-o report.html` without `--format` wrote the terminal text into report.html; the
    extension now says the format, as a user expects (`--format` still wins)."""
    out = tmp_path / name
    assert main(["audit", str(small_events), "-o", str(out), "--lang", "en"]) == 0
    data = out.read_bytes()
    checks = {
        "html": lambda: b'<html lang="en"' in data,
        "json": lambda: json.loads(data)["schema_version"] == 1,
        "xlsx": lambda: data[:2] == b"PK",
        "md": lambda: data.startswith(b"# "),
        "text": lambda: b"<html" not in data and b"Funnel" in data,
    }
    assert checks[kind](), data[:200]
    forced = tmp_path / "forced.html"
    assert main(["audit", str(small_events), "-o", str(forced), "--format", "md"]) == 0
    assert forced.read_bytes().startswith(b"# ")
