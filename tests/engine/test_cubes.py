"""The cohort cube (``voronka.engine.cohorts``): every cut equals the direct per-cut query.

DuckDB only: the cube is backend-neutral Ibis, and the Spark suite already runs the cube path
through ``test_modules_on_backends.py::test_stage_cohorts`` against the pandas oracle.
"""

from __future__ import annotations

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from engine_logs import counted_queries, random_log

from voronka.engine import EventLog, cohorts
from voronka.funnel import Funnel

HORIZONS = {0: 3.0, 1: 5.5, 2: float("nan"), 3: 9.0}


@pytest.fixture(scope="module")
def log(funnel: Funnel) -> EventLog:
    events, deals = random_log(11, n_deals=120)
    hot = pa.array([None if i % 7 == 0 else i % 3 == 0 for i in range(deals.num_rows)], pa.bool_())
    deals = deals.add_column(deals.num_columns - 1, "hot", hot)
    return EventLog.build(events, deals, funnel, backend=ibis.duckdb.connect())


def _direct(log: EventLog, by: str | None, period: str | None) -> object:
    """The cut as one query of its own (the path the cube replaced)."""
    keys = [k for k, asked in (("segment", by), ("period", period)) if asked is not None]
    flagged = cohorts.flagged_transitions(log, HORIZONS, {"segment": by} if by else {}, period)
    frame = log.frame(flagged.group_by([*keys, "stage_index"]).agg(**cohorts.count_aggregates(flagged)))
    return cohorts.finish(frame, keys, log.require_funnel().stage_ids)


def test_the_cube_covers_every_segment_column_and_the_funnel(log: EventLog) -> None:
    assert set(cohorts.cube_dims(log)) == {"", "source", "manager", "hot"}
    cube = cohorts.cohort_cube(log, HORIZONS)
    assert set(cube["dim"]) == {"", "source", "manager", "hot"}
    assert cube["reached"].min() >= 1
    assert cohorts.cohort_cube(log, dict(HORIZONS)) is cube  # one query per horizon set


@pytest.mark.parametrize("by", [None, "source", "manager", "hot"])
@pytest.mark.parametrize("period", [None, "week"])
def test_every_cut_equals_the_direct_query(log: EventLog, by: str | None, period: str | None) -> None:
    got = cohorts.stage_cohorts(log, HORIZONS, by=by, period=period)
    expected = _direct(log, by, period)
    assert got.to_dict("records") == expected.to_dict("records")  # type: ignore[attr-defined]
    assert got["reached"].sum() > 0 and got["mature"].sum() > 0
    if by == "hot":
        assert {type(v) for v in got["segment"] if v is not None} == {bool}


def test_a_monthly_cut_is_computed_directly(log: EventLog) -> None:
    assert not cohorts.covers(log, "source", "month")
    got = cohorts.stage_cohorts(log, HORIZONS, by="source", period="month")
    weekly = cohorts.stage_cohorts(log, HORIZONS, by="source", period="week")
    assert got["reached"].sum() == weekly["reached"].sum()
    assert got["period"].map(lambda d: d.day).eq(1).all()


def test_the_horizons_and_funnel_totals_are_kept(
    funnel: Funnel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The maturity section's two queries (horizons, funnel-wide totals) run once per log: a
    second maturity (the sources section builds its own) reads them from the log, and a caller
    changing a returned frame does not change the kept one."""
    events, deals = random_log(13, n_deals=80)
    log = EventLog.build(events, deals, funnel, backend=ibis.duckdb.connect())
    first = cohorts.stage_horizons(log)
    totals = cohorts.stage_cohorts(log, HORIZONS)
    queries = counted_queries(monkeypatch)
    again = cohorts.stage_horizons(log)
    totals_again = cohorts.stage_cohorts(log, dict(HORIZONS))
    assert queries == []
    pd.testing.assert_frame_equal(again, first)
    pd.testing.assert_frame_equal(totals_again, totals)
    assert cohorts.stage_horizons(log, quantile=0.8)["horizon_days"].le(first["horizon_days"]).all()
    assert len(queries) == 1  # another quantile: a query of its own
    again["moved"] = -1
    totals_again["mature"] = -1
    assert (cohorts.stage_horizons(log)["moved"] >= 0).all()
    assert (cohorts.stage_cohorts(log, HORIZONS)["mature"] >= 0).all()
