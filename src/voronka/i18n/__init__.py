"""The one message catalogue (Russian and English) for every word a person reads.

Messages live in ``messages/*.toml``, one file per domain (``cli.toml``, ``report.toml``,
``lang.toml`` …). Each message is a table with one string per language::

    ["funnel.title"]
    ru = "Воронка"
    en = "Funnel"

Nested tables are flattened with dots, so ``[funnel] title = {ru = ..., en = ...}`` is the same
key. Placeholders use :meth:`str.format` syntax (``"{count} deals"``). A test fails when a message
lacks a language or two files define the same key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("ru", "en")
"""Languages every message must have."""

DEFAULT_LANGUAGE = "ru"


class MissingMessage(KeyError):
    """A message key that is not in the catalogue."""


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, dict[str, str]], src: str) -> None:
    if table and all(isinstance(v, str) for v in table.values()) and set(table) & set(LANGUAGES):
        if prefix in out:
            raise ValueError(f"message {prefix!r} is defined twice (second time in {src})")
        out[prefix] = dict(table)
        return
    for key, value in table.items():
        if not isinstance(value, Mapping):
            raise ValueError(f"{src}: {prefix}.{key} is neither a message nor a table")
        _flatten(f"{prefix}.{key}" if prefix else key, value, out, src)


@cache
def catalogue() -> Mapping[str, Mapping[str, str]]:
    """Every message: ``{key: {language: text}}``."""
    out: dict[str, dict[str, str]] = {}
    folder = resources.files("voronka.i18n").joinpath("messages")
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            _flatten("", tomllib.loads(entry.read_text(encoding="utf-8")), out, entry.name)
    return out


def normalize_language(lang: str | None) -> str:
    """``ru`` or ``en`` from a user's choice (``ru_RU``, ``EN`` …); the default when unknown."""
    if not lang:
        return DEFAULT_LANGUAGE
    short = lang.strip().lower()[:2]
    return short if short in LANGUAGES else DEFAULT_LANGUAGE


def user_language(lang: str | None) -> str:
    """The language to speak to the user: ``lang`` (a ``--lang`` option) when given, else the
    ``VORONKA_LANG`` environment variable, else ``LANG`` (:func:`normalize_language` of it)."""
    return normalize_language(lang or os.environ.get("VORONKA_LANG") or os.environ.get("LANG"))


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """The message ``key`` in ``lang`` with ``params`` filled in.

    Raises :class:`MissingMessage` for an unknown key: a missing message is a bug, not a fallback.
    """
    try:
        texts = catalogue()[key]
    except KeyError:
        raise MissingMessage(key) from None
    text = texts.get(normalize_language(lang)) or texts[DEFAULT_LANGUAGE]
    return text.format(**params) if params else text


def has(key: str) -> bool:
    """Whether ``key`` is in the catalogue."""
    return key in catalogue()


def note(key: str, /, **params: Any) -> str:
    """A note of ``data_quality.notes`` with placeholders: ``key {"param": "value"}``. A note
    without placeholders is just its key. :func:`note_text` reads both."""
    import json

    return f"{key} {json.dumps(params, ensure_ascii=False, sort_keys=True)}" if params else key


def note_text(text: str, lang: str | None = None) -> str | None:
    """A note (a message key, or ``key {json params}`` from :func:`note`) in ``lang``; None when
    it is not a message of the catalogue."""
    import json

    key, _, rest = text.partition(" ")
    if not has(key):
        return None
    params: dict[str, Any] = {}
    if rest.startswith("{"):
        try:
            loaded = json.loads(rest)
        except ValueError:
            return None
        params = loaded if isinstance(loaded, dict) else {}
    code = normalize_language(lang)
    params = {name: _in_language(value, code) for name, value in params.items()}
    try:
        return t(key, lang, **params)
    except (KeyError, IndexError):
        return None


MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _in_language(value: Any, lang: str) -> Any:
    """A note's value as the language writes it: an ISO date ``2018-05-28`` as ``28.05.2018`` /
    ``28 May 2018``, a fraction with a decimal comma in Russian, a count of thousands with the
    reports' separator (13 087 / 13,087); anything else as it is."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        year, month, day = value.split("-")
        if not 1 <= int(month) <= 12:
            return value
        if lang == "ru":
            return f"{day}.{month}.{year}"
        return f"{int(day)} {MONTHS_EN[int(month) - 1]} {year}"
    if isinstance(value, float) and lang == "ru":
        return str(value).replace(".", ",")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1000:
        # As the reports write counts: 13 087 (a no-break space) / 13,087.
        return f"{value:,}".replace(",", "\u00a0" if lang == "ru" else ",")
    return value


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """The Russian plural form for ``n`` (1 сделка, 2 сделки, 5 сделок)."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many
