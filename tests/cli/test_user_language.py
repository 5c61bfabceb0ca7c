"""The language the commands speak: ``--lang`` when given, else ``VORONKA_LANG``, else ``LANG``,
else Russian — one rule (:func:`voronka.i18n.user_language`) for ``voronka`` and ``voronka serve``."""

from __future__ import annotations

from pathlib import Path

import pytest

from voronka.cli import main
from voronka.i18n import t, user_language


@pytest.mark.parametrize(("given", "voronka_lang", "lang", "expected"), [
    ("en", "ru", "ru_RU.UTF-8", "en"),  # the option wins
    (None, "en", "ru_RU.UTF-8", "en"),  # then VORONKA_LANG
    (None, None, "en_GB.UTF-8", "en"),  # then LANG
    (None, None, None, "ru"),  # the default
    (None, "de", None, "ru"),  # a language without messages: the default
])
def test_the_user_language_comes_from_the_option_then_the_environment(
    monkeypatch: pytest.MonkeyPatch, given: str | None, voronka_lang: str | None,
    lang: str | None, expected: str,
) -> None:
    for name, value in (("VORONKA_LANG", voronka_lang), ("LANG", lang)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert user_language(given) == expected


@pytest.mark.parametrize("language", ["ru", "en"])
def test_an_input_error_is_said_in_the_environment_language(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    language: str,
) -> None:
    monkeypatch.setenv("VORONKA_LANG", language)
    monkeypatch.setenv("LANG", "ru_RU.UTF-8" if language == "en" else "en_US.UTF-8")
    empty = tmp_path / "events.csv"
    empty.write_text("", encoding="utf-8")
    assert main(["audit", str(empty)]) == 2
    assert t("cli.error_input", language) in capsys.readouterr().err


def test_live_commands_follow_the_same_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """`voronka sync`, `watch` and `hooks` spoke Russian under VORONKA_LANG=en (their own rule)."""
    from voronka.cli_live import _lang

    monkeypatch.setenv("VORONKA_LANG", "en")
    assert _lang(None) == "en"
    assert _lang("ru") == "ru"
