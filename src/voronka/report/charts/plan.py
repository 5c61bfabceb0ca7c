"""Charts of the plan: the key stage, the forecast and the reverse funnel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from voronka.i18n import t
from voronka.report.charts.base import PALETTE, Chart, chart_layout, plain, to_figure
from voronka.report.format import format_int
from voronka.report.names import Labels

if TYPE_CHECKING:
    from voronka.audit import AuditResult


def key_stage_chart(result: AuditResult, labels: Labels) -> Chart | None:
    """The key-stage ranking as horizontal bars, the chosen stage highlighted."""
    ks = result.key_stage
    if ks is None or not ks.ranking:
        return None
    lang = labels.lang
    bar = go.Bar(
        x=[r.score for r in ks.ranking],
        y=[plain(labels.stage(r.stage)) for r in ks.ranking],
        orientation="h",
        marker={
            "color": [
                PALETTE["accent"] if r.stage == ks.stage else PALETTE["muted"] for r in ks.ranking
            ]
        },
        name=t("report.chart.score", lang),
        hovertemplate="%{y}: %{x:.3f}<extra></extra>",
    )
    layout = chart_layout(
        lang,
        60 + 40 * len(ks.ranking),
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"title": {"text": t("report.chart.score", lang)}},
    )
    return Chart("chart-key-stage", "key_stage", to_figure([bar], layout))


def forecast_chart(result: AuditResult, labels: Labels) -> Chart | None:
    """The likely range of deals won (10th–90th percentile), the expected value and the plan line."""
    fc = result.forecast
    if fc is None:
        return None
    lang = labels.lang
    row = [0, 0]
    data: list[Any] = [
        go.Scatter(
            x=[fc.p10, fc.p90],
            y=row,
            mode="lines",
            name=t("report.chart.range", lang),
            line={"color": PALETTE["light"], "width": 26},
        ),
        go.Scatter(
            x=[fc.expected],
            y=[0],
            mode="markers",
            name=t("report.chart.expected", lang),
            marker={"size": 18, "color": PALETTE["main"], "symbol": "diamond"},
        ),
        go.Scatter(
            x=[fc.won_so_far],
            y=[0],
            mode="markers",
            name=t("report.chart.won_so_far", lang),
            marker={"size": 12, "color": PALETTE["good"]},
        ),
    ]
    shapes = []
    annotations = []
    if fc.plan is not None:
        shapes.append(
            {
                "type": "line",
                "x0": fc.plan,
                "x1": fc.plan,
                "y0": -1,
                "y1": 1,
                "line": {"color": PALETTE["bad"], "width": 3, "dash": "dash"},
            }
        )
        annotations.append(
            {
                "x": fc.plan,
                "y": 1,
                "text": t("report.chart.plan", lang),
                "showarrow": False,
                "yanchor": "bottom",
                "font": {"color": PALETTE["bad"]},
            }
        )
    layout = chart_layout(
        lang,
        260,
        legend={"orientation": "h", "y": 1.25},
        shapes=shapes,
        annotations=annotations,
        yaxis={"visible": False, "range": [-1, 1.4]},
        xaxis={
            "title": {"text": t("report.chart.deals_won", lang)},
            "rangemode": "tozero",
            "zeroline": False,
        },
    )
    return Chart("chart-forecast", "forecast", to_figure(data, layout))


def reverse_chart(result: AuditResult, labels: Labels) -> Chart | None:
    """Deals each stage needs for the plan, as a funnel of horizontal bars."""
    rows = result.reverse_funnel
    if not rows:
        return None
    lang = labels.lang
    bar = go.Bar(
        x=[r.needed for r in rows],
        y=[plain(labels.stage(r.stage)) for r in rows],
        orientation="h",
        text=[format_int(r.needed, lang) for r in rows],
        textposition="auto",
        marker={"color": PALETTE["accent"]},
        name=t("report.chart.needed", lang),
        hovertemplate="%{y}: %{x:,.0f}<extra></extra>",
    )
    layout = chart_layout(
        lang,
        60 + 40 * len(rows),
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"title": {"text": t("report.chart.needed", lang)}},
    )
    return Chart("chart-reverse", "reverse", to_figure([bar], layout))
