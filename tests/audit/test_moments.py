"""The funnel's state at several moments in one pass, against the log truncated at each moment.

Reference: for each moment, the frontier episodes of the log as it stood then
(``flow.episodes_table(log, moment)``: events, reach times and closings after the moment ignored),
pulled row by row and histogrammed with pandas (buckets by ``numpy.searchsorted``); arrivals, wins
so far and amount quantiles counted with pandas from the demo's own tables. The demo data keeps its
planted data-entry errors (events after the closing, duplicates, unknown stages), so the
truncation's special cases are exercised.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from voronka.demo import generate_demo
from voronka.engine import EventLog
from voronka.engine.flow import DEFAULT_EDGES, episodes_table
from voronka.engine.moments import MomentSpec, moment_state, moment_states

KEYS = ["stage_index", "bucket", "to_index", "recent", "fresh"]


@pytest.fixture(scope="module")
def demo() -> tuple[EventLog, pd.DataFrame]:
    data = generate_demo(5000, seed=3)
    events = data.events.drop(columns=["entered_at_text"]).dropna(subset=["entered_at"])
    return EventLog.build(events, data.deals, data.funnel, as_of=data.as_of), data.deals


def truncated_histogram(log: EventLog, cut: dt.datetime, history_days: int) -> pd.DataFrame:
    ep = episodes_table(log, cut)
    rows = log.frame(ep.select("stage_index", "to_index", "started_at", "days"))
    rows["bucket"] = np.searchsorted(DEFAULT_EDGES, rows["days"], side="right") - 1
    rows["bucket"] = rows["bucket"].clip(lower=0)
    rows["recent"] = rows["started_at"] >= pd.Timestamp(cut - dt.timedelta(days=history_days))
    rows["fresh"] = rows["started_at"] >= pd.Timestamp(cut - dt.timedelta(days=91))
    out = rows.groupby(KEYS, as_index=False).agg(deals=("days", "size"), days_sum=("days", "sum"))
    return out.sort_values(KEYS).reset_index(drop=True)


def test_moment_states_equal_the_log_truncated_at_each_moment(demo) -> None:  # type: ignore[no-untyped-def]
    """Five moments (two at noon, one at as_of, one a second after a midnight): every snapshot's
    episode histogram equals the truncated log's, cell by cell."""
    log, _ = demo
    as_of = log.as_of
    moments = [
        as_of - dt.timedelta(days=200, hours=12),
        as_of - dt.timedelta(days=95),
        as_of - dt.timedelta(days=40, hours=12),
        dt.datetime.combine(as_of.date(), dt.time()) - dt.timedelta(days=10, seconds=-1),
        as_of,
    ]
    specs = [MomentSpec(m, m.date().replace(day=1)) for m in moments]
    snapshots = moment_states(log, specs, history_days=120)
    for moment, snap in zip(moments, snapshots, strict=True):
        assert snap.as_of == moment
        got = snap.episodes.sort_values(KEYS).reset_index(drop=True)
        want = truncated_histogram(log, moment, 120)
        assert got[KEYS + ["deals"]].to_numpy().tolist() == want[KEYS + ["deals"]].to_numpy(
        ).tolist()
        assert got["days_sum"].to_numpy() == pytest.approx(want["days_sum"].to_numpy())
        assert (got["to_index"] == -2).any()  # some deals were open then


def test_arrivals_wins_and_amounts_per_moment(demo) -> None:  # type: ignore[no-untyped-def]
    """For a mid-month moment: arrivals per day equal the deals whose first usable event fell on
    that day (pandas over the engine's reach table), won_in_period the deals won from the 1st up
    to the moment (pandas over the demo deals), the amount quantiles those of the year's wins."""
    log, deals = demo
    cut = dt.datetime.combine(log.as_of.date(), dt.time()) - dt.timedelta(days=45, hours=-12)
    start = cut.date().replace(day=1)
    snap = moment_states(log, [MomentSpec(log.as_of, start), MomentSpec(cut, start)])[1]
    alone = moment_state(log, period_start=start, as_of=cut)
    assert alone.won_in_period == snap.won_in_period and alone.arrivals.equals(snap.arrivals)
    assert alone.episodes[KEYS + ["deals"]].equals(snap.episodes[KEYS + ["deals"]])
    reached = log.frame(log.reached_at().select("deal_id", "stage_index", "reached_at"))
    first = reached.groupby("deal_id")["reached_at"].transform("min")
    heads = reached[reached["reached_at"] == first].groupby("deal_id").agg(
        started=("reached_at", "first"), stage_index=("stage_index", "max")
    )
    day1 = pd.Timestamp(cut.date())
    window = heads[(heads["started"] >= day1 - pd.Timedelta(days=56)) & (heads["started"] < day1)]
    want = window.assign(day=window["started"].dt.date).groupby(["day", "stage_index"]).size()
    got = snap.arrivals.set_index(["day", "stage_index"])["deals"]
    assert got.to_dict() == want.to_dict()
    won = deals[(deals["status"] == "won") & deals["closed_at"].notna()]
    won_at = pd.to_datetime(won["closed_at"])
    in_period = won[(won_at >= pd.Timestamp(start)) & (won_at <= pd.Timestamp(cut))]
    assert snap.won_in_period == len(in_period)
    assert snap.won_amount_in_period == pytest.approx(in_period["amount"].sum())
    year = won[(won_at >= pd.Timestamp(cut - dt.timedelta(days=365))) & (won_at <= pd.Timestamp(cut))]
    assert snap.amount_quantiles is not None
    assert snap.amount_quantiles[50] == pytest.approx(year["amount"].median())
