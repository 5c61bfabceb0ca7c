"""New deals that stop long before the data's end are noted (a cut export, or leads that no longer
reach the CRM), not only scanned as a fall in leads; a filter's period of creation is not such a
stop (issue 10's trust point: numbers wrong under quirky exports)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from leakgen import demo, stable

from voronka.audit.lead_gap import MIN_EXPECTED, lead_gap_note, lead_stop
from voronka.engine import EventLog, filter_log, lead_volume
from voronka.funnel import Funnel, Stage
from voronka.i18n import note_text


def _note(log: EventLog) -> str | None:
    return lead_gap_note(log, lead_stop(log))


def _cut(n_deals: int, seed: int, weeks: int) -> tuple[EventLog, datetime]:
    """The demo's log with the deals created in its last ``weeks`` weeks left out, events of the
    older deals kept to the end (an export whose new deals were cut)."""
    data, _ = demo(n_deals, seed, stable())
    cut = pd.Timestamp(data.as_of) - pd.Timedelta(weeks=weeks)
    deals = data.deals[pd.to_datetime(data.deals["created_at"]) < cut]
    events = data.events.drop(columns=["entered_at_text"])
    events = events[events["deal_id"].isin(deals["deal_id"])]
    return EventLog.build(events, deals, data.funnel, as_of=data.as_of), cut.to_pydatetime()


def test_new_deals_cut_weeks_before_the_end_are_noted() -> None:
    for seed, weeks in ((1, 8), (2, 12), (3, 2)):
        log, cut = _cut(6000, seed, weeks)
        found = _note(log)
        assert found is not None, (seed, weeks)
        text = note_text(found, "en") or ""
        assert "The last new deal was created in the week of" in text
        last_week = datetime.strptime(found.split('"week": "')[1][:10], "%Y-%m-%d")
        assert cut - timedelta(days=7) <= last_week <= cut
        days = int(found.split('"days": ')[1].split(",")[0])
        assert abs(days - 7 * weeks) <= 7
        assert "Последняя новая сделка" in (note_text(found, "ru") or "")


def test_a_steady_stream_of_new_deals_is_not_noted() -> None:
    for seed in (1, 2, 3):
        _, log = demo(6000, seed, stable())
        assert _note(log) is None, seed


def test_a_gap_too_short_for_its_rate_is_not_noted() -> None:
    """One deal every ten days, then 40 days without one: at that rate 4 deals were expected,
    fewer than :data:`MIN_EXPECTED`: chance, not a cut."""
    funnel = Funnel(name="t", stages=(Stage(id="a", name="a"), Stage(id="b", name="b")),
                    won_stage="b", language="en")
    start = datetime(2024, 1, 1)
    created = [start + timedelta(days=10 * i) for i in range(30)]
    events = pd.DataFrame({"deal_id": [str(i) for i in range(30)], "stage": "a",
                           "entered_at": created})
    deals = pd.DataFrame({"deal_id": [str(i) for i in range(30)], "created_at": created})
    as_of = created[-1] + timedelta(days=40)
    log = EventLog.build(events, deals, funnel, as_of=as_of)
    assert MIN_EXPECTED > 40 / 10
    assert _note(log) is None
    longer = EventLog.build(events, deals, funnel, as_of=created[-1] + timedelta(days=130))
    assert _note(longer) is not None  # 13 expected: noted


def test_a_filters_period_of_creation_ends_the_lead_volumes() -> None:
    """Deals created until 1 April kept: the weeks after are not weeks without leads (the whole
    audit once read them as "Fewer leads: 324 a week → 0"): the lead volumes end there, no
    note, no fall in leads."""
    from voronka.audit.anomalies import build_anomalies

    _, log = demo(6000, 1, stable())
    until = datetime(2026, 4, 1)
    narrowed = filter_log(log, created_until=until)
    assert narrowed.created_window == (None, until)
    weekly = lead_volume(narrowed, period="week")
    assert max(weekly["period"]) <= until.date()
    first = min(weekly["period"])
    assert weekly["exposure_days"].sum() <= (until.date() - first).days
    assert _note(narrowed) is None
    falls = [a for a in build_anomalies(narrowed)
             if a.kind == "volume" and a.segment is None and a.direction == "down"]
    assert falls == []
    both = filter_log(narrowed, created_from=datetime(2026, 1, 1))
    assert both.created_window == (datetime(2026, 1, 1), until)


def test_a_cut_export_ends_the_lead_volumes_and_is_not_a_fall_in_leads() -> None:
    """Exports whose new deals were cut 2, 5 or 8 weeks before the end (three worlds each): the
    stop is the last creation time; the lead volumes the scan reads end there, so no volume
    series — funnel-wide or per source — shows a fall or rise dated at or after the cut (the
    Olist sample read "Fewer leads: 0.0 a week since 4 Jun, where 1,017.0 was expected", and a
    source's "more leads" was averaged over 24 weeks of no data). Steady exports have no stop."""
    from voronka.audit.anomalies import build_anomalies

    for seed in (1, 2, 3):
        _, steady = demo(6000, seed, stable())
        assert lead_stop(steady) is None, seed
        for weeks in (2, 5, 8):
            log, cut = _cut(6000, seed, weeks)
            stop = lead_stop(log)
            assert stop is not None and cut - timedelta(days=2) <= stop < cut, (seed, weeks)
            weekly = lead_volume(log, period="week", until=stop)
            assert max(weekly["period"]) <= stop.date()
            assert weekly["leads"].sum() == lead_volume(log, period="week")["leads"].sum()
            shifts = [a for a in build_anomalies(log, leads_until=stop) if a.kind == "volume"]
            late = [a for a in shifts if a.since >= (cut - timedelta(days=7)).date()]
            assert late == [], (seed, weeks, late)
