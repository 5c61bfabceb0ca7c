"""Turning an audit result into what people read: text, JSON, HTML, XLSX, Markdown (ru/en).

``render(result, fmt)`` is the one entry point the CLI and the Python API use. An
:class:`~voronka.audit.AuditResult` shows itself in Jupyter through :func:`render_html` (imported by
``AuditResult._repr_html_`` when a notebook asks).

Each format's module is imported when that format is asked for (``render`` below, or the first use
of a name of :data:`__all__` through :func:`__getattr__`): a JSON audit loads neither plotly, nor
jinja2, nor xlsxwriter (``tests/test_light_start.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from voronka.lazy import lazy_attributes

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.funnel import Funnel
    from voronka.report.finding import Finding
    from voronka.report.findings import select_findings
    from voronka.report.html import render_html
    from voronka.report.json import render_json
    from voronka.report.markdown import render_markdown
    from voronka.report.text import print_text, render_text
    from voronka.report.xlsx import render_xlsx

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
    if name == "json":
        from voronka.report.json import render_json

        return render_json(result)
    if name == "text":
        from voronka.report.text import render_text

        return render_text(result, lang=lang, funnel=funnel)
    if name == "html":
        from voronka.report.html import render_html

        return render_html(result, lang=lang, funnel=funnel)
    if name == "xlsx":
        from voronka.report.xlsx import render_xlsx

        return render_xlsx(result, lang=lang, funnel=funnel)
    if name == "md":
        from voronka.report.markdown import render_markdown

        return render_markdown(result, lang=lang, funnel=funnel)
    raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")


_LAZY = {
    "Finding": "finding", "select_findings": "findings", "render_html": "html",
    "render_json": "json", "render_markdown": "markdown", "print_text": "text",
    "render_text": "text", "render_xlsx": "xlsx",
}
"""The public names imported on first use, and the submodule each lives in."""


__getattr__ = lazy_attributes(__name__, {name: f".{module}" for name, module in _LAZY.items()})


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
