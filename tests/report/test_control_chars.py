"""Control characters in data and file names are shown, never obeyed (issue 10, point 14).

A stage name carrying ``ESC ] 0 ; … BEL`` (sets the terminal's title), ``ESC [ 2 J`` (clears the
screen), a C1 control or a right-to-left override reaches every printed output only as visible
``\\x1b`` / ``\\u202e`` text.
"""

from __future__ import annotations

import re

from voronka.text_safety import excerpt, safe_text

EVIL = "Won\x1b]0;PWNED\x07\x1b[2J\u202eevil\x9b31m\x00"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_safe_text_shows_every_control_character() -> None:
    shown = safe_text(EVIL)
    assert not RAW.search(shown)
    assert "\\x1b]0;PWNED\\x07\\x1b[2J\\u202eevil\\x9b31m\\x00" in shown
    assert safe_text("Встреча назначена — 100 %") == "Встреча назначена — 100 %"
    assert safe_text("a\nb\tc") == "a\\x0ab\\x09c"
    assert safe_text("a\nb\tc", multiline=True) == "a\nb\tc"
    for ch in ("\u2066", "\u2067", "\u2068", "\u2069", "\u202a", "\u202b", "\u202c", "\u202d"):
        assert ch not in safe_text(f"x{ch}y")
    assert len(excerpt("z" * 500)) == 40 and not RAW.search(excerpt(EVIL * 3))


# The report (text, Markdown), an error naming a hostile file and lint-stages (text and JSON) are
# rows of the hostile-input catalogue: tests/inputs/catalogue_b.py (``escape-codes-*``).
