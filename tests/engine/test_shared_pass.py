"""``prefetch_outcomes_and_months``: the step outcomes, the mature months and (asked) the weekly
cohort cube of the same breakdowns from one query; each frame then equals what ``step_outcomes`` /
``stratified_cohorts`` / ``stage_cohorts`` compute on their own, and those calls run no query of
their own. A column that is not text leaves all to their own queries."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest
from engine_logs import counted_queries, log_with_a_yes_no_column, random_log

from voronka.engine import (
    EventLog,
    cohorts,
    prefetch_outcomes_and_months,
    stage_cohorts,
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


SETTLED = {0: 20.0, 1: 30.5, 3: 40.0}


def _plain_cohorts(log: EventLog, by: str | None) -> pd.DataFrame:
    """The weekly stage cohorts of ``by`` as one grouped query of the flagged transitions: the
    definition the cube is tested against (tests/engine/test_cubes.py, and against the pandas
    oracle in test_modules_on_backends.py)."""
    keys = [*(["segment"] if by else []), "period"]
    flagged = cohorts.flagged_transitions(log, SETTLED, {"segment": by} if by else {}, "week")
    grouped = flagged.group_by([*keys, "stage_index"]).agg(**cohorts.count_aggregates(flagged))
    return cohorts.finish(log.frame(grouped), keys, log.require_funnel().stage_ids)


def test_the_weekly_cohorts_ride_along_and_equal_their_definition(
    backend: object, funnel: Funnel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``cohorts`` (a horizon set), the same one query also gives the weekly cohort cube of
    the breakdowns (and funnel-wide): ``stage_cohorts`` then runs no query, and every frame equals
    the plain grouped query on this backend."""
    events, deals = random_log(29, n_deals=150)
    log = EventLog.build(events, deals, funnel, backend=backend)
    assert {"source", "manager"} <= set(log.segment_columns())  # its own query, kept
    queries = counted_queries(monkeypatch)
    prefetch_outcomes_and_months(log, [None, "source", "manager"], HORIZONS, SETS, cohorts=SETTLED)
    assert len(queries) == 1
    got = {by: stage_cohorts(log, SETTLED, by=by, period="week") for by in (None, "source", "manager")}
    assert len(queries) == 1  # kept by the prefetch: no cube query of its own
    monkeypatch.undo()
    for by, frame in got.items():
        pd.testing.assert_frame_equal(frame, _plain_cohorts(log, by), obj=str(by))
        assert frame["mature"].sum() > 0 and frame["moved_in_horizon"].sum() > 0
        assert frame["mature"].sum() < frame["reached"].sum()  # the horizons leave some out


def test_the_weekly_cohorts_alone_make_the_pass_worth_it(
    funnel: Funnel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Months already kept: the outcomes and the cube still share one query. A breakdown the
    pass did not compute comes from the whole cube."""
    events, deals = random_log(31, n_deals=120)
    log = EventLog.build(events, deals, funnel, backend=ibis.duckdb.connect())
    stratified_cohorts(log, HORIZONS, [], period="month", alongside=SETS)
    log.segment_columns()
    queries = counted_queries(monkeypatch)
    prefetch_outcomes_and_months(log, [None, "source"], HORIZONS, SETS, cohorts=SETTLED)
    assert len(queries) == 1
    step_outcomes(log, by="source")
    frame = stage_cohorts(log, SETTLED, by="source", period="week")
    assert len(queries) == 1
    # A breakdown the pass did not compute: the whole cube, by its own query, keeps the rest.
    other = stage_cohorts(log, SETTLED, by="manager", period="week")
    assert len(queries) == 2
    monkeypatch.undo()
    pd.testing.assert_frame_equal(frame, _plain_cohorts(log, "source"))
    pd.testing.assert_frame_equal(other, _plain_cohorts(log, "manager"))
    assert stage_cohorts(log, SETTLED, by="source", period="week").equals(frame)
