"""Text rendering of a stage-name lint for the terminal (``voronka lint-stages``)."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from voronka.i18n import t
from voronka.lang.verdict import NameVerdict
from voronka.text_safety import Safe

_STYLE = {"result": "green", "process": "red", "unclear": "yellow"}


def render_lint_text(
    verdicts: Sequence[NameVerdict],
    lang: str | None = None,
    *,
    width: int = 120,
    color: bool = False,
) -> str:
    """A table: name, verdict, reason, rename; and a one-line summary, in ``lang``.

    ``color``: keep the terminal colour codes (for a live terminal; off for files and tests).
    """
    table = Table(title=t("lang.table.title", lang), show_lines=False)
    table.add_column(t("lang.table.name", lang), overflow="fold")
    table.add_column(t("lang.table.verdict", lang))
    table.add_column(t("lang.table.reason", lang), overflow="fold")
    table.add_column(t("lang.table.suggestion", lang), overflow="fold")
    for v in verdicts:
        style = _STYLE[v.verdict]
        table.add_row(
            v.name,
            f"[{style}]{t('lang.verdict.' + v.verdict, lang)}[/{style}]",
            v.reason(lang),
            v.suggestion or "—",
        )
    counts = Counter(v.verdict for v in verdicts)
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        force_terminal=color,
        color_system="auto" if color else None,
        highlight=False,
    )
    console.print(Safe(table))
    console.print(
        t(
            "lang.summary",
            lang,
            result=counts["result"],
            process=counts["process"],
            unclear=counts["unclear"],
        )
    )
    return buf.getvalue()
