"""``--as-of`` cuts the data: the audit of a log built with an earlier ``as_of`` equals the audit of
the same data cut at that moment with pandas (events, deals and closings after it removed)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from voronka.audit.backtest import build_forecast
from voronka.demo import DemoEffects, generate_demo
from voronka.engine import EventLog

AS_OF = dt.datetime(2025, 11, 14, 13, 30)


@pytest.fixture(scope="module")
def demo() -> tuple[pd.DataFrame, pd.DataFrame, object]:
    data = generate_demo(3000, seed=3, months=12, effects=DemoEffects(data_errors=False))
    events = data.events.drop(columns=["entered_at_text"]).dropna(subset=["entered_at"])
    return events, data.deals, data.funnel


def pandas_cut(events: pd.DataFrame, deals: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The data as it stood at AS_OF, written independently of the engine."""
    late_deals = set(deals.loc[deals["created_at"] > AS_OF, "deal_id"])
    ev = events[(events["entered_at"] <= AS_OF) & ~events["deal_id"].isin(late_deals)]
    dl = deals[deals["created_at"] <= AS_OF].copy()
    reopen = dl["closed_at"] > AS_OF
    dl.loc[reopen, "status"] = None
    dl.loc[reopen, "lost_reason"] = None
    dl.loc[reopen, "closed_at"] = pd.NaT
    return ev.reset_index(drop=True), dl.reset_index(drop=True)


def test_as_of_gives_exactly_the_totals_of_the_data_cut_at_that_moment(demo) -> None:  # type: ignore[no-untyped-def]
    events, deals, funnel = demo
    assert events["entered_at"].max() > AS_OF + dt.timedelta(days=60)  # a real cut
    whole = EventLog.build(events, deals, funnel, as_of=AS_OF)
    ev_cut, dl_cut = pandas_cut(events, deals)
    cut = EventLog.build(ev_cut, dl_cut, funnel, as_of=AS_OF)
    pd.testing.assert_frame_equal(whole.reach(), cut.reach())
    pd.testing.assert_frame_equal(whole.outcomes(), cut.outcomes())
    pd.testing.assert_frame_equal(whole.time_in_stage(), cut.time_in_stage())
    # Directly against pandas: deals counted, won and lost as of the cut.
    totals = whole.outcomes().iloc[0]
    assert int(totals["deals"]) == dl_cut["deal_id"].isin(ev_cut["deal_id"]).sum()
    assert int(totals["won"]) == (dl_cut["status"] == "won").sum()
    assert int(totals["lost"]) == (dl_cut["status"] == "lost").sum()
    # What was set aside is counted, row for row.
    info = whole.as_of_cut
    assert info is not None
    late_ids = set(deals.loc[deals["created_at"] > AS_OF, "deal_id"])
    assert info.events_after == int((events["entered_at"] > AS_OF).sum())
    assert info.events_of_later_deals == int(
        ((events["entered_at"] <= AS_OF) & events["deal_id"].isin(late_ids)).sum()
    )
    assert info.deals_after == len(late_ids) > 0
    assert info.closings_undone == int((deals["closed_at"] > AS_OF).sum() - 0) - int(
        ((deals["closed_at"] > AS_OF) & (deals["created_at"] > AS_OF)).sum()
    )
    assert info.closings_undone > 0


def test_the_forecast_as_of_sees_only_the_past(demo) -> None:  # type: ignore[no-untyped-def]
    """Wins so far in the month and the backtest are those of the cut data."""
    events, deals, funnel = demo
    whole = EventLog.build(events, deals, funnel, as_of=AS_OF)
    ev_cut, dl_cut = pandas_cut(events, deals)
    cut = EventLog.build(ev_cut, dl_cut, funnel, as_of=AS_OF)
    a = build_forecast(whole, funnel, plan=40, n_sims=400, backtest=3)
    b = build_forecast(cut, funnel, plan=40, n_sims=400, backtest=3)
    assert a.won_so_far == b.won_so_far
    november = (dl_cut["status"] == "won") & (dl_cut["closed_at"] >= pd.Timestamp(2025, 11, 1))
    assert a.won_so_far == int(november.sum())
    assert [m.actual for m in a.backtest] == [m.actual for m in b.backtest]
    assert a.p_plan == b.p_plan


def test_the_data_quality_section_says_how_many_rows_were_set_aside(demo) -> None:  # type: ignore[no-untyped-def]
    import pyarrow as pa

    from voronka.audit.quality_section import build_data_quality
    from voronka.io import ReadResult

    events, deals, funnel = demo
    whole = EventLog.build(events, deals, funnel, as_of=AS_OF)
    info = whole.as_of_cut
    assert info is not None
    reads = {
        "events": ReadResult("events.csv", pa.Table.from_pandas(events), len(events)),
        "deals": ReadResult("deals.csv", pa.Table.from_pandas(deals), len(deals)),
    }
    quality = build_data_quality(reads, whole)
    kinds = {i.kind: i for i in quality.issues}
    assert kinds["after_as_of"].count == info.events_after
    assert kinds["after_as_of"].excluded
    assert kinds["created_after_as_of"].count == info.deals_after
    assert kinds["closed_after_as_of"].count == info.closings_undone
    for file in ("events.csv", "deals.csv"):
        assert quality.rows_read[file] == quality.rows_used[file] + quality.rows_rejected[file]
    assert quality.rows_used["deals.csv"] == len(deals) - info.deals_after
    assert quality.rows_used["events.csv"] == len(events) - info.events_set_aside


def test_an_as_of_after_the_data_changes_nothing(demo) -> None:  # type: ignore[no-untyped-def]
    events, deals, funnel = demo
    late = events["entered_at"].max() + pd.Timedelta(days=1)
    log = EventLog.build(events, deals, funnel, as_of=late.to_pydatetime())
    info = log.as_of_cut
    assert info is not None
    assert info.events_set_aside == info.deals_after == info.closings_undone == 0


def test_as_of_cuts_tables_on_the_backend_too(demo) -> None:  # type: ignore[no-untyped-def]
    """``--engine``: the same cut as Ibis expressions over backend tables gives the same totals
    and the same counts of what was set aside."""
    import ibis
    import pyarrow as pa

    from voronka.engine.backend import quiet_driver
    from voronka.engine.sources import open_sources

    events, deals, funnel = demo
    con = ibis.duckdb.connect()
    ev_cols = ["deal_id", "stage", "entered_at"]
    de_cols = ["deal_id", "created_at", "status", "closed_at", "amount"]
    with quiet_driver():
        con.create_table("ev", pa.Table.from_pandas(events[ev_cols], preserve_index=False))
        con.create_table("de", pa.Table.from_pandas(deals[de_cols], preserve_index=False))
    on_backend = open_sources(con, "ev", deals="de").log(AS_OF).with_funnel(funnel)
    arrow = EventLog.build(events[["deal_id", "stage", "entered_at"]],
                           deals[["deal_id", "created_at", "status", "closed_at", "amount"]],
                           funnel, as_of=AS_OF)
    pd.testing.assert_frame_equal(on_backend.reach(), arrow.reach())
    pd.testing.assert_frame_equal(on_backend.outcomes(), arrow.outcomes())
    assert on_backend.as_of_cut == arrow.as_of_cut
