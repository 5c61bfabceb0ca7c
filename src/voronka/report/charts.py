"""The HTML report's charts as plotly figures (plain data, drawn by the inlined plotly.js).

Every figure plots numbers from the audit result as they are. Text from the input (stage names,
sources, managers) is HTML-escaped before it reaches plotly, because plotly reads a subset of HTML
in labels; plotly turns the entities back into the literal characters when it draws.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
import plotly.io as pio

from voronka.i18n import t
from voronka.report.format import format_int, format_money, format_percent, plotly_separators
from voronka.report.names import Labels

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.funnel import Funnel

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


def _layout(lang: str, height: int, **extra: Any) -> dict[str, Any]:
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
                value["tickformat"] = ",~f"  # full numbers with the locale's grouping, no "M"
    return layout


def _figure(data: list[Any], layout: dict[str, Any]) -> dict[str, Any]:
    fig = go.Figure(data=data, layout=layout)
    parsed: dict[str, Any] = json.loads(pio.to_json(fig, validate=True))
    parsed["layout"].pop("template", None)  # the default template adds 10 kB per chart
    return parsed


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
    layout = _layout(
        lang,
        60 + 42 * len(stages),
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"title": {"text": t("report.chart.reached", lang)}, "rangemode": "tozero"},
    )
    return Chart("chart-funnel-reach", "funnel", _figure([bar], layout))


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
    layout = _layout(
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
    return Chart("chart-funnel-conversion", "funnel", _figure(data, layout))


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
    # Stages run down the page, one row each, so that long names never overlap; "lost" and
    # "open" sit on the right. Positions are node centres in 0..1 (plotly's "fixed" layout).
    n = len(stages)
    sankey = go.Sankey(
        arrangement="snap",
        orientation="h",
        node={
            "label": nodes,
            "color": colors,
            "pad": 6,
            "thickness": 14,
            "x": [0.001 + 0.55 * i / max(n - 1, 1) for i in range(n)] + [0.999, 0.999],
            "y": [0.1 + 0.85 * i / max(n - 1, 1) for i in range(n)] + [0.3, 0.9],
        },
        link={"source": source, "target": target, "value": value, "color": link_colors},
        valueformat=",d",
    )
    return Chart("chart-flow", "flow", _figure([sankey], _layout(lang, 140 + 44 * n)))


def anomalies_chart(result: AuditResult, labels: Labels) -> Chart | None:
    """Each conversion shift as a line from its level before to its level after."""
    shifts = [a for a in result.anomalies if a.next_stage is not None]
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
    layout = _layout(
        lang,
        80 + 46 * len(shifts),
        xaxis={"tickformat": ".0%", "title": {"text": t("report.chart.shift", lang)}},
        yaxis={"automargin": True, "autorange": "reversed"},
    )
    return Chart("chart-anomalies", "anomalies", _figure(data, layout))


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
    layout = _layout(
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
    return Chart("chart-sources", "sources", _figure(data, layout))


def time_chart(result: AuditResult, labels: Labels) -> Chart | None:
    """Median and 90th-percentile days in each stage, and the queue of open deals in days."""
    stages = [s for s in result.funnel.stages if s.median_days is not None]
    residence = {p.stage: p.residence_days for p in result.pileups}
    if not stages and not any(v is not None for v in residence.values()):
        return None
    lang = labels.lang
    ids = [
        s.id
        for s in result.funnel.stages
        if s.median_days is not None or residence.get(s.id) is not None
    ]
    by_id = {s.id: s for s in result.funnel.stages}
    names = [plain(labels.stage(i)) for i in ids]
    data: list[Any] = [
        go.Bar(
            x=names,
            y=[by_id[i].median_days for i in ids],
            name=t("report.chart.median", lang),
            marker={"color": PALETTE["main"]},
        ),
        go.Bar(
            x=names,
            y=[by_id[i].p90_days for i in ids],
            name=t("report.chart.p90", lang),
            marker={"color": PALETTE["light"]},
        ),
    ]
    if residence:
        data.append(
            go.Scatter(
                x=names,
                y=[residence.get(i) for i in ids],
                mode="markers",
                name=t("report.chart.residence", lang),
                marker={"size": 13, "color": PALETTE["bad"], "symbol": "diamond"},
            )
        )
    layout = _layout(
        lang,
        380,
        barmode="group",
        xaxis={"automargin": True},
        yaxis={"title": {"text": t("report.chart.days", lang)}, "rangemode": "tozero"},
    )
    return Chart("chart-time", "time", _figure(data, layout))


def stuck_chart(result: AuditResult, labels: Labels) -> Chart | None:
    """Open deals per stage with the stuck ones drawn over them."""
    stages = result.stuck.stages
    if not stages or not any(s.open for s in stages):
        return None
    lang = labels.lang
    names = [plain(labels.stage(s.stage)) for s in stages]
    data = [
        go.Bar(
            x=names,
            y=[s.open for s in stages],
            name=t("report.flow.open", lang),
            marker={"color": PALETTE["light"]},
        ),
        go.Bar(
            x=names,
            y=[s.stuck for s in stages],
            name=t("report.chart.stuck", lang),
            marker={"color": PALETTE["bad"]},
            width=0.4,
        ),
    ]
    layout = _layout(
        lang,
        340,
        barmode="overlay",
        xaxis={"automargin": True},
        yaxis={"title": {"text": t("report.chart.deals", lang)}},
    )
    return Chart("chart-stuck", "stuck", _figure(data, layout))


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
    layout = _layout(
        lang,
        60 + 40 * len(ks.ranking),
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"title": {"text": t("report.chart.score", lang)}},
    )
    return Chart("chart-key-stage", "key_stage", _figure([bar], layout))


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
    layout = _layout(
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
    return Chart("chart-forecast", "forecast", _figure(data, layout))


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
    layout = _layout(
        lang,
        60 + 40 * len(rows),
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"title": {"text": t("report.chart.needed", lang)}},
    )
    return Chart("chart-reverse", "reverse", _figure([bar], layout))


def build_charts(result: AuditResult, labels: Labels, funnel: Funnel | None) -> list[Chart]:
    """Every chart the result has data for, in report order."""
    made = [
        funnel_reach_chart(result, labels),
        funnel_conversion_chart(result, labels, funnel),
        flow_chart(result, labels),
        anomalies_chart(result, labels),
        sources_chart(result, labels),
        stuck_chart(result, labels),
        time_chart(result, labels),
        key_stage_chart(result, labels),
        forecast_chart(result, labels),
        reverse_chart(result, labels),
    ]
    return [c for c in made if c is not None]
