"""Data too short for a forecast: no forecast, and a note that says why."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from voronka.api import audit
from voronka.audit import AuditResult
from voronka.audit.history import MIN_HISTORY_DAYS, short_history_note
from voronka.engine import EventLog
from voronka.funnel import Funnel, Stage
from voronka.i18n import note_text

FUNNEL = Funnel(name="web", stages=(Stage(id="view", name="view"), Stage(id="buy", name="buy")),
                won_stage="buy", language="en")


def _events(hours: float) -> pd.DataFrame:
    """Web sessions over ``hours``: one a minute, every 20th bought within minutes, no session
    ever closed as lost (the rees46 sample's shape)."""
    start = datetime(2019, 10, 1)
    n = int(hours * 60)
    rows = []
    for i in range(n):
        at = start + timedelta(minutes=i)
        rows.append((str(i), "view", at))
        if i % 20 == 0:
            rows.append((str(i), "buy", at + timedelta(minutes=3)))
    return pd.DataFrame(rows, columns=["deal_id", "stage", "entered_at"])


def _audit(hours: float, tmp_path: Path) -> AuditResult:
    path = tmp_path / "events.csv"
    events = _events(hours)
    events["entered_at"] = events["entered_at"].dt.strftime("%Y-%m-%d %H:%M")
    events.to_csv(path, index=False)
    return audit(path, funnel=FUNNEL)


def test_a_few_hours_of_data_get_no_forecast_and_a_note(tmp_path: Path) -> None:
    log = EventLog.build(_events(3), None, FUNNEL, as_of=datetime(2019, 10, 1, 3))
    found = short_history_note(log)
    assert found is not None
    assert "too little for a forecast" in (note_text(found, "en") or "")
    assert "для прогноза этого мало" in (note_text(found, "ru") or "")
    result = _audit(3, tmp_path)
    assert result.forecast is None and result.what_if == ()
    assert any(n.startswith("forecast.note.too_short") for n in result.data_quality.notes)


def test_enough_days_get_the_forecast(tmp_path: Path) -> None:
    hours = 24 * (MIN_HISTORY_DAYS + 2)
    log = EventLog.build(_events(hours), None, FUNNEL,
                         as_of=datetime(2019, 10, 1) + timedelta(hours=hours))
    assert short_history_note(log) is None
    result = _audit(hours, tmp_path)
    assert result.forecast is not None
    assert not any(n.startswith("forecast.note.too_short") for n in result.data_quality.notes)


def test_a_filter_before_the_forecast_period_gets_no_forecast_and_says_why(
    tmp_path: Path,
) -> None:
    """Sessions from 1 Oct for 45 days (the data ends 15 Nov, the forecast's month is November).
    Kept to those created by 15 Oct, the forecast would count none of November's new sessions
    ("0 won, most likely 0 to 0"): none is made, and the note, in both languages and in the HTML
    report's forecast section, says why. Kept to those created by 5 Nov, November has its own
    new sessions, and the forecast is made."""
    from voronka.report import render

    path = tmp_path / "events.csv"
    events = _events(24 * 45)
    events["entered_at"] = events["entered_at"].dt.strftime("%Y-%m-%d %H:%M")
    events.to_csv(path, index=False)
    cut = audit(path, funnel=FUNNEL, created_to="2019-10-15")
    assert cut.forecast is None
    notes = [n for n in cut.data_quality.notes if n.startswith("forecast.note.filtered_before")]
    assert len(notes) == 1
    assert note_text(notes[0], "en") == (
        "The filter keeps deals created until 15 Oct 2019, before the forecast's period begins "
        "(1 Nov 2019). A forecast needs the period's new deals too, and the filter leaves them "
        "out, so none is made: drop the creation-date filter to see it."
    )
    assert "по 15.10.2019" in (note_text(notes[0], "ru") or "")
    page = str(render(cut, "html", lang="en"))
    forecast_part = page[page.index('<section id="forecast"'):]
    assert "drop the creation-date filter" in forecast_part[:forecast_part.index("</section>")]
    assert audit(path, funnel=FUNNEL, created_to="2019-11-05").forecast is not None
