"""A filtered re-audit (``voronka.engine.filter_log``) equals the audit of an export holding only
the chosen deals' rows (DuckDB; the filter is two semi-joins in backend-neutral Ibis)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from engine_logs import random_log

from voronka import api
from voronka.audit.run import run_audit
from voronka.demo import generate_demo, write_demo
from voronka.engine import EventLog, filter_log, stage_cohorts
from voronka.errors import UsageError
from voronka.funnel import Funnel

HORIZONS = {0: 3.0, 1: 5.0, 2: 8.0, 3: 9.0}
FROM = dt.datetime(2024, 1, 20)


@pytest.fixture(scope="module")
def tables() -> tuple[pa.Table, pa.Table]:
    return random_log(5, n_deals=150)


def _frames(log: EventLog) -> dict[str, pd.DataFrame]:
    return {
        "reach": log.reach(),
        "outcomes": log.outcomes(by="manager"),
        "time": log.time_in_stage(),
        "cohorts": stage_cohorts(log, HORIZONS, by="manager", period="week"),
    }


def test_filtered_log_equals_the_log_of_the_chosen_rows(
    tables: tuple[pa.Table, pa.Table], funnel: Funnel
) -> None:
    events, deals = tables
    log = EventLog.build(events, deals, funnel, backend=ibis.duckdb.connect())
    narrowed = filter_log(log, where={"source": ["ads", None]}, created_from=FROM)

    # The chosen deals, from the per-deal table in pandas: blank or "ads" source, created since.
    summary = log.frame(log.deal_summary())
    pick = summary[
        summary["source"].isin(["ads"]) | summary["source"].isna()
    ]
    pick = pick[pd.to_datetime(pick["created_at"]) >= FROM]
    ids = pa.array(sorted(pick["deal_id"]), pa.string())
    assert 0 < len(ids) < len(summary)
    reference = EventLog.build(
        events.filter(pc.is_in(events["deal_id"], ids)),
        deals.filter(pc.is_in(deals["deal_id"], ids)),
        funnel,
        backend=ibis.duckdb.connect(),
        as_of=log.as_of,
    )
    assert narrowed.as_of == log.as_of
    got, expected = _frames(narrowed), _frames(reference)
    for name in got:
        pd.testing.assert_frame_equal(got[name], expected[name], check_dtype=False, obj=name)
    assert int(got["outcomes"]["deals"].sum()) == len(ids)


def test_an_unknown_column_is_a_usage_error(tables: tuple[pa.Table, pa.Table], funnel: Funnel) -> None:
    events, deals = tables
    log = EventLog.build(events, deals, funnel, backend=ibis.duckdb.connect())
    with pytest.raises(UsageError, match="colour"):
        filter_log(log, where={"colour": "red"})


@pytest.fixture(scope="module")
def demo_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    folder = tmp_path_factory.mktemp("demo")
    files = write_demo(generate_demo(400, seed=5, months=8, end_day=12), folder, fmt="csv")
    inputs = api.read_inputs(files.events, deals=files.deals, spend=files.spend,
                             funnel=files.funnel)
    return api._log_from_inputs(inputs, files.funnel, as_of=None, backend=None), inputs


def test_the_whole_audit_of_a_filtered_log_equals_that_of_the_chosen_rows(
    demo_log: tuple[Any, Any],
) -> None:
    """Every section — data quality included, which reads the raw rows — of the narrowed log
    equals the audit of a log built from the chosen deals' event and deal rows alone."""
    log, inputs = demo_log
    narrowed = filter_log(
        log, where={"manager": ["Иванова Мария", "Попова Елена", None]},
        created_from=dt.date(2025, 8, 1),
    )
    ids = pa.array(sorted(narrowed.frame(narrowed.deal_summary().select("deal_id"))["deal_id"]),
                   pa.string())
    assert 0 < len(ids) < int(log.outcomes()["deals"].sum())
    events, deals = inputs.events.table, inputs.deals.table
    reference = EventLog.build(
        events.filter(pc.is_in(events["deal_id"], ids)),
        deals.filter(pc.is_in(deals["deal_id"], ids)),
        log.require_funnel(),
        as_of=log.as_of,
    )
    got, expected = run_audit(narrowed, inputs.reads), run_audit(reference, inputs.reads)
    assert got.leaks and got.stuck is not None
    for field in dataclasses.fields(got):
        assert getattr(got, field.name) == getattr(expected, field.name), field.name
