"""Text from the user's data made safe to print: control characters shown, never obeyed.

A stage name, a file name or a cell may hold terminal escape sequences (ANSI ``ESC [ 2 J`` clears
the screen, OSC ``ESC ] 0 ; … BEL`` sets the terminal's title), other C0/C1 control characters or
Unicode bidirectional overrides (U+202A–U+202E, U+2066–U+2069, which reorder what follows). Every
text voronka prints from data — the terminal report, error messages, ``lint-stages``, Markdown —
goes through :func:`safe_text`, which writes each such character visibly as ``\\x1b`` or
``\\u202e``. One function, used everywhere; it lives outside the layers so that any of them may
use it.

::

    safe_text("Won\\x1b]0;pwned\\x07")   # 'Won\\\\x1b]0;pwned\\\\x07'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: Any, *, multiline: bool = False) -> str:
    """``text`` with every control character, escape sequence introducer and bidi override shown
    as ``\\xNN`` / ``\\uNNNN``.

    ``multiline``: keep line breaks and tabs (a whole message or report); otherwise (a name, a
    cell) they are shown too, so that one value stays on one line.
    """
    value = str(text)
    pattern = _UNSAFE if multiline else _UNSAFE_LINE
    return pattern.sub(_shown, value) if pattern.search(value) else value


_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_BIDI}]")


def json_text(value: Any, **kwargs: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **kwargs)`` with DEL, the C1 controls and the bidi
    marks written as ``\\uXXXX`` escapes too: JSON allows them raw, but a terminal obeys them
    (``\\x9b`` starts an escape sequence, ``\\u202e`` reverses what follows). Only these
    characters are escaped (C0 controls already are); other text stays readable (Cyrillic …).
    A JSON parser reads the same value back."""
    import json

    text = json.dumps(value, ensure_ascii=False, **kwargs)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def is_safe(text: str, *, multiline: bool = True) -> bool:
    """Whether ``text`` holds no character :func:`safe_text` would replace."""
    return (_UNSAFE if multiline else _UNSAFE_LINE).search(text) is None


def excerpt(value: Any, limit: int = 40) -> str:
    """A short, safe excerpt of a cell for a message: at most ``limit`` characters, control
    characters shown, an ellipsis where it is cut."""
    text = safe_text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Safe:
    """A rich renderable shown with :func:`safe_text` applied to every piece of text it renders
    (rich's own styles and cursor controls are kept): ``console.print(Safe(table))``."""

    def __init__(self, renderable: Any) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Any, options: Any) -> Iterable[Any]:
        from rich.segment import Segment

        for segment in console.render(self.renderable, options):
            if segment.control or is_safe(segment.text):
                yield segment
            else:
                yield Segment(safe_text(segment.text, multiline=True), segment.style)
