"""Input errors in the user's language (non-negotiable 6): the frame (file, row, column, expected),
a strict-mode bad row's reason and the common messages come from the ru/en catalogue."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import voronka
from voronka.cli import main
from voronka.io.error_text import EXPECTED, MESSAGES, templates, translate


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


# -- every message raised in src/voronka --------------------------------------------------------
SOURCE = Path(voronka.__file__).parent
ERRORS = {"InputError", "UsageError", "FunnelError"}
SAMPLE = "42"
"""What a value of a message is replaced with (a number: no words of its own)."""

NAMES = {
    # products, formats and names a Russian reader sees as they are
    "voronka", "CRM", "CSV", "XLSX", "XLS", "Parquet", "TOML", "JSON", "ZIP", "ISO", "URL", "API",
    "amoCRM", "Bitrix", "HubSpot", "Pipedrive", "DuckDB", "Excel", "pip", "MB",
    # the example headers of real exports quoted in messages
    "Create", "Date", "Deal", "Stage", "created",
}
CODE_WORDS = {
    # commands, canonical columns, funnel keys and option values, written as the user types them
    "audit", "install", "id", "name", "stage", "source", "cost", "month", "date", "week", "won",
    "lost", "ru", "en", "text", "json", "html", "xlsx", "md",
}
_CODE = re.compile(r"amoCRM|Bitrix24|'[^']*'|\"[^\"]*\"|\[[^\]]*\]|--[\w-]+|\S*[_=/.:@][\w/.:@=-]*|[A-Z]{2,}\b")
"""Code in a message: quoted text, [tables], --options, names with _ = / . : @, placeholders."""


def _template(node: ast.expr, constants: dict[str, str]) -> str | None:
    """The message a raise site writes, its values replaced by :data:`SAMPLE` (``constants``:
    the module's text constants, for a message or expectation named by one)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.BoolOp):  # ``", ".join(names) or "a deal column"``
        return _template(node.values[-1], constants)
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else SAMPLE for v in node.values)
    if isinstance(node, ast.IfExp):
        return _template(node.body, constants)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _template(node.left, constants)
        return None if left is None else left + " (" + SAMPLE + ")"
    return None


def _raised() -> list[tuple[str, str, str]]:
    """(where, message or expected, text) of every error raised in ``src/voronka`` whose text is
    written at the raise site."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {target.id: text for node in tree.body if isinstance(node, ast.Assign)
                     for target in node.targets if isinstance(target, ast.Name)
                     for text in [_template(node.value, {})] if text is not None}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name not in ERRORS:
                continue
            where = f"{path.relative_to(SOURCE)}:{node.lineno}"
            texts = [("message", node.args[0])] if node.args else []
            texts += [("expected", kw.value) for kw in node.keywords if kw.arg == "expected"]
            for kind, value in texts:
                text = _template(value, constants)
                if text is not None:
                    found.append((where, kind, text))
    return found


def _english(text: str) -> list[str]:
    words = re.findall(r"[A-Za-z]{2,}", _CODE.sub(" ", text))
    return [w for w in words if w not in NAMES | CODE_WORDS]


def test_the_walk_finds_the_raise_sites() -> None:
    found = _raised()
    assert len(found) > 200
    assert any(w.startswith("engine/sources.py") for w, _, _ in found)
    assert any(w.startswith("funnel/loading.py") for w, _, _ in found)


def test_every_message_raised_is_said_in_russian() -> None:
    english = {}
    for where, kind, text in _raised():
        said = translate(text, "ru", expected=kind == "expected")
        if _english(said):
            english[f"{where} {kind}"] = (said, _english(said))
    assert english == {}


PHRASE_KEYS = {
    "errors.raised.unknown_key_did_you_mean": "a hint the raise site adds (test below)",
    "errors.expected.a_header_such_as_or_map_2": "a hint the raise site adds (mis-decoded headers)",
    "errors.msg.no_match": "the filter's description the raise site adds is empty",
}
"""Keys whose fixed text is partly a value of the raise site, so no sample of it matches."""


def test_every_error_key_says_a_message_that_is_raised() -> None:
    """No dead text: each key of a message or expectation matches a raise site's text."""
    samples = {kind: [text for _, k, text in _raised() if k == kind]
               for kind in ("message", "expected")}
    unreached = []
    for kind, groups in (("message", MESSAGES), ("expected", EXPECTED)):
        for template in templates(groups):
            if template.key in PHRASE_KEYS:
                continue
            if not any(template.pattern.match(text) for text in samples[kind]):
                unreached.append(template.key)
    assert unreached == []


def test_the_english_text_stays_as_raised() -> None:
    for _where, kind, text in _raised():
        assert translate(text, "en", expected=kind == "expected") == text


def test_a_value_that_is_a_phrase_is_translated_too() -> None:
    said = translate("[[stage]] number 2: unknown key 'nmae'; did you mean 'name'?", "ru")
    assert said == "[[stage]] номер 2: неизвестный ключ 'nmae'; может быть, 'name'?"


@pytest.mark.parametrize("args", [
    ["audit", "{events}", "--as-of", "someday"],
    ["audit", "{events}", "--format", "pdf"],
    ["audit", "{events}", "--by", "nosuch"],
    ["audit", "{events}", "--funnel", "{bad_funnel}"],
    ["audit", "{events}", "--plan", "3", "--plan-revenue", "4"],
    ["audit", "{folder}"],
])
def test_errors_through_the_cli_have_no_english_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    events = tmp_path / "events.csv"
    events.write_text("deal_id,stage,entered_at\n1,a,2024-01-02\n2,b,2024-01-05\n",
                      encoding="utf-8")
    bad_funnel = tmp_path / "funnel.toml"
    bad_funnel.write_text('[[stage]]\nid = "a"\nnmae = "A"\n', encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello", encoding="utf-8")
    paths = {"events": str(events), "bad_funnel": str(bad_funnel), "folder": str(folder)}
    code, ru = _err([a.format(**paths) for a in args] + ["--lang", "ru"], capsys)
    assert code == 2, ru
    shown = ru.split(":", 1)[1].replace(str(tmp_path), "")
    assert _english(shown) == [], ru
