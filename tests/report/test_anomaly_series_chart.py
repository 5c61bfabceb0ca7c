"""Every listed anomaly has its chart: one panel (observed, expected) per significant anomaly."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from sample_result import make_result

from voronka.report.charts import build_charts
from voronka.report.names import build_labels


def test_one_panel_per_significant_anomaly() -> None:
    result = make_result()
    periods = tuple(date(2024, 1, 1) + timedelta(weeks=i) for i in range(10))
    anomalies = tuple(
        dataclasses.replace(
            a,
            periods=periods,
            observed=tuple(0.4 + 0.01 * i for i in range(10)),
            expected=tuple(0.4 for _ in range(10)),
        )
        for a in result.anomalies
    )
    result = dataclasses.replace(result, anomalies=anomalies)
    charts = {c.id: c for c in build_charts(result, build_labels(result, "en", None), None)}
    chart = charts["chart-anomaly-series"]
    significant = [a for a in anomalies if a.significant]
    assert len(chart.figure["data"]) == 2 * len(significant)
    assert len(chart.figure["layout"]["shapes"]) == len(significant)  # the shift's start
    assert chart.figure["data"][0]["y"][0] == 0.4
    without = dataclasses.replace(result, anomalies=())
    ids = [c.id for c in build_charts(without, build_labels(without, "en", None), None)]
    assert "chart-anomaly-series" not in ids
