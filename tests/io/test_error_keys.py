"""Input and usage errors carry a catalogue key and its values (non-negotiable 6): each raise site
names its message with :class:`voronka.errors.Msg`, the English text is the catalogue's, and the
CLI says the same in Russian. The source is scanned so that a key missing in a language, a
placeholder a raise site does not fill, or a message written as plain English fails here."""

from __future__ import annotations

import ast
import pickle
import re
import string
from functools import cache
from pathlib import Path

import pytest

import voronka
from voronka.cli import main
from voronka.errors import InputError, Msg, UsageError, any_of, either
from voronka.i18n import LANGUAGES, catalogue

SOURCE = Path(voronka.__file__).parent


def _error_classes() -> set[str]:
    """``InputError`` and every class of ``src/voronka`` derived from it."""
    classes = [node for _, node in _nodes() if isinstance(node, ast.ClassDef)]
    found = {"InputError"}
    while True:
        more = {c.name for c in classes
                if any(getattr(b, "id", getattr(b, "attr", None)) in found for b in c.bases)}
        if more <= found:
            return found
        found |= more


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@cache
def _nodes() -> tuple[tuple[str, ast.AST], ...]:
    """(file, node) of every node of ``src/voronka``, parsed once."""
    return tuple((str(path.relative_to(SOURCE)), node) for path in sorted(SOURCE.rglob("*.py"))
                 for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))


def _calls(name: str) -> list[tuple[str, ast.Call]]:
    """(where, call) of every call of ``name`` in ``src/voronka``."""
    found = []
    for path, node in _nodes():
        if isinstance(node, ast.Call) and getattr(
                node.func, "id", getattr(node.func, "attr", None)) == name:
            found.append((f"{path}:{node.lineno}", node))
    return found


def _keys(node: ast.expr) -> list[str] | None:
    """The keys (or key prefixes, ending in ".") an argument names: a literal, either branch of
    ``a if c else b``, or the fixed start of an f-string; None when the key is computed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _keys(node.body), _keys(node.orelse)
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.JoinedStr) and isinstance(node.values[0], ast.Constant):
        start = str(node.values[0].value)
        return [start] if start.endswith(".") else None
    return None


def _matching(key: str) -> list[str]:
    if key.endswith("."):
        return [k for k in catalogue() if k.startswith(key)]
    return [key] if key in catalogue() else []


def test_every_key_a_raise_site_names_is_in_both_languages_with_its_placeholders() -> None:
    sites = _calls("Msg")
    assert len(sites) > 200  # the walk sees the raise sites (about 240 messages)
    computed = []
    problems = []
    for where, call in sites:
        keys = _keys(call.args[0]) if call.args else None
        if keys is None:
            computed.append(where)
            continue
        given = {kw.arg for kw in call.keywords}
        takes_any = any(kw.arg is None for kw in call.keywords)  # **params
        for key in keys:
            found = _matching(key)
            if not found:
                problems.append(f"{where}: {key} is not in the catalogue")
            for k in found:
                texts = catalogue()[k]
                if set(texts) < set(LANGUAGES):
                    problems.append(f"{where}: {k} lacks a language")
                    continue
                ru, en = _placeholders(texts["ru"]), _placeholders(texts["en"])
                if ru != en:
                    problems.append(f"{where}: {k} has placeholders {ru} in ru, {en} in en")
                if not takes_any and not en <= given:
                    problems.append(f"{where}: {k} needs {sorted(en - given)}")
    assert problems == []
    # A computed key is passed on from another message (``Msg(self.key, ...)``) or taken from a
    # table of literal keys; nowhere else.
    assert all(w.startswith(("io/crm/", "io/folder.py", "errors.py")) for w in computed), computed


def test_the_tables_and_fallbacks_of_keys_are_in_the_catalogue() -> None:
    from voronka.io.folder import _ROLE_PARTS

    for key in _ROLE_PARTS.values():
        assert key in catalogue()
    for _where, call in _calls("any_of"):
        for arg in call.args[1:]:
            assert isinstance(arg, ast.Constant) and arg.value in catalogue()


def test_every_raise_site_names_a_catalogue_message() -> None:
    """No error is raised with English written at the raise site: the message and what was
    expected are :class:`Msg` (or a helper returning one), never a literal or an f-string."""
    english = []
    errors = _error_classes()
    assert {"UsageError", "FunnelError", "CrmError", "TooLarge"} <= errors
    for name in errors:
        for where, call in _calls(name):
            texts = list(call.args[:1]) + [kw.value for kw in call.keywords
                                            if kw.arg in ("message", "expected")]
            for node in texts:
                if isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp):
                    english.append(where)
    assert english == []
    assert len(_calls("InputError")) + len(_calls("UsageError")) + len(_calls("FunnelError")) > 130


def test_the_english_text_is_the_catalogues_and_russian_is_said_from_the_key() -> None:
    error = UsageError(Msg("errors.raised.as_of_is_not_a_date", as_of="'someday'"),
                       expected=Msg("errors.expected.an_iso_date_such_as_2025"))
    assert error.key == "errors.raised.as_of_is_not_a_date"
    assert error.params == {"as_of": "'someday'"}
    assert str(error) == "--as-of 'someday' is not a date (expected an ISO date such as 2025-06-30)"
    assert error.describe_in("ru") == "--as-of 'someday' — не дата (ожидается: дата ISO, например 2025-06-30)"
    where = InputError(Msg("errors.msg.empty"), file="a.csv", row=3, column="stage")
    assert where.describe() == "file a.csv, row 3, column 'stage': the file is empty"
    assert where.describe_in("ru") == "файл a.csv, строка 3, столбец «stage»: файл пуст"


def test_a_phrase_inside_a_message_is_said_in_the_same_language() -> None:
    where = Msg("errors.part.stage_number", i=2)
    message = Msg("errors.raised.unknown_key_did_you_mean", where=where, key="'nmae'",
                  near="'name'")
    assert message == "[[stage]] number 2: unknown key 'nmae'; did you mean 'name'?"
    assert message.say("ru") == "[[stage]] номер 2: неизвестный ключ 'nmae'; может быть, 'name'?"
    listed = Msg("errors.raised.the_folder_has_no_events_file", found=[
        Msg("errors.part.file_role", name="a.txt", role=Msg("errors.part.not_a_table_voronka_knows")),
        Msg("errors.part.file_role", name="b.csv", role=Msg("errors.part.deals"))])
    assert listed.endswith("found: a.txt (not a table voronka knows), b.csv (deals)")
    assert listed.say("ru").endswith("найдено: a.txt (не таблица, известная voronka), b.csv (сделки)")


def test_either_says_or_in_the_users_language() -> None:
    which = either(["--deals a.csv", "--deals b.csv", "--deals c.csv"])
    assert which == "--deals a.csv or --deals b.csv or --deals c.csv"
    said = Msg("errors.expected.an_events_file_beside_one_deals", which=which).say("ru")
    assert "(укажите его: --deals a.csv или --deals b.csv или --deals c.csv)" in said
    assert either(["--deals a.csv"]) == "--deals a.csv"


def test_any_of_lists_values_or_falls_back_to_a_message() -> None:
    assert any_of(["week", "month"]) == "week, month"
    assert any_of([], "errors.expected.a_deal_column").say("ru") == "столбец сделок"


def test_an_error_survives_pickling_with_its_key() -> None:
    error = InputError(Msg("errors.raised.unknown_stage", stage="'x'"), file="f.csv",
                       expected=any_of(["a", "b"]))
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is InputError and back.key == error.key and str(back) == str(error)
    assert back.describe_in("ru") == error.describe_in("ru")


def test_an_unknown_key_is_a_bug_not_a_silent_fallback() -> None:
    from voronka.i18n import MissingMessage

    with pytest.raises(MissingMessage):
        Msg("errors.raised.no_such_message")


# -- through the command line ---------------------------------------------------------------------
NAMES = {
    # products, formats and names a Russian reader sees as they are
    "voronka", "CRM", "CSV", "XLSX", "XLS", "Parquet", "TOML", "JSON", "ZIP", "ISO", "URL", "API",
    "amoCRM", "Bitrix", "HubSpot", "Pipedrive", "DuckDB", "Excel", "pip", "MB",
    "Create", "Date", "Deal", "Stage", "created", "Timestamp",  # example headers of real exports
}
CODE_WORDS = {
    "audit", "install", "id", "name", "stage", "source", "cost", "month", "date", "week", "won",
    "lost", "ru", "en", "text", "json", "html", "xlsx", "md",
}
_CODE = re.compile(r"amoCRM|Bitrix24|'[^']*'|\"[^\"]*\"|\[[^\]]*\]|--[\w-]+|\S*[_=/.:@][\w/.:@=-]*|[A-Z]{2,}\b")
"""Code in a message: quoted text, [tables], --options, names with _ = / . : @."""


def _english(text: str) -> list[str]:
    words = re.findall(r"[A-Za-z]{2,}", _CODE.sub(" ", text))
    return [w for w in words if w not in NAMES | CODE_WORDS]


def _err(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, " ".join(capsys.readouterr().err.split())


@pytest.fixture
def bad_inputs(tmp_path: Path) -> dict[str, str]:
    events = tmp_path / "events.csv"
    events.write_text("deal_id,stage,entered_at\n1,a,2024-01-02\n2,b,2024-01-05\n",
                      encoding="utf-8")
    no_column = tmp_path / "no_column.csv"
    no_column.write_text("deal_id,stage\n1,a\n", encoding="utf-8")
    bad_date = tmp_path / "bad_date.csv"
    bad_date.write_text("deal_id;stage;date\n1;a;2024-01-02\n2;a;вчера\n", encoding="utf-8")
    bad_funnel = tmp_path / "funnel.toml"
    bad_funnel.write_text('[[stage]]\nid = "a"\nnmae = "A"\n', encoding="utf-8")
    unknown_stage = tmp_path / "unknown_stage.toml"
    unknown_stage.write_text('key_stage = "zzz"\n[[stage]]\nid = "a"\n[[stage]]\nid = "b"\n',
                             encoding="utf-8")
    other_stages = tmp_path / "other_stages.toml"
    other_stages.write_text('[[stage]]\nid = "x"\n[[stage]]\nid = "y"\n', encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello", encoding="utf-8")
    return {"events": str(events), "no_column": str(no_column), "bad_date": str(bad_date),
            "bad_funnel": str(bad_funnel), "unknown_stage": str(unknown_stage),
            "other_stages": str(other_stages), "folder": str(folder), "tmp": str(tmp_path)}


RUSSIAN_CASES = {
    "missing column": (["audit", "{no_column}"], "нет обязательного столбца"),
    "bad date, strict": (["audit", "{bad_date}", "--strict"], "не дата"),
    "unknown key stage": (["audit", "{events}", "--funnel", "{unknown_stage}"], "не этап воронки"),
    "no stage of the funnel": (["audit", "{events}", "--funnel", "{other_stages}"],
                               "ни у одного события нет этапа воронки"),
    "bad funnel file": (["audit", "{events}", "--funnel", "{bad_funnel}"], "неизвестный ключ"),
    "bad --as-of": (["audit", "{events}", "--as-of", "someday"], "не дата"),
    "unknown format": (["audit", "{events}", "--format", "pdf"], "не поддерживается"),
    "unknown --by": (["audit", "{events}", "--by", "nosuch"], "нет столбца сделок"),
    "plan twice": (["audit", "{events}", "--plan", "3", "--plan-revenue", "4"], "укажите либо"),
    "folder without tables": (["audit", "{folder}"], "не таблица, известная voronka"),
}


@pytest.mark.parametrize("case", sorted(RUSSIAN_CASES))
def test_a_russian_run_says_bad_input_in_russian_only(
    case: str, bad_inputs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    args, phrase = RUSSIAN_CASES[case]
    code, ru = _err([a.format(**bad_inputs) for a in args] + ["--lang", "ru"], capsys)
    assert code == 2, ru
    assert phrase in ru, ru
    shown = ru.split(":", 1)[1].replace(bad_inputs["tmp"], "")
    assert _english(shown) == [], ru
    code, en = _err([a.format(**bad_inputs) for a in args] + ["--lang", "en"], capsys)
    assert code == 2 and phrase not in en and ru.split(":", 1)[1] not in en, en


def test_a_strict_bad_row_is_told_in_russian(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("deal_id;stage;date\n1;a;2024-01-02\n2;a;zzz\n", encoding="utf-8")
    code, ru = _err(["audit", str(bad), "--strict", "--lang", "ru"], capsys)
    assert code == 2
    assert "файл" in ru and "строка 2" in ru and "«zzz»" in ru and "не дата" in ru
    code, en = _err(["audit", str(bad), "--strict", "--lang", "en"], capsys)
    assert code == 2 and "row 2" in en and "not a date: 'zzz'" in en and "строка" not in en


def test_a_missing_file_is_told_in_russian(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    events = tmp_path / "events.csv"
    events.write_text("deal_id;stage;date\n1;a;2024-01-02\n", encoding="utf-8")
    code, ru = _err(["audit", str(events), "--deals", str(tmp_path / "nope.csv"),
                     "--lang", "ru"], capsys)
    assert code == 2 and "nope.csv" in ru
    after_prefix = ru.split(":", 1)[1]
    words = re.findall(r"[A-Za-z]{3,}", after_prefix.replace(str(tmp_path), ""))
    assert words == ["nope", "csv"], words
    code, en = _err(["audit", str(events), "--deals", str(tmp_path / "nope.csv"),
                     "--lang", "en"], capsys)
    assert code == 2 and "does not exist" in en
