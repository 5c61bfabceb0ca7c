"""The message catalogue: every message in Russian and English, every key the code uses exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from voronka.i18n import LANGUAGES, catalogue, t

SRC = Path(__file__).resolve().parents[1] / "src" / "voronka"

# t("key" …) or t('key' …) with a whole literal key; keys built at run time (f-strings,
# "prefix." + name) are not scanned.
_LITERAL_CALL = re.compile(r"""\b(?:t|has)\(\s*(["'])([A-Za-z0-9_.\-]+)\1\s*[,)]""")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _used_keys() -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    files = [*SRC.rglob("*.py"), *SRC.rglob("*.j2"), *SRC.rglob("*.html")]
    for path in files:
        for match in _LITERAL_CALL.finditer(path.read_text(encoding="utf-8")):
            used.setdefault(match.group(2), []).append(str(path.relative_to(SRC)))
    return used


def test_catalogue_loads_without_duplicate_keys() -> None:
    """Loading raises on a key defined twice, in one file or across files."""
    assert len(catalogue()) > 0


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_has_every_language(lang: str) -> None:
    missing = [key for key, texts in catalogue().items() if not (texts.get(lang) or "").strip()]
    assert missing == [], f"messages without {lang}: {missing}"


def test_translations_take_the_same_placeholders() -> None:
    mismatched = {
        key: {lang: sorted(_placeholders(texts.get(lang, ""))) for lang in LANGUAGES}
        for key, texts in catalogue().items()
        if len({frozenset(_placeholders(texts.get(lang, ""))) for lang in LANGUAGES}) > 1
    }
    assert mismatched == {}


def test_every_literal_key_used_in_the_code_exists() -> None:
    used = _used_keys()
    assert used, "the scan found no t(...) calls: the pattern is broken"
    missing = {key: where for key, where in used.items() if key not in catalogue()}
    assert missing == {}, f"keys used in the code but not in the catalogue: {missing}"


def test_scan_finds_literal_calls_and_skips_f_strings() -> None:
    sample = 't("a.b") x = t( \'c.d\', lang) t(f"e.{x}") has("g.h") fmt("no.no") t("p." ~ x)'
    assert [m.group(2) for m in _LITERAL_CALL.finditer(sample)] == ["a.b", "c.d", "g.h"]


def test_every_message_formats_with_its_placeholders() -> None:
    for key, texts in catalogue().items():
        for lang in LANGUAGES:
            params = {name: "x" for name in _placeholders(texts[lang])}
            assert t(key, lang, **params)


def test_a_notes_dates_and_fractions_are_written_as_each_language_writes_them() -> None:
    from voronka.i18n import note, note_text

    text = note("quality.note.leads_stop", week="2018-05-28", days=164, as_of="2018-11-14",
                per_week=157.7)
    ru, en = note_text(text, "ru") or "", note_text(text, "en") or ""
    assert "28.05.2018" in ru and "14.11.2018" in ru and "157,7" in ru and "164" in ru
    assert "28 May 2018" in en and "14 Nov 2018" in en and "157.7" in en
    assert "2018-05-28" not in ru + en


def test_a_notes_counts_and_shares_are_written_as_the_reports_write_them() -> None:
    """BPIC 2012's inferred order read "Of the 13087 deals … 0 (0.0 %)" in English: counts of
    thousands get the reports' separator and the share each language's percent sign."""
    from voronka.i18n import note, note_text

    text = note("inputs2.order_inferred", order="a → b", against=1234, checked=13087, share=9.4)
    ru, en = note_text(text, "ru") or "", note_text(text, "en") or ""
    assert "Of the 13,087 deals" in en and "1,234 (9.4%)" in en
    assert "Из 13\u00a0087 сделок" in ru and "1\u00a0234 (9,4 %)" in ru
    small = note_text(note("quality.note.leads_stop", week="2018-05-28", days=999,
                           as_of="2018-11-14", per_week=1.0), "en") or ""
    assert "999 days" in small
