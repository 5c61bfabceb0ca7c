"""Input and usage errors in the user's language, through the message catalogue.

An :class:`~voronka.errors.InputError` carries its message and what was expected in English, the
words written where it is raised. Each such text has a key in the catalogue
(``messages/errors.toml``, ``messages/errors_more.toml``) whose English text is the message's
template, ``{name}`` marking a value (a file name, a column, a number …). :func:`translate` finds
the key whose template the text matches — the most specific one first — and gives the
catalogue's text in ``lang`` with the same values. A value that is itself a phrase (``[[stage]]
number 2``) is translated the same way (keys ``errors.part.*``). A text that matches no key is
returned as it is; ``tests/io/test_error_language.py`` checks that every message raised in
``src/voronka`` matches one.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache

from voronka.i18n import catalogue, normalize_language, t

MESSAGES = ("msg", "raised")
EXPECTED = ("expected",)
PARTS = ("part",)
"""Groups of keys (``errors.<group>.*``): messages, what was expected, parts of messages."""


@dataclass(frozen=True)
class Template:
    """A catalogue key, the regular expression of its English text, and how specific it is."""

    key: str
    pattern: re.Pattern[str]
    literal: int


def _pattern(text: str) -> tuple[re.Pattern[str], int]:
    parts, names, literal = [], set(), 0
    for before, name, _spec, _conversion in string.Formatter().parse(text):
        parts.append(re.escape(before))
        literal += len(before.strip())
        if name is None:
            continue
        if name in names:
            parts.append(f"(?P={name})")
        else:
            names.add(name)
            parts.append(f"(?P<{name}>.*?)")
    return re.compile(r"\A" + "".join(parts) + r"\Z", re.DOTALL), literal


@cache
def templates(groups: tuple[str, ...]) -> tuple[Template, ...]:
    """The catalogue's keys of ``groups``, the most specific (longest fixed text) first."""
    prefixes = tuple(f"errors.{group}." for group in groups)
    found = []
    for key, texts in catalogue().items():
        if key.startswith(prefixes) and "en" in texts:
            pattern, literal = _pattern(texts["en"])
            if literal:
                found.append(Template(key, pattern, literal))
    return tuple(sorted(found, key=lambda tp: (-tp.literal, tp.key)))


def _say(text: str, lang: str, groups: tuple[str, ...]) -> str | None:
    for template in templates(groups):
        match = template.pattern.match(text)
        if match:
            values = {name: translate_part(value, lang)
                      for name, value in match.groupdict().items()}
            return t(template.key, lang, **values)
    return None


@cache
def _phrases() -> tuple[tuple[str, str], ...]:
    """The parts without values (``(CRM export)``): replaced wherever a value holds them."""
    found = [(texts["en"], key) for key, texts in catalogue().items()
             if key.startswith(f"errors.{PARTS[0]}.") and "{" not in texts.get("en", "{")]
    return tuple(sorted(found, key=lambda pair: -len(pair[0])))


def translate_part(text: str, lang: str) -> str:
    """A value of a message in ``lang``: a phrase of the catalogue (``errors.part.*``) as a whole,
    or a list holding such phrases, with them translated; else as it is."""
    said = _say(text, lang, PARTS)
    if said is not None:
        return said
    for english, key in _phrases():
        if english in text:
            text = text.replace(english, t(key, lang))
    return text


def translate(text: str, lang: str | None, *, expected: bool = False) -> str:
    """An error message (``expected``: what was expected) in ``lang``; as it is in English or
    when no catalogue key matches it."""
    lang = normalize_language(lang)
    if lang == "en" or not text:
        return text
    return _say(text, lang, EXPECTED if expected else MESSAGES) or text
