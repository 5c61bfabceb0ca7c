"""The verdict on one stage name, and language detection."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from voronka.i18n import t

Verdict = Literal["result", "process", "unclear"]
"""``result``: the name says what happened; ``process``: it names an ongoing activity or state;
``unclear``: neither (an object, a segment, a number)."""

NameLanguage = Literal["ru", "en"]

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


@dataclass(frozen=True)
class NameVerdict:
    """Whether a stage name states a result or a process, why, and a result-style rename.

    Attributes:
        name: the name as given.
        language: the language the name was judged in (``ru`` or ``en``).
        verdict: ``result``, ``process`` or ``unclear``.
        reason_key: message key of the reason in the catalogue (``lang.reason.…``).
        reason_params: the words the reason quotes (the word that decided, the rename …).
        suggestion: a result-style rename, or None when the name is fine or no rename can be
            built from its grammar.
    """

    name: str
    language: NameLanguage
    verdict: Verdict
    reason_key: str
    reason_params: Mapping[str, str] = field(default_factory=dict)
    suggestion: str | None = None

    def reason(self, lang: str | None = None) -> str:
        """The reason in words, in ``lang`` (``ru`` or ``en``; default: the name's language)."""
        return t(self.reason_key, lang or self.language, **dict(self.reason_params))

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        """The ``lint-stages --format json`` shape: ``{name, verdict, reason, suggestion}``."""
        return {
            "name": self.name,
            "verdict": self.verdict,
            "reason": self.reason(lang),
            "suggestion": self.suggestion,
        }


def detect_language(name: str) -> NameLanguage:
    """``ru`` when the name has more Cyrillic than Latin letters, else ``en``.

    A Latin look-alike inside a Russian word (``Cчет``) does not tip the balance: the majority
    decides.
    """
    cyr = len(_CYRILLIC.findall(name))
    lat = len(_LATIN.findall(name))
    return "ru" if cyr >= lat and cyr > 0 else "en"
