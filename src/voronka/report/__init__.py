"""Turning an audit result into what people read: text, JSON, HTML, XLSX, Markdown (ru/en).

``render(result, fmt)`` is the one entry point the CLI and the Python API use. An
:class:`~voronka.audit.AuditResult` shows itself in Jupyter through :func:`render_html` (imported by
``AuditResult._repr_html_`` when a notebook asks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from voronka.report.findings import Finding, select_findings
from voronka.report.html import render_html
from voronka.report.json import render_json
from voronka.report.markdown import render_markdown
from voronka.report.text import print_text, render_text
from voronka.report.xlsx import render_xlsx

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.funnel import Funnel

Format = Literal["text", "json", "html", "xlsx", "md"]

FORMATS: tuple[str, ...] = ("text", "json", "html", "xlsx", "md")
"""The report formats, as ``--format`` names them."""


def render(
    result: AuditResult,
    fmt: str = "text",
    *,
    lang: str | None = None,
    funnel: Funnel | None = None,
) -> str | bytes:
    """The report of ``result`` in format ``fmt`` (bytes for ``xlsx``, text otherwise).

    Args:
        result: the audit result.
        fmt: one of :data:`FORMATS` (``markdown`` is accepted for ``md``).
        lang: ``ru`` or ``en``; default the result's language (the funnel file's).
        funnel: when given, stage names and key tasks come from it in ``lang``.

    Raises:
        ValueError: for an unknown format.
    """
    name = "md" if fmt == "markdown" else fmt
    if name == "text":
        return render_text(result, lang=lang, funnel=funnel)
    if name == "json":
        return render_json(result)
    if name == "html":
        return render_html(result, lang=lang, funnel=funnel)
    if name == "xlsx":
        return render_xlsx(result, lang=lang, funnel=funnel)
    if name == "md":
        return render_markdown(result, lang=lang, funnel=funnel)
    raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")


__all__ = [
    "FORMATS",
    "Finding",
    "Format",
    "print_text",
    "render",
    "render_html",
    "render_json",
    "render_markdown",
    "render_text",
    "render_xlsx",
    "select_findings",
]
