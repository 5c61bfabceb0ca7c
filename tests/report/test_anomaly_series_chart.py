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


def test_every_date_axis_shows_dates_in_the_report_language() -> None:
    """An x axis of dates got the numbers' default tick format (",~f"), which plotly printed
    as the literal text ",~f" under every anomaly panel; each chart's date axes now carry a date
    format, in each language."""
    result = make_result()
    periods = tuple(date(2024, 1, 1) + timedelta(weeks=i) for i in range(10))
    anomalies = tuple(dataclasses.replace(a, periods=periods, observed=(0.4,) * 10,
                                          expected=(0.4,) * 10) for a in result.anomalies)
    result = dataclasses.replace(result, anomalies=anomalies)
    for lang, form in (("en", "%b %Y"), ("ru", "%m.%Y")):
        charts = build_charts(result, build_labels(result, lang, None), None)
        checked = 0
        for chart in charts:
            layout, data = chart.figure["layout"], chart.figure["data"]
            for key, axis in layout.items():
                if not key.startswith("xaxis"):
                    continue
                ref = "x" + key[len("xaxis"):]
                xs = [x for d in data if d.get("xaxis", "x") == ref for x in (d.get("x") or ())]
                if xs and all(isinstance(x, str) and x[:4].isdigit() and x[4:5] == "-"
                              for x in xs if x is not None):
                    assert axis.get("type") == "date" and axis["tickformat"] == form, (
                        chart.id, key)
                    checked += 1
        assert checked >= 2  # the anomaly panels and the conversion-over-time grid
