"""Text and Markdown reports: every anomaly listed shows its series (a sparkline of the observed
levels with the shift marked) and the levels, counts and dates in words — the JSON's numbers."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta

import pytest
from sample_result import make_result

from voronka.audit.anomalies import Anomaly
from voronka.audit.common import Segment
from voronka.report import render
from voronka.report.format import format_date, format_int, format_number, format_percent
from voronka.report.words import MAX_SPARK, sparkline

WEEKS = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(9)]
RATES = (0.5, 0.5, 0.52, 0.48, 0.5, 0.3, 0.32, 0.28, 0.3)


def _result():  # type: ignore[no-untyped-def]
    drop = Anomaly(
        "qualified", "meeting", Segment("source", "Яндекс.Директ"), "down", WEEKS[5], 0.5, 0.3,
        0.004, True, n_before=412, n_after=301, periods=tuple(WEEKS), observed=RATES,
        expected=(0.5,) * 9,
    )
    leads = Anomaly(
        "new", None, None, "up", WEEKS[4], 62.0, 88.5, 0.01, True, kind="volume",
        n_before=248, n_after=443, periods=tuple(WEEKS[:8]),
        observed=(60.0, 63.0, None, 61.0, 90.0, 87.0, 88.0, 89.0),
    )
    return dataclasses.replace(make_result(), anomalies=(drop, leads))


def test_sparkline_by_hand() -> None:
    """Min 0.28 → ▁, max 0.52 → █; 0.48 → level ⌊(0.20/0.24)·8⌋ = 6 → ▇; the mark before index 5;
    a missing value is a blank; a flat series is mid-height."""
    spark, low, high = sparkline(RATES, 5)
    assert spark == "███▇█│▁▂▁▁" and (low, high) == (0.28, 0.52)
    assert sparkline([1.0, None, 3.0])[0] == "▁ █"
    assert sparkline([2.0, 2.0])[0] == "▄▄"
    assert sparkline([None])[0] == ""


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("fmt", ["text", "md"])
def test_each_anomaly_shows_its_series_with_the_json_numbers(fmt: str, lang: str) -> None:
    result = _result()
    page = str(render(result, fmt, lang=lang))
    data = json.loads(str(render(result, "json")))
    conv, vol = data["anomalies"]
    # The sparklines, the shift marked where the JSON's `since` falls in its `periods`.
    assert "███▇█│▁▂▁▁" in page
    assert "▁▁ ▁│████" in page  # 60 63 – 61 | 90 87 88 89 leads: the jump, a gap for None
    # The levels in words are the JSON's: before/after, min/max of `observed`, counts, dates.
    for a in (conv, vol):
        if a["next_stage"] is None:
            unit = "в неделю" if lang == "ru" else "a week"
            shown = [f"{format_number(a[k], lang, 1)} {unit}" for k in ("before", "after")]
            known = [v for v in a["observed"] if v is not None]
            shown += [f"{format_number(v, lang, 1)} {unit}" for v in (min(known), max(known))]
        else:
            shown = [format_percent(a[k], lang) for k in ("before", "after")]
            shown += [format_percent(v, lang) for v in (min(a["observed"]), max(a["observed"]))]
        shown += [format_int(a["n_before"], lang), format_int(a["n_after"], lang)]
        since = date.fromisoformat(a["since"])
        shown += [format_date(since, lang), format_date(date.fromisoformat(a["periods"][0]), lang)]
        for words in shown:
            if fmt == "md":  # Markdown writes the no-break space as a plain one
                words = words.replace("\xa0", " ")
            assert words in page, (words, a["stage"])


def test_a_long_series_is_cut_to_the_latest_periods_keeping_the_shift() -> None:
    weeks = [date(2023, 1, 2) + timedelta(weeks=i) for i in range(100)]
    levels = tuple(0.5 if i < 90 else 0.3 for i in range(100))
    a = Anomaly("qualified", "meeting", None, "down", weeks[90], 0.5, 0.3, 0.001, True,
                n_before=900, n_after=100, periods=tuple(weeks), observed=levels)
    page = str(render(dataclasses.replace(make_result(), anomalies=(a,)), "text", lang="en"))
    line = next(x for x in page.splitlines() if "│" in x and "▁" in x)
    spark = line.strip()
    assert len(spark) == MAX_SPARK + 1 and spark.endswith("│" + "▁" * 10)
    assert format_date(weeks[60], "en") in page and format_date(weeks[99], "en") in page
