"""The engine on a seven-deal log whose every number was worked out by hand (in the comments).

Funnel: new(0) → qualified(1) → meeting(2) → proposal(3) → won(4); "Closed lost" means lost.

* A: new 1/1 09:00, qualified 1/2, proposal 1/5 (skips meeting), won 1/8. created 1/1 10:00, so
  its first event is before creation. Duplicated in the deals table (second row ignored).
* B: new 1/1, meeting 1/3 (skips qualified), qualified 1/4 (backward), meeting 1/6, lost 1/7.
* C: new 1/2 twice (a duplicate), "Thinking it over" 1/3 (unknown), qualified 1/10; status won
  (won without an event of the won stage).
* D: new 1/3; status lost.
* E: new 1/9 09:00, qualified 1/9 21:00; open.
* F: only in the deals table. G: only a lost event 1/4, not in the deals table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from engine_logs import deals_table, events_table

from voronka.engine import EventLog
from voronka.errors import UsageError
from voronka.funnel import Funnel

D = dt.datetime


def _at(day: int, hour: int = 9) -> dt.datetime:
    return D(2024, 1, day, hour)


EVENTS = [
    ("A", "New", _at(1)),
    ("A", "Qualified", _at(2)),
    ("A", "Proposal", _at(5)),
    ("A", "Won", _at(8)),
    ("B", "New", _at(1)),
    ("B", "Meeting", _at(3)),
    ("B", "Qualified", _at(4)),  # row 7: backward move
    ("B", "Meeting", _at(6)),
    ("B", "Closed lost", _at(7)),
    ("C", "New", _at(2)),
    ("C", "new", _at(2)),  # row 11: duplicate (same stage after matching, same time)
    ("C", "Thinking it over", _at(3)),  # row 12: unknown stage
    ("C", "Qualified", _at(10)),
    ("D", "New", _at(3)),
    ("E", "New", _at(9)),
    ("E", "Qualified", _at(9, 21)),
    ("G", "Closed lost", _at(4)),
]
DEALS = [
    {"deal_id": "A", "created_at": _at(1, 10), "source": "ads", "status": "open", "amount": 10.0},
    {"deal_id": "B", "source": "ads", "status": "open"},
    {"deal_id": "C", "created_at": _at(2), "source": "seo", "status": "won"},
    {"deal_id": "D", "created_at": _at(3), "source": "seo", "status": "lost"},
    {"deal_id": "E", "status": "open"},
    {"deal_id": "F", "source": "ads", "status": "open"},
    {"deal_id": "A", "source": "dup", "status": "lost"},  # row 7: duplicate deal
]


@pytest.fixture(scope="module")
def log(backend: Any, funnel: Funnel) -> EventLog:
    return EventLog.build(events_table(EVENTS), deals_table(DEALS), funnel, backend=backend)


def _by_stage(frame: Any, column: str, keys: tuple[str, ...] = ()) -> dict[Any, Any]:
    """{stage_id: value}, or {(*keys, stage_id): value} when ``keys`` are given."""
    return {
        ((*(row[k] for k in keys), row["stage_id"]) if keys else row["stage_id"]): row[column]
        for row in frame.to_dict("records")
    }


def test_as_of_defaults_to_latest_timestamp(log: EventLog) -> None:
    """The latest time in either table is C's qualified event, 1/10 09:00."""
    assert log.as_of == _at(10)


def test_reach_counts_skipped_stages_as_reached(log: EventLog) -> None:
    """new: A B C D E; qualified: A B C E; meeting: A B; proposal: A; won: A. G reached none."""
    reach = log.reach()
    assert list(reach["stage_id"]) == ["new", "qualified", "meeting", "proposal", "won"]
    assert list(reach["reached"]) == [5, 4, 2, 1, 1]
    assert list(reach["stage_index"]) == [0, 1, 2, 3, 4]


def test_open_and_lost_deals_sit_at_their_latest_stage(log: EventLog) -> None:
    """E is open at qualified; B was lost at meeting (its latest non-lost event), D at new."""
    reach = log.reach()
    assert _by_stage(reach, "open_here") == {
        "new": 0,
        "qualified": 1,
        "meeting": 0,
        "proposal": 0,
        "won": 0,
    }
    assert _by_stage(reach, "lost_here") == {
        "new": 1,
        "qualified": 0,
        "meeting": 1,
        "proposal": 0,
        "won": 0,
    }


def test_outcomes_apply_status_overrides(log: EventLog) -> None:
    """Won: A (won stage), C (status). Lost: B (event), D (status), G (event). Open: E."""
    out = log.outcomes()
    assert out.to_dict("records") == [{"deals": 6, "won": 2, "lost": 3, "open": 1}]


def test_time_in_stage_median_and_p90_by_hand(log: EventLog) -> None:
    """new: A 1, B 2, C 8 (the unknown event is dropped), E 0.5 → median 1.5, p90 2 + 0.7·6 = 6.2.
    qualified: A 3, B 2 → 2.5, 2.9. meeting: B's first entry 1/3 → 1/4 = 1. proposal: A 3.
    won: none."""
    t = log.time_in_stage()
    assert _by_stage(t, "n_left") == {
        "new": 4,
        "qualified": 2,
        "meeting": 1,
        "proposal": 1,
        "won": 0,
    }
    median = _by_stage(t, "median_days")
    p90 = _by_stage(t, "p90_days")
    assert median["new"] == pytest.approx(1.5)
    assert p90["new"] == pytest.approx(6.2)
    assert median["qualified"] == pytest.approx(2.5)
    assert p90["qualified"] == pytest.approx(2.9)
    assert median["meeting"] == pytest.approx(1.0)
    assert median["proposal"] == pytest.approx(3.0)
    assert np.isnan(median["won"]) and np.isnan(p90["won"])


def test_reach_by_source_keeps_null_segment(log: EventLog) -> None:
    """ads: A, B; seo: C, D; no source: E, G (G is absent from the deals table)."""
    reach = log.reach(by="source")
    reached = _by_stage(reach, "reached", ("segment",))
    assert [reached[("ads", s)] for s in ("new", "qualified", "meeting", "proposal", "won")] == [
        2,
        2,
        2,
        1,
        1,
    ]
    assert [reached[("seo", s)] for s in ("new", "qualified", "meeting")] == [2, 1, 0]
    assert [reached[(None, s)] for s in ("new", "qualified", "meeting")] == [1, 1, 0]
    assert set(reach["segment"]) == {"ads", "seo", None}
    assert reach["segment"].dtype == object


def test_outcomes_by_week_of_creation(log: EventLog) -> None:
    """Created in the week of Monday 1/1: A, B (first event 1/1), C, D, G (1/4); E on 1/9."""
    out = log.outcomes(period="week")
    assert out.to_dict("records") == [
        {"period": dt.date(2024, 1, 1), "deals": 5, "won": 2, "lost": 3, "open": 0},
        {"period": dt.date(2024, 1, 8), "deals": 1, "won": 0, "lost": 0, "open": 1},
    ]
    month = log.outcomes(by="source", period="month")
    assert set(month["period"]) == {dt.date(2024, 1, 1)}
    assert int(month["deals"].sum()) == 6


def test_quality_counts_by_hand(log: EventLog) -> None:
    """One of each: unknown (row 12), duplicate (row 11), backward (row 7, deal B), before creation
    (row 1), deal without events (F), event without deal (G), duplicate deal (row 7)."""
    q = log.quality()
    assert (q.events_read, q.events_used, q.events_rejected) == (17, 15, 2)
    assert (q.deals_read, q.deals_used, q.deals_rejected) == (7, 6, 1)
    assert (q.unknown_stage.count, q.unknown_stage.examples) == (1, ("Thinking it over",))
    assert (q.duplicate_event.count, q.duplicate_event.examples) == (1, ("11",))
    assert (q.backward_move.count, q.backward_move.examples) == (1, ("B",))
    assert (q.event_before_created.count, q.event_before_created.examples) == (1, ("1",))
    assert (q.deal_without_events.count, q.deal_without_events.examples) == (1, ("F",))
    assert (q.event_without_deal.count, q.event_without_deal.examples) == (1, ("G",))
    assert (q.duplicate_deal.count, q.duplicate_deal.examples) == (1, ("7",))
    # C is won by its status but its events stop at qualified: won counts it, reached[won] not.
    assert (q.won_without_won_stage.count, q.won_without_won_stage.examples) == (1, ("C",))
    won = int(log.outcomes()["won"].iloc[0])
    reached_won = int(log.reach().set_index("stage_id").loc["won", "reached"])
    assert won - reached_won == q.won_without_won_stage.count
    assert [i.excluded for i in q.issues] == [True, True, False, False, False, False, True, False]


def test_the_funnel_section_says_why_cards_and_stages_differ(log: EventLog) -> None:
    """Seven deals in the cards (A–E, G; F has no events), six at the first stage: G's only
    event is a loss. Two won (A; C by status), one at the won stage: C stops at qualified."""
    from voronka.audit import AuditResult
    from voronka.audit.funnel_section import build_funnel_report
    from voronka.audit.quality_result import DataQuality
    from voronka.report.names import build_labels
    from voronka.report.words import funnel_reconciliation

    report = build_funnel_report(log.require_funnel(), log.reach(), log.outcomes(),
                                 log.time_in_stage())
    assert (report.deals, report.stages[0].reached) == (6, 5)
    assert (report.not_in_funnel, report.not_in_funnel_lost) == (1, 1)
    assert (report.won, report.stages[-1].reached, report.won_without_won_stage) == (2, 1, 1)
    # Every lost deal is lost at a stage or outside the funnel; every open one is open at one.
    assert sum(s.lost_here for s in report.stages) + report.not_in_funnel_lost == report.lost
    assert sum(s.open for s in report.stages) == report.open

    result = AuditResult(as_of=log.as_of, funnel=report, data_quality=DataQuality({}, {}, {}))
    words = {lang: funnel_reconciliation(result, build_labels(result, lang, log.funnel))
             for lang in ("en", "ru")}
    assert words["en"] == (
        "Not in the funnel: 1 of 6 — their events hold no funnel stage (1 of them lost). So the "
        "first stage counts 5 of the 6 deals. Won without the stage «Won»: 1 — marked won by "
        "their status. So that stage counts 1 of the 2 won deals."
    )
    assert words["ru"] is not None and words["ru"].startswith("Не вошли в воронку: 1 из 6")


def test_open_deal_days_in_stage(log: EventLog) -> None:
    """E entered qualified 1/9 21:00; as_of 1/10 09:00 → 0.5 days."""
    s = log.frame(log.deal_summary())
    row = s[s["deal_id"] == "E"].iloc[0]
    assert row["outcome"] == "open"
    assert row["days_in_stage"] == pytest.approx(0.5)
    assert s[s["deal_id"] == "A"].iloc[0]["source"] == "ads"  # the first deals row wins


def test_reached_at_fills_skipped_stages(log: EventLog) -> None:
    """B skipped qualified (entered later, 1/4) but reached it with meeting on 1/3."""
    r = log.frame(log.reached_at())
    b = {
        int(k): v
        for k, v in zip(
            r[r["deal_id"] == "B"]["stage_index"], r[r["deal_id"] == "B"]["reached_at"], strict=True
        )
    }
    assert b == {0: _at(1), 1: _at(3), 2: _at(3)}
    a = r[r["deal_id"] == "A"].set_index("stage_index")["reached_at"].to_dict()
    assert a == {0: _at(1), 1: _at(2), 2: _at(5), 3: _at(5), 4: _at(8)}


def test_segment_columns_offers_text_columns_only(log: EventLog) -> None:
    """``source`` is text; ``status``, ``amount`` and ``created_at`` are not breakdowns."""
    assert log.segment_columns() == ["source"]


def test_unknown_breakdown_column_is_a_usage_error(log: EventLog) -> None:
    with pytest.raises(UsageError, match="no deal column"):
        log.reach(by="channel")
    with pytest.raises(UsageError, match="period"):
        log.outcomes(period="quarter")
