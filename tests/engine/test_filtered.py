"""A filtered re-audit (``voronka.engine.filter_log``) equals the audit of an export holding only
the chosen deals' rows (DuckDB; the filter is two semi-joins in backend-neutral Ibis)."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from engine_logs import random_log

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
