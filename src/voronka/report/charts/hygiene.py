"""Charts of stage hygiene: time in stage, pile-ups and stuck deals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from voronka.i18n import t
from voronka.report.charts.base import PALETTE, Chart, chart_layout, plain, to_figure
from voronka.report.names import Labels

if TYPE_CHECKING:
    from voronka.audit import AuditResult


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
    layout = chart_layout(
        lang,
        380,
        barmode="group",
        xaxis={"automargin": True},
        yaxis={"title": {"text": t("report.chart.days", lang)}, "rangemode": "tozero"},
    )
    return Chart("chart-time", "time", to_figure(data, layout))


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
    layout = chart_layout(
        lang,
        340,
        barmode="overlay",
        xaxis={"automargin": True},
        yaxis={"title": {"text": t("report.chart.deals", lang)}},
    )
    return Chart("chart-stuck", "stuck", to_figure(data, layout))
