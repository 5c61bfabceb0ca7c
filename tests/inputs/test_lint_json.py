"""``lint-stages --format json`` writes no raw C1 control or bidi mark (issue 10, point 14): JSON
allows them inside strings, but a terminal showing the output would obey them. They are written
as ``\\uXXXX`` escapes, so a JSON parser reads back the very names given."""

from __future__ import annotations

import json
import re

import pytest

from voronka.cli import main
from voronka.text_safety import json_text

RAW = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
NAMES = ["Думают\x9b31m", "Meeting\u202eevil", "Won\x1b]0;x\x07", "Sent\u2067\u200f\x7f"]


def test_lint_stages_json_escapes_c1_and_bidi(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint-stages", *NAMES, "--format", "json", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert not RAW.search(out.replace("\n", "")), repr(RAW.search(out.replace("\n", "")))
    for escape in ("\\u009b", "\\u202e", "\\u001b", "\\u2067", "\\u200f", "\\u007f"):
        assert escape in out, escape
    assert "Думают" in out  # other text stays readable, not \\u-escaped
    parsed = json.loads(out)
    shown = json.dumps(parsed, ensure_ascii=False)
    for name in NAMES:
        assert json.dumps(name, ensure_ascii=False)[1:-1] in shown  # the same names read back


def test_json_text_escapes_only_the_dangerous_characters() -> None:
    value = {"a": "x\x85y\u061c", "b": ["Встреча — 100 %", "\u2066"]}
    text = json_text(value)
    assert json.loads(text) == value
    assert "Встреча — 100 %" in text and not RAW.search(text)
    assert text.count("\\u") == 3
