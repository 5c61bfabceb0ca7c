"""Charts of what changed and what pays: conversion shifts and traffic sources."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from voronka.i18n import t
from voronka.report.charts.base import PALETTE, Chart, chart_layout, plain, to_figure
from voronka.report.format import format_money
from voronka.report.names import Labels

if TYPE_CHECKING:
    from voronka.audit import AuditResult


def anomalies_chart(result: AuditResult, labels: Labels) -> Chart | None:
    """Each conversion shift as a line from its level before to its level after."""
    shifts = [a for a in result.anomalies if a.kind == "conversion" and a.next_stage is not None]
    if not shifts:
        return None
    lang = labels.lang
    rows = [
        plain(f"{labels.step(a.stage, a.next_stage)} · {labels.segment(a.segment)}") for a in shifts
    ]
    data: list[Any] = []
    for a, row in zip(shifts, rows, strict=True):
        colour = PALETTE["good"] if a.direction == "up" else PALETTE["bad"]
        data.append(
            go.Scatter(
                x=[a.before, a.after],
                y=[row, row],
                mode="lines+markers",
                line={
                    "color": colour,
                    "width": 3 if a.significant else 1,
                    "dash": "solid" if a.significant else "dot",
                },
                marker={
                    "size": [8, 14],
                    "symbol": ["circle", "arrow-right" if a.after > a.before else "arrow-left"],
                    "color": colour,
                },
                showlegend=False,
                hovertemplate="%{x:.1%}<extra>" + plain(str(a.since)) + "</extra>",
            )
        )
    layout = chart_layout(
        lang,
        80 + 46 * len(shifts),
        xaxis={"tickformat": ".0%", "title": {"text": t("report.chart.shift", lang)}},
        yaxis={"automargin": True, "autorange": "reversed"},
    )
    return Chart("chart-anomalies", "anomalies", to_figure(data, layout))


def sources_chart(result: AuditResult, labels: Labels) -> Chart | None:
    """Spend and revenue per source (bars) with ROMI (markers on a second axis)."""
    sources = result.sources
    if not sources:
        return None
    lang = labels.lang
    names = [plain(s.source) for s in sources]
    data: list[Any] = [
        go.Bar(
            x=names,
            y=[s.spend for s in sources],
            name=t("report.chart.spend", lang),
            marker={"color": PALETTE["muted"]},
            hovertext=[format_money(s.spend, lang) for s in sources],
            hoverinfo="text+name",
        ),
        go.Bar(
            x=names,
            y=[s.revenue for s in sources],
            name=t("report.chart.revenue", lang),
            marker={"color": PALETTE["main"]},
            hovertext=[format_money(s.revenue, lang) for s in sources],
            hoverinfo="text+name",
        ),
    ]
    if any(s.romi is not None for s in sources):
        data.append(
            go.Scatter(
                x=names,
                y=[s.romi for s in sources],
                name=t("report.chart.romi", lang),
                mode="markers",
                marker={"size": 12, "color": PALETTE["accent"], "symbol": "diamond"},
                yaxis="y2",
                hovertemplate="%{y:.0%}<extra>ROMI</extra>",
            )
        )
    layout = chart_layout(
        lang,
        380,
        barmode="group",
        xaxis={"automargin": True},
        yaxis={"rangemode": "tozero"},
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "tickformat": ".0%",
            "showgrid": False,
            "title": {"text": "ROMI"},
            "rangemode": "tozero",
        },
    )
    return Chart("chart-sources", "sources", to_figure(data, layout))
