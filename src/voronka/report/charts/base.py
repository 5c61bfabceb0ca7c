"""Shared pieces of the HTML report's charts: the chart record, colours, layout, escaping.

Every figure plots numbers from the audit result as they are. Text from the input (stage names,
sources, managers) is HTML-escaped before it reaches plotly, because plotly reads a subset of HTML
in labels; plotly turns the entities back into the literal characters when it draws.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from voronka.report.format import plotly_separators

PALETTE = {
    "main": "#2f6db3",
    "light": "#9fbfe3",
    "bad": "#c8412b",
    "good": "#2e8b57",
    "muted": "#9aa3ad",
    "accent": "#e0a526",
}
"""Colours shared by the charts and the stylesheet."""


@dataclass(frozen=True)
class Chart:
    """One chart of the HTML report.

    Attributes:
        id: the element id of its container (unique in the report).
        section: the report section it belongs to.
        figure: the plotly figure as plain JSON-able data (``data`` and ``layout``).
    """

    id: str
    section: str
    figure: dict[str, Any]


def plain(text: str | None) -> str:
    """``text`` made safe for a plotly label: shown literally, never read as markup."""
    return html.escape(text or "", quote=True)


def chart_layout(lang: str, height: int, **extra: Any) -> dict[str, Any]:
    """A plotly layout in the report's style for ``lang``, ``height`` pixels high."""
    layout: dict[str, Any] = {
        "separators": plotly_separators(lang),
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 40},
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "legend": {"orientation": "h", "y": -0.15},
        "hoverlabel": {"namelength": -1},
    }
    layout.update(extra)
    # Long stage names and grouped numbers need room: let every axis size its own margin.
    for axis in ("xaxis", "yaxis"):
        layout.setdefault(axis, {})
    for key, value in layout.items():
        if key.startswith(("xaxis", "yaxis")):
            value.setdefault("automargin", True)
            if "tickformat" not in value:
                # full numbers with the locale's grouping, no "M" (a date axis shows its dates)
                value["tickformat"] = date_format(lang) if value.get("type") == "date" else ",~f"
    return layout


def date_format(lang: str) -> str:
    """The tick format of a date axis: ``03.2025`` / ``Mar 2025``."""
    return "%m.%Y" if lang == "ru" else "%b %Y"


def to_figure(data: list[Any], layout: dict[str, Any]) -> dict[str, Any]:
    """The validated plotly figure of ``data`` and ``layout`` as plain JSON-able data."""
    fig = go.Figure(data=data, layout=layout)
    parsed: dict[str, Any] = json.loads(pio.to_json(fig, validate=True))
    parsed["layout"].pop("template", None)  # the default template adds 10 kB per chart
    return parsed
