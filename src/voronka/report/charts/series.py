"""Conversion over time per stage: small multiples with p-chart limits and the shifts marked.

One panel per step of the funnel (two panels a row). Each panel draws the audit's
:class:`~voronka.audit.anomalies.ConversionSeries` as it is: the rate per period (hover: its
Wilson interval and n), the band between the p-chart's 3σ limits, the centre line, and the
points outside the limits in red. A funnel-wide shift of the step found by the anomaly scan is
drawn as its levels before and after ``since`` with a vertical line at ``since``; a shift in a
segment (a source, a manager) as a triangle at ``since`` on the panel's top edge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from voronka.i18n import t
from voronka.report.charts.base import (
    PALETTE,
    Chart,
    chart_layout,
    date_format,
    plain,
    to_figure,
)
from voronka.report.format import format_date, format_int, format_interval, format_percent
from voronka.report.names import Labels
from voronka.report.words import anomaly_sentence

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.audit.anomalies import Anomaly, ConversionSeries

COLUMNS = 2
"""Panels per row."""

PANEL_HEIGHT = 210
"""Height in pixels of one row of panels."""


def _shifts(result: AuditResult, series: ConversionSeries) -> list[Anomaly]:
    return [
        a
        for a in result.anomalies
        if a.significant
        and a.kind == "conversion"
        and a.stage == series.stage
        and a.next_stage == series.next_stage
    ]


def _panel(series: ConversionSeries, shifts: list[Anomaly], labels: Labels) -> list[Any]:
    """The traces of one panel, each in a legend group."""
    lang = labels.lang
    x = [d.isoformat() for d in series.periods]
    hover = [
        f"{format_date(d, lang)}: {format_percent(r, lang)} "
        f"({format_interval((lo, hi), lang)}), n = {format_int(n, lang)}"
        for d, r, lo, hi, n in zip(
            series.periods, series.rate, series.ci_low, series.ci_high, series.trials, strict=True
        )
    ]
    limits = t("report.chart.limits", lang)
    traces: list[Any] = [
        go.Scatter(
            x=x,
            y=list(series.limit_high),
            mode="lines",
            line={"width": 0},
            hoverinfo="skip",
            legendgroup="limits",
        ),
        go.Scatter(
            x=x,
            y=list(series.limit_low),
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(47,109,179,0.12)",
            name=limits,
            hoverinfo="skip",
            legendgroup="limits",
        ),
        go.Scatter(
            x=[x[0], x[-1]],
            y=[series.centre, series.centre],
            mode="lines",
            line={"color": PALETTE["muted"], "dash": "dot", "width": 1},
            name=t("report.chart.centre", lang),
            hoverinfo="skip",
            legendgroup="centre",
        ),
        go.Scatter(
            x=x,
            y=list(series.rate),
            mode="lines+markers",
            line={"color": PALETTE["main"], "width": 1.5},
            marker={
                "size": [7 if out else 4 for out in series.out_of_limits],
                "color": [
                    PALETTE["bad"] if out else PALETTE["main"] for out in series.out_of_limits
                ],
            },
            name=t("report.chart.series", lang),
            text=hover,
            hovertemplate="%{text}<extra></extra>",
            legendgroup="rate",
        ),
    ]
    for a in shifts:
        since = a.since.isoformat()
        colour = PALETTE["good"] if a.direction == "up" else PALETTE["bad"]
        words = plain(anomaly_sentence(a, labels))
        if a.segment is None:
            # The level since the shift, and (dashed) the level the model expected over the same
            # periods without it: ``before`` is that counterfactual, not the mean of the periods
            # before (with a trend or a season the two differ).
            for level, dash in ((a.before, "dash"), (a.after, "solid")):
                traces.append(
                    go.Scatter(
                        x=[since, x[-1]],
                        y=[level, level],
                        mode="lines",
                        line={"color": colour, "width": 2.5, "dash": dash},
                        name=t("report.chart.shift", lang),
                        text=[words] * 2,
                        hovertemplate="%{text}<extra></extra>",
                        legendgroup="shift",
                        showlegend=dash == "solid",
                    )
                )
        else:
            top = max((v for v in series.limit_high if v == v), default=1.0)
            traces.append(
                go.Scatter(
                    x=[since],
                    y=[min(top, 1.0)],
                    mode="markers",
                    marker={
                        "symbol": "triangle-up" if a.direction == "up" else "triangle-down",
                        "size": 11,
                        "color": colour,
                    },
                    name=t("report.chart.segment_shift", lang),
                    text=[words],
                    hovertemplate="%{text}<extra></extra>",
                    legendgroup="segment_shift",
                )
            )
    return traces


def series_chart(result: AuditResult, labels: Labels) -> Chart | None:
    """Conversion per period of every step, one small panel each, shifts marked."""
    series = [s for s in result.series if s.periods]
    if not series:
        return None
    lang = labels.lang
    rows = -(-len(series) // COLUMNS)
    titles = [plain(labels.step(s.stage, s.next_stage)) for s in series]
    grid = make_subplots(
        rows=rows,
        cols=COLUMNS,
        subplot_titles=titles,
        shared_xaxes="all",
        vertical_spacing=min(0.3 / rows + 0.02, 0.12),
        horizontal_spacing=0.08,
    )
    legend_groups: set[str] = set()
    for i, s in enumerate(series):
        for trace in _panel(s, _shifts(result, s), labels):
            # Each legend entry once, from whichever panel first has it; unnamed helper traces
            # (the band's upper edge) never.
            trace.showlegend = bool(trace.name) and trace.legendgroup not in legend_groups
            if trace.showlegend:
                legend_groups.add(trace.legendgroup)
            grid.add_trace(trace, row=i // COLUMNS + 1, col=i % COLUMNS + 1)
    base = grid.layout.to_plotly_json()
    axes: dict[str, Any] = {}
    for key in base:
        if key.startswith("xaxis"):
            axes[key] = {**base[key], "type": "date", "tickformat": date_format(lang)}
        elif key.startswith("yaxis"):
            axes[key] = {**base[key], "tickformat": ".0%", "rangemode": "tozero"}
    for note in base.get("annotations", ()):
        note["font"] = {"size": 12}
    layout = chart_layout(
        lang,
        80 + PANEL_HEIGHT * rows,
        annotations=base.get("annotations", []),
        showlegend=True,
        legend={"orientation": "h", "y": 1.0, "yanchor": "top", "x": 0, "yref": "container"},
        margin={"l": 10, "r": 10, "t": 100, "b": 30},
        **axes,
    )
    return Chart("chart-series", "anomalies", to_figure(list(grid.data), layout))
