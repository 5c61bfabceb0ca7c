"""The HTML report's charts as plotly figures (plain data, drawn by the inlined plotly.js)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voronka.report.charts.anomaly_series import anomaly_series_chart
from voronka.report.charts.base import Chart
from voronka.report.charts.funnel import flow_chart, funnel_conversion_chart, funnel_reach_chart
from voronka.report.charts.growth import anomalies_chart, sources_chart
from voronka.report.charts.hygiene import stuck_chart, time_chart
from voronka.report.charts.plan import forecast_chart, key_stage_chart, reverse_chart
from voronka.report.charts.series import series_chart
from voronka.report.names import Labels

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.funnel import Funnel

__all__ = ["Chart", "build_charts"]


def build_charts(result: AuditResult, labels: Labels, funnel: Funnel | None) -> list[Chart]:
    """Every chart the result has data for, in report order."""
    made = [
        funnel_reach_chart(result, labels),
        funnel_conversion_chart(result, labels, funnel),
        flow_chart(result, labels),
        series_chart(result, labels),
        anomalies_chart(result, labels),
        anomaly_series_chart(result, labels),
        sources_chart(result, labels),
        stuck_chart(result, labels),
        time_chart(result, labels),
        key_stage_chart(result, labels),
        forecast_chart(result, labels),
        reverse_chart(result, labels),
    ]
    return [c for c in made if c is not None]
