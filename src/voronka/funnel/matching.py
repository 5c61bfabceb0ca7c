"""Normalising stage names so that the data's spelling matches the funnel's.

CRM exports spell the same stage in many ways: different case, doubled spaces, ``ё`` for ``е``, and
Latin letters that look like Cyrillic ones (Bitrix24's own documentation writes "Cчет" with a
Latin ``C``). :func:`normalize_stage_name` maps all of these to one key.
"""

from __future__ import annotations

import re
import unicodedata

# Latin letters that look like Cyrillic ones. Applied only to names that contain Cyrillic, so an
# English name is left alone.
_LATIN_TO_CYRILLIC = str.maketrans(
    {
        "a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "k": "к", "m": "м", "o": "о",
        "p": "р", "t": "т", "x": "х", "y": "у",
    }
)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"«": "", "»": "", '"': "", "“": "", "”": "", "'": "", "’": ""})
_DASHES = str.maketrans({"–": "-", "—": "-", "‑": "-"})


def normalize_stage_name(name: str) -> str:
    """The matching key of a stage name.

    Case-folded, NFKC-normalised, quotes dropped, dashes unified, runs of spaces collapsed and
    trimmed, ``ё`` → ``е``; in a name with any Cyrillic letter, Latin look-alike letters become
    Cyrillic (``"Cчет"`` → ``"счет"``).
    """
    text = unicodedata.normalize("NFKC", str(name)).casefold()
    text = text.translate(_QUOTES).translate(_DASHES)
    text = _SPACES.sub(" ", text).strip()
    text = text.replace("ё", "е")
    if _CYRILLIC.search(text):
        text = text.translate(_LATIN_TO_CYRILLIC)
    return text
