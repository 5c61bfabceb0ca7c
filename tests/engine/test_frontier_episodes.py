"""The forecast's frontier episodes (``episodes.frontier_episodes``) against their definition.

Reference (pandas, from the engine's reach table and deal summary, both checked against the oracle
in test_engine_oracle.py): a deal's frontier at time ``t`` is the furthest stage it had reached by
``t``; each reach time up to the cut starts an episode at the frontier stage then, which ends at
the next reach time (moving to the frontier stage then), else at the deal's closing when it was
closed lost or won by the cut (never before the episode began), else at the cut (still open). The
first episode is the deal's first. No windows, no runs: an independent reading of the rows.

Seeded messy logs run on every backend; Hypothesis draws small, tie-heavy logs (many stages
reached at the same time, skips, backward moves, lost events, status overrides) on DuckDB.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from engine_logs import LOST_NAME, STAGE_NAMES, deals_table, events_table, random_log
from hypothesis import HealthCheck, given, settings

from voronka.engine import EventLog
from voronka.engine.episodes import frontier_episodes
from voronka.engine.flow import LOST, OPEN
from voronka.funnel import Funnel

_COLUMNS = ["deal_id", "stage_index", "started_at", "ended_at", "to_index", "closed_at",
            "closed_to", "first", "amount"]


def _time(value: Any) -> pd.Timestamp | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value)


def expected_frontier(log: EventLog, cut: dt.datetime) -> set[tuple[Any, ...]]:
    """The frontier episodes at ``cut`` by their definition (see the module docstring)."""
    won = log.require_funnel().won_index
    reach = log.frame(log.reached_at())
    summary = log.frame(log.deal_summary()).set_index("deal_id")
    reach = reach[pd.to_datetime(reach["reached_at"]) <= pd.Timestamp(cut)]
    out: set[tuple[Any, ...]] = set()
    for deal_id, part in reach.groupby("deal_id"):
        frontier = part.groupby("reached_at")["stage_index"].max().sort_index()
        times = [pd.Timestamp(t) for t in frontier.index]
        stages = [int(k) for k in frontier]
        deal = summary.loc[deal_id]
        closed_at, outcome = _time(deal["closed_at"]), deal["outcome"]
        closed_to = {"lost": LOST, "won": won}.get(outcome, OPEN)
        amount = deal.get("amount")  # no column without a deals table
        amount = None if amount is None or pd.isna(amount) else float(amount)
        for i, (started, stage) in enumerate(zip(times, stages, strict=True)):
            if i + 1 < len(times):
                ended, to = times[i + 1], stages[i + 1]
            elif closed_at is not None and closed_at <= cut and closed_to != OPEN:
                ended, to = max(closed_at, started), closed_to
            else:
                ended, to = pd.Timestamp(cut), OPEN
            out.add((deal_id, stage, started, ended, to, closed_at, closed_to, i == 0, amount))
    return out


def got_frontier(log: EventLog, cut: dt.datetime) -> set[tuple[Any, ...]]:
    """The engine's frontier episodes at ``cut`` as a set of rows (``days`` checked on the way)."""
    rows = log.frame(frontier_episodes(log, cut))
    if "amount" not in rows.columns:
        rows["amount"] = None
    days = (pd.to_datetime(rows["ended_at"]) - pd.to_datetime(rows["started_at"])).dt.total_seconds()
    np.testing.assert_allclose(rows["days"].to_numpy(float), days.to_numpy() / 86400, rtol=1e-12)
    return {
        (r["deal_id"], int(r["stage_index"]), _time(r["started_at"]), _time(r["ended_at"]),
         int(r["to_index"]), _time(r["closed_at"]), int(r["closed_to"]), bool(r["first"]),
         None if pd.isna(r["amount"]) else float(r["amount"]))
        for r in rows[_COLUMNS].to_dict("records")
    }


def _cuts(log: EventLog) -> list[dt.datetime]:
    """The log's ``as_of``, reach times themselves (a cut equal to a reach time) and a second
    after some, so the cut falls inside runs of stages reached at the same time."""
    times = sorted({pd.Timestamp(t).to_pydatetime()
                    for t in log.frame(log.reached_at())["reached_at"]})
    picked = times[:: max(1, len(times) // 4)]
    return [log.as_of, *picked, *(t + dt.timedelta(seconds=1) for t in picked[:2])]


@pytest.fixture(scope="module")
def seeded(backend: Any, funnel: Funnel) -> EventLog:
    events, deals = random_log(11, n_deals=60)
    return EventLog.build(events, deals, funnel, backend=backend)


def test_frontier_episodes_follow_their_definition(seeded: EventLog) -> None:
    """A messy log (skips, backward moves, ties, duplicates, lost events, status overrides), on
    every backend, at several cuts: every frontier episode is the definition's, and no other."""
    for cut in _cuts(seeded)[:4]:  # every Spark query costs about a second
        assert got_frontier(seeded, cut) == expected_frontier(seeded, cut)


@st.composite
def tied_logs(draw: st.DrawFn) -> tuple[Any, Any]:
    """Up to four deals on a coarse clock (many events at the same moment), any stage order."""
    names = [*STAGE_NAMES, LOST_NAME]
    rows = [
        (
            draw(st.sampled_from(["a", "b", "c", "d"])),
            draw(st.sampled_from(names)),
            dt.datetime(2024, 3, 1) + dt.timedelta(hours=12 * draw(st.integers(0, 5))),
        )
        for _ in range(draw(st.integers(1, 18)))
    ]
    deals = [
        {
            "deal_id": deal_id,
            "status": draw(st.sampled_from([None, "open", "won", "lost"])),
            "amount": draw(st.sampled_from([None, 10.0, 2500.0])),
        }
        for deal_id in sorted({r[0] for r in rows})
        if draw(st.booleans())
    ]
    return events_table(rows), deals_table(deals) if deals else None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=tied_logs())
def test_tied_logs_follow_the_definition_on_duckdb(data: tuple[Any, Any], funnel: Funnel) -> None:
    """Small logs where stages are often reached at the same moment (the runs the engine reads
    its next frontier stage from): the episodes equal the definition's at every cut."""
    import ibis

    events, deals = data
    log = EventLog.build(events, deals, funnel, backend=ibis.duckdb.connect())
    for cut in _cuts(log):
        assert got_frontier(log, cut) == expected_frontier(log, cut)
