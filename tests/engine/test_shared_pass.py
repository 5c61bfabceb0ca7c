"""``prefetch_outcomes_and_months``: the step outcomes and the mature months of the same breakdowns
from one query; each frame then equals what ``step_outcomes`` / ``stratified_cohorts`` compute
on their own, and those calls run no query of their own. A column that is not text leaves both to
their own queries."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest
from engine_logs import counted_queries, log_with_a_yes_no_column, random_log

from voronka.engine import (
    EventLog,
    prefetch_outcomes_and_months,
    step_outcomes,
    stratified_cohorts,
)
from voronka.funnel import Funnel

HORIZONS = {0: 3.0, 1: 5.5, 2: float("nan"), 3: 9.0}
SETS = [[], ["source"], ["manager", "source"]]


def test_one_query_gives_what_each_function_computes_alone(
    funnel: Funnel, monkeypatch: pytest.MonkeyPatch
) -> None:
    events, deals = random_log(17, n_deals=120)
    shared = EventLog.build(events, deals, funnel, backend=ibis.duckdb.connect())
    queries = counted_queries(monkeypatch)
    prefetch_outcomes_and_months(shared, [None, "source", "manager"], HORIZONS, SETS)
    assert len(queries) == 1
    outcomes = {b: step_outcomes(shared, by=b) for b in (None, "source", "manager")}
    months = stratified_cohorts(shared, HORIZONS, [], period="month", alongside=SETS)
    strata = {
        tuple(c): stratified_cohorts(shared, HORIZONS, c, alongside=SETS) for c in SETS[1:]
    }
    assert len(queries) == 1  # every frame was kept by the prefetch
    monkeypatch.undo()
    alone = EventLog.build(events, deals, funnel, backend=ibis.duckdb.connect())
    for b, frame in outcomes.items():
        pd.testing.assert_frame_equal(frame, step_outcomes(alone, by=b), obj=str(b))
        assert frame["moved"].sum() > 0 and frame["lost"].sum() > 0 and frame["open"].sum() > 0
    pd.testing.assert_frame_equal(
        months, stratified_cohorts(alone, HORIZONS, [], period="month")
    )
    assert months["mature"].sum() > 0
    for columns, frame in strata.items():
        pd.testing.assert_frame_equal(frame, stratified_cohorts(alone, HORIZONS, list(columns)))
        assert frame[list(columns)].isna().sum().sum() < len(frame)


def test_a_column_that_is_not_text_is_left_to_the_functions(
    funnel: Funnel, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = log_with_a_yes_no_column(funnel, 23)
    queries = counted_queries(monkeypatch)
    prefetch_outcomes_and_months(log, [None, "hot"], HORIZONS, [[], ["hot"]])
    assert queries == []
    step_outcomes(log, by="hot")
    assert len(queries) == 1  # computed now, by its own query
