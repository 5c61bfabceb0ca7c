"""Every message key in the catalogue is used: named by code or templates, whole (``t("a.b")``,
``"a.b"`` in a table of keys) or by a prefix the code completes at run time (``t(f"a.{x}")``,
``"a." + x``, Jinja's ``"a." ~ x``). A key nothing can reach is dead text that translators would still maintain."""

from __future__ import annotations

import re
from pathlib import Path

from voronka.i18n import catalogue

SRC = Path(__file__).resolve().parents[1] / "src" / "voronka"

_LITERAL = re.compile(r"""["']([A-Za-z0-9_.\-]+)["']""")
_PREFIX = re.compile(r"""["']([A-Za-z0-9_\-]+\.[A-Za-z0-9_.\-]*)(?:\{|["']\s*[+~])""")


def _code() -> str:
    files = [p for ext in ("py", "j2", "html", "js") for p in SRC.rglob(f"*.{ext}")]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def test_every_message_key_is_used() -> None:
    code = _code()
    literals = set(_LITERAL.findall(code))
    prefixes = set(_PREFIX.findall(code))
    unused = sorted(
        key for key in catalogue()
        if key not in literals and not any(key.startswith(p) for p in prefixes)
    )
    assert unused == [], f"{len(unused)} message keys no code or template uses: {unused}"


def test_the_check_sees_whole_and_prefixed_keys() -> None:
    """The scanner itself: a literal key, an f-string prefix and a concatenated prefix count."""
    sample = ('t("report.section.funnel.title")  t(f"crm.phase.{p}")  "io.reject." + reason  '
              't(f"report.finding.key_stage.detail_{method}")  t("web.sel." ~ kind)')
    assert "report.section.funnel.title" in _LITERAL.findall(sample)
    assert set(_PREFIX.findall(sample)) == {
        "crm.phase.", "io.reject.", "report.finding.key_stage.detail_", "web.sel."}
