"""Stage names before a funnel is known: counts, the statistics ``infer_funnel`` reads, and
``with_funnel`` on a log built without one. Expected values worked out by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from engine_logs import events_table

from voronka.engine import EventLog
from voronka.funnel import infer_funnel

D = dt.datetime

# d1: New → Qualified → Won; d2: New → Closed lost (plus a duplicate New); d3: Qualified alone.
ROWS = [
    ("d1", "New", D(2024, 5, 1)),
    ("d1", "Qualified", D(2024, 5, 2)),
    ("d1", "Won", D(2024, 5, 3)),
    ("d2", "New", D(2024, 5, 1)),
    ("d2", "New", D(2024, 5, 1)),
    ("d2", "Closed lost", D(2024, 5, 4)),
    ("d3", "Qualified", D(2024, 5, 2)),
]


@pytest.fixture(scope="module")
def raw_log(backend: Any) -> EventLog:
    return EventLog.build(
        events_table(ROWS, {"source": ["a", None, None, None, "b", None, None]}), backend=backend
    )


def test_stage_name_counts_are_raw_rows(raw_log: EventLog) -> None:
    """Rows per name, duplicates included: New 3, Qualified 2, Won 1, Closed lost 1."""
    assert raw_log.stage_name_counts() == {"New": 3, "Qualified": 2, "Closed lost": 1, "Won": 1}


def test_stage_name_stats_by_hand(raw_log: EventLog) -> None:
    """Positions 0..1 within each deal (duplicates merged; a single event is at 0):
    New 0 and 0; Qualified 0.5 (d1) and 0 (d3), last for d3 only; Won 1, Closed lost 1."""
    stats = {s.name: s for s in raw_log.stage_name_stats()}
    assert (stats["New"].deals, stats["New"].mean_position, stats["New"].terminal_share) == (
        2,
        0,
        0,
    )
    q = stats["Qualified"]
    assert (q.deals, q.mean_position, q.terminal_share) == (2, pytest.approx(0.25), 0.5)
    assert (stats["Won"].mean_position, stats["Won"].terminal_share) == (1.0, 1.0)
    assert (stats["Closed lost"].deals, stats["Closed lost"].terminal_share) == (1, 1.0)


def test_inferred_funnel_then_with_funnel(raw_log: EventLog) -> None:
    """infer_funnel orders New → Qualified → Won and reads "Closed lost" as lost; mapped, the log
    has 3 deals: d1 won, d2 lost (event), d3 open; reach 2, 2, 1 (d3 skipped New)."""
    funnel = infer_funnel(raw_log.stage_name_stats(), language="en")
    assert [s.name for s in funnel.stages] == ["New", "Qualified", "Won"]
    log = raw_log.with_funnel(funnel)
    assert list(log.reach()["reached"]) == [3, 2, 1]
    assert log.outcomes().to_dict("records") == [{"deals": 3, "won": 1, "lost": 1, "open": 1}]
    # Without a deals table the deal columns come from the events (first non-null, file order)
    # and created_at is the first event.
    summary = log.frame(log.deal_summary()).set_index("deal_id")
    assert summary.loc["d1", "source"] == "a" and summary.loc["d2", "source"] == "b"
    assert summary.loc["d3", "created_at"] == D(2024, 5, 2)
    assert log.quality().duplicate_event.count == 1


def test_aggregates_need_a_funnel(raw_log: EventLog) -> None:
    with pytest.raises(RuntimeError, match="funnel"):
        raw_log.reach()
