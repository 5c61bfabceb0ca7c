"""Every listed anomaly with its own chart: the observed level per period against the null
model's expected level (trend, season), the shift's start marked.

The audit carries each anomaly's series (``periods``, ``observed``, ``expected``); this only draws
them, one small panel per anomaly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from voronka.i18n import t
from voronka.report.charts.base import PALETTE, Chart, chart_layout, plain, to_figure
from voronka.report.names import Labels

if TYPE_CHECKING:
    from voronka.audit import AuditResult

PANEL_HEIGHT = 170
"""Height in pixels of one anomaly's panel."""


def anomaly_series_chart(result: AuditResult, labels: Labels) -> Chart | None:
    """One panel per significant anomaly that carries its series; None when there is none."""
    shown = [a for a in result.anomalies if a.significant and a.periods and a.observed]
    if not shown:
        return None
    lang = labels.lang
    n = len(shown)
    data: list[Any] = []
    layout_axes: dict[str, Any] = {}
    annotations = []
    shapes = []
    gap = 0.25 / n
    for i, a in enumerate(shown):
        suffix = "" if i == 0 else str(i + 1)
        top = 1 - i / n
        bottom = top - 1 / n + gap
        x = [d.isoformat() for d in a.periods]
        colour = PALETTE["good"] if a.direction == "up" else PALETTE["bad"]
        data.append(
            go.Scatter(
                x=x, y=list(a.observed), mode="lines+markers", xaxis=f"x{suffix}",
                yaxis=f"y{suffix}", line={"color": colour, "width": 1.5}, marker={"size": 4},
                name=t("report.chart.anomaly.observed", lang), showlegend=i == 0,
                legendgroup="observed",
            )
        )
        data.append(
            go.Scatter(
                x=x, y=list(a.expected), mode="lines", xaxis=f"x{suffix}", yaxis=f"y{suffix}",
                line={"color": PALETTE["muted"], "dash": "dot"},
                name=t("report.chart.anomaly.expected", lang), showlegend=i == 0,
                legendgroup="expected",
            )
        )
        volume = a.kind == "volume"
        layout_axes[f"xaxis{suffix}"] = {"anchor": f"y{suffix}", "domain": [0, 1], "type": "date"}
        layout_axes[f"yaxis{suffix}"] = {
            "anchor": f"x{suffix}",
            "domain": [max(bottom, 0.0), top],
            "tickformat": "" if volume else ".0%",
        }
        step = labels.step(a.stage, a.next_stage) if a.next_stage else labels.stage(a.stage)
        title = f"{step} · {labels.segment(a.segment)}"
        annotations.append(
            {
                "text": plain(title), "xref": "paper", "yref": "paper", "x": 0, "y": top,
                "xanchor": "left", "yanchor": "bottom", "showarrow": False,
            }
        )
        shapes.append(
            {
                "type": "line", "xref": f"x{suffix}", "yref": f"y{suffix} domain",
                "x0": a.since.isoformat(), "x1": a.since.isoformat(), "y0": 0, "y1": 1,
                "line": {"color": colour, "dash": "dash", "width": 1},
            }
        )
    layout = chart_layout(
        lang, 60 + PANEL_HEIGHT * n, annotations=annotations, shapes=shapes, **layout_axes
    )
    return Chart("chart-anomaly-series", "anomalies", to_figure(data, layout))
