"""The log build's cheaper forms give what the rules say: reach times by brute force over random
logs, the deals table taken as is only when no id repeats, and the after-close rule by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from engine_logs import deals_table, events_table, random_log

from voronka.engine import EventLog
from voronka.engine.backend import to_frame
from voronka.engine.prepare import after_close
from voronka.engine.summary import deal_id_counts, reach_spans
from voronka.funnel import Funnel


def test_reach_spans_cover_each_stage_between_two_entered_ones_once() -> None:
    spans = reach_spans(3)
    for lower in range(-1, 3):
        for top in range(lower + 1, 4):
            assert sorted(k for lo, t, k in spans if (lo, t) == (lower, top)) == list(
                range(lower + 1, top + 1)
            )
    assert all(-1 <= lo < k <= t <= 3 for lo, t, k in spans)


def _brute_reached(log: EventLog) -> pd.DataFrame:
    """Per deal and stage k ≤ its furthest stage: the earliest entry into any stage ≥ k of the
    line, and the same for k + 1 (null past the furthest), from the deal × stage table."""
    won = log.require_funnel().won_index
    stages = to_frame(log.backend, log.deal_stages())
    line = stages[(stages["stage_index"] >= 0) & (stages["stage_index"] <= won)]
    rows = []
    for deal, part in line.groupby("deal_id"):
        first = dict(zip(part["stage_index"].astype(int), part["first_entered_at"], strict=True))
        top = max(first)

        def reach(k: int, first: dict[int, Any] = first) -> Any:
            return min(t for s, t in first.items() if s >= k)

        for k in range(top + 1):
            rows.append((deal, k, reach(k), reach(k + 1) if k < top else None))
    out = pd.DataFrame(rows, columns=["deal_id", "stage_index", "reached_at", "next_at"])
    return out.sort_values(["deal_id", "stage_index"]).reset_index(drop=True)


@pytest.mark.parametrize("seed", [1, 7, 23])
def test_reached_at_equals_brute_force(backend: Any, funnel: Funnel, seed: int) -> None:
    events, deals = random_log(seed, n_deals=60)
    log = EventLog.build(events, deals, funnel, backend=backend)
    got = to_frame(backend, log.reached_at()).sort_values(["deal_id", "stage_index"])
    want = _brute_reached(log)
    assert len(got) == len(want) > 60
    got = got.reset_index(drop=True)
    assert list(got["deal_id"]) == list(want["deal_id"])
    assert list(got["stage_index"]) == list(want["stage_index"])
    assert [pd.Timestamp(v) for v in got["reached_at"]] == [
        pd.Timestamp(v) for v in want["reached_at"]
    ]
    assert [None if pd.isna(v) else pd.Timestamp(v) for v in got["next_at"]] == [
        None if v is None or pd.isna(v) else pd.Timestamp(v) for v in want["next_at"]
    ]


def test_deals_table_is_used_as_is_only_without_repeated_ids(backend: Any, funnel: Funnel) -> None:
    at = dt.datetime(2024, 1, 1, 9)
    events = events_table([("A", "New", at), ("B", "New", at), ("C", "New", at)])
    unique = deals_table([{"deal_id": "A", "source": "x"}, {"deal_id": "B", "source": "y"}])
    log = EventLog.build(events, unique, funnel, backend=backend)
    assert log.deal_id_counts() == (2, 2)
    assert log.unique_deals() is log.deals_table
    repeated = deals_table([{"deal_id": "A", "source": "x"}, {"deal_id": "B", "source": "y"},
                            {"deal_id": "A", "source": "z"}, {"deal_id": None, "source": "w"}])
    log = EventLog.build(events, repeated, funnel, backend=backend)
    assert log.deal_id_counts() == (4, 3)  # A, B and the blank id
    asked = log.frame(deal_id_counts(log.deals_table)).iloc[0]  # counted in Arrow = the query
    assert (int(asked["rows"]), int(asked["ids"]) + int(asked["blank"])) == (4, 3)
    summary = log.frame(log.deal_summary()).set_index("deal_id")  # the ids as given
    assert summary.loc["A", "source"] == "x" and summary.loc["A", "deals_row"] == 1
    quality = log.quality()
    assert quality.deals_used == 3 and quality.duplicate_deal.count == 1
    assert quality.deal_without_events.count == 1  # the blank id's row
    assert quality.event_without_deal.count == 1  # C


def test_after_close_takes_the_deals_first_closing_else_the_events() -> None:
    day = dt.timedelta(days=1)
    t0 = dt.datetime(2024, 3, 1, 12)
    events = pa.table({
        "deal_id": ["A", "A", "A", "B", "B", "C", "D"],
        "entered_at": pa.array([t0, t0 + 2 * day, t0 + day, t0 + 3 * day, t0, t0 + 9 * day,
                                None], pa.timestamp("us")),
        # B is not in the deals table: its first closing on the event rows (row 5) counts.
        "closed_at": pa.array([None, None, None, t0 + 5 * day, t0 + day, None, t0],
                              pa.timestamp("us")),
        "_row": pa.array([1, 2, 3, 4, 5, 6, 7], pa.int64()),
    })
    deals = pa.table({
        "deal_id": ["A", "A", "C"],
        # A's first non-null closing in file order is its second row; C has none anywhere.
        "closed_at": pa.array([None, t0, None], pa.timestamp("us")),
        "_row": pa.array([1, 2, 3], pa.int64()),
    })
    late = after_close(events, deals)
    # A closed at t0: t0 + 2 days is more than a day after, t0 + 1 day is not (the slack).
    # B: first closing on its rows is t0 + 5 days (row 4): t0 + 3 days is not after it.
    assert late.tolist() == [False, True, False, False, False, False, False]
    assert after_close(events, None).tolist() == [False] * 7
    assert np.asarray(after_close(events.slice(0, 0), deals)).size == 0
    # Closings from the deals table alone (no closed_at on the event rows): A's still count,
    # B's (on its event rows only) no longer do.
    assert after_close(events.drop_columns(["closed_at"]), deals).tolist() == [
        False, True, False, False, False, False, False]
    # A's first closing in file order (t0 + 10 days) counts, not its earlier date on row 2.
    later = deals.set_column(1, "closed_at", pa.array([t0 + 10 * day, t0, t0 + 4 * day],
                                                      pa.timestamp("us")))
    assert after_close(events.drop_columns(["closed_at"]), later).tolist() == [
        False, False, False, False, False, True, False]  # C closed at t0 + 4 days
