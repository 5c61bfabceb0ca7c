"""Charts of the funnel section: reach, conversion with intervals, the flow of deals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from voronka.i18n import t
from voronka.report.charts.base import PALETTE, Chart, chart_layout, plain, to_figure
from voronka.report.format import format_int, format_percent
from voronka.report.names import Labels

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.funnel import Funnel


def funnel_reach_chart(result: AuditResult, labels: Labels) -> Chart | None:
    """Horizontal bars: deals that reached each stage, first stage on top."""
    stages = result.funnel.stages
    if not stages:
        return None
    lang = labels.lang
    bar = go.Bar(
        x=[s.reached for s in stages],
        y=[plain(labels.stage(s.id)) for s in stages],
        orientation="h",
        text=[format_int(s.reached, lang) for s in stages],
        textposition="auto",
        marker={"color": PALETTE["main"]},
        name=t("report.chart.reached", lang),
        hovertemplate="%{y}: %{x}<extra></extra>",
    )
    layout = chart_layout(
        lang,
        60 + 42 * len(stages),
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"title": {"text": t("report.chart.reached", lang)}, "rangemode": "tozero"},
    )
    return Chart("chart-funnel-reach", "funnel", to_figure([bar], layout))


def funnel_conversion_chart(
    result: AuditResult, labels: Labels, funnel: Funnel | None
) -> Chart | None:
    """Bars of each stage's conversion to the next, with its 95% interval; benchmarks as marks."""
    steps = [s for s in result.funnel.stages if s.conversion is not None]
    if not steps:
        return None
    lang = labels.lang
    names = [plain(labels.stage(s.id)) for s in steps]
    # Error bars are drawn as distances from the bar's top; they show the audit's interval ends.
    plus = [
        (s.conversion_ci[1] - s.conversion) if s.conversion_ci and s.conversion is not None else 0
        for s in steps
    ]
    minus = [
        (s.conversion - s.conversion_ci[0]) if s.conversion_ci and s.conversion is not None else 0
        for s in steps
    ]
    data: list[Any] = [
        go.Bar(
            x=names,
            y=[s.conversion for s in steps],
            text=[format_percent(s.conversion, lang) for s in steps],
            textposition="inside",
            insidetextanchor="middle",
            marker={"color": PALETTE["main"]},
            error_y={"type": "data", "array": plus, "arrayminus": minus, "color": "#333"},
            name=t("report.chart.conversion", lang),
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        )
    ]
    if funnel is not None:
        bench = []
        for s in steps:
            try:
                bench.append(funnel.stage(s.id).benchmark)
            except KeyError:
                bench.append(None)
        if any(b is not None for b in bench):
            data.append(
                go.Scatter(
                    x=names,
                    y=bench,
                    mode="markers",
                    marker={
                        "symbol": "line-ew",
                        "size": 28,
                        "line": {"width": 3, "color": PALETTE["accent"]},
                    },
                    name=t("report.chart.benchmark", lang),
                )
            )
    layout = chart_layout(
        lang,
        360,
        yaxis={
            "tickformat": ".0%",
            "range": [0, 1.05],
            "title": {"text": t("report.chart.conversion", lang)},
        },
        xaxis={"automargin": True},
        showlegend=len(data) > 1,
    )
    return Chart("chart-funnel-conversion", "funnel", to_figure(data, layout))


_FLOW_PAD = 6
_LABEL_GAP = 0.025
"""Room kept between a stage's label and the top of the next stage's bar, as a share of the
chart's height (a line of the label's text in a chart of 600 px)."""


def flow_rows(reached: list[int], lost: int, still_open: int) -> list[float]:
    """Vertical centres (0 top … 1 bottom) of the stages' bars in the flow chart: a staircase in
    which each bar starts just below the previous stage's label, so that no bar covers a label.

    A bar's height is its share of the tallest column (the first stage, or "lost" and "open"
    together, as plotly's sankey scales them). When the staircase would run past the bottom (a
    funnel that loses few deals), the gaps shrink, then the rows are squeezed evenly.
    """
    if not reached:
        return []
    scale = float(max(reached[0], lost + still_open, 1))
    heights = [max(r, 0) / scale for r in reached]
    rows = [0.5]  # the first stage fills its column; its label sits at its middle
    if len(heights) == 1:
        return rows

    def staircase(gap: float) -> list[float]:
        centres = [heights[1] / 2]
        for height in heights[2:]:
            centres.append(centres[-1] + gap + height / 2)
        return centres

    stairs = staircase(_LABEL_GAP)
    bottom = stairs[-1] + heights[-1] / 2
    if bottom > 1 and len(heights) > 2:
        spare = 1 - (staircase(0.0)[-1] + heights[-1] / 2)
        stairs = staircase(max(spare, 0.0) / (len(heights) - 2))
        bottom = stairs[-1] + heights[-1] / 2
    if bottom > 1:  # bars taller than the chart in a staircase: spread them evenly instead
        top, end = heights[1] / 2, 1 - heights[-1] / 2
        stairs = [top + (end - top) * i / max(len(stairs) - 1, 1) for i in range(len(stairs))]
    # plotly ignores a position of exactly 0 (it treats it as unset)
    return rows + [min(max(y, 0.001), 0.999) for y in stairs]


def flow_chart(result: AuditResult, labels: Labels) -> Chart | None:
    """Sankey: deals flowing from each stage to the next, to "lost", and still open."""
    stages = result.funnel.stages
    if len(stages) < 2:
        return None
    lang = labels.lang
    lost_node = len(stages)
    open_node = len(stages) + 1
    nodes = [plain(labels.stage(s.id)) for s in stages]
    nodes += [t("report.flow.lost", lang), t("report.flow.open", lang)]
    colors = [PALETTE["main"]] * len(stages) + [PALETTE["bad"], PALETTE["muted"]]
    source, target, value, link_colors = [], [], [], []
    for i, s in enumerate(stages):
        flows = []
        if i + 1 < len(stages):
            flows.append((i + 1, stages[i + 1].reached, "rgba(47,109,179,0.35)"))
        flows.append((lost_node, s.lost_here, "rgba(200,65,43,0.35)"))
        flows.append((open_node, s.open, "rgba(154,163,173,0.35)"))
        for node, count, colour in flows:
            if count > 0:
                source.append(i)
                target.append(node)
                value.append(count)
                link_colors.append(colour)
    if not value:
        return None
    n = len(stages)
    sankey = go.Sankey(
        arrangement="snap",
        orientation="h",
        node={
            "label": nodes,
            "color": colors,
            "pad": _FLOW_PAD,
            "thickness": 14,
            "x": [0.001 + 0.75 * i / max(n - 1, 1) for i in range(n)] + [0.999, 0.999],
            "y": flow_rows(
                [s.reached for s in stages],
                sum(s.lost_here for s in stages),
                sum(s.open for s in stages),
            )
            + [0.3, 0.9],
        },
        link={"source": source, "target": target, "value": value, "color": link_colors},
        valueformat=",d",
    )
    return Chart("chart-flow", "flow", to_figure([sankey], chart_layout(lang, 140 + 44 * n)))
