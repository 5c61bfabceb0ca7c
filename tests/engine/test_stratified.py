"""``stratified_cohorts``: the mature counts per columns × quarter (or month) × step that the
segment comparisons read, against a pandas count over the per-deal tables; one query serves every
column list asked together."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from engine_logs import counted_queries, random_log

from voronka.engine import EventLog, stratified_cohorts
from voronka.funnel import Funnel

HORIZONS = {0: 3.0, 1: 5.5, 2: float("nan"), 3: 9.0}


@pytest.fixture(scope="module")
def log(funnel: Funnel) -> EventLog:
    events, deals = random_log(12, n_deals=160)
    hot = pa.array([None if i % 7 == 0 else i % 3 == 0 for i in range(deals.num_rows)], pa.bool_())
    deals = deals.add_column(deals.num_columns - 1, "hot", hot)
    return EventLog.build(events, deals, funnel, backend=ibis.duckdb.connect())


def _oracle(log: EventLog, columns: list[str], period: str) -> pd.DataFrame:
    """The same counts in pandas from the per-deal rows (reached_at × deal summary)."""
    reached = log.frame(log.reached_at())
    deals = log.frame(log.deal_summary())[["deal_id", *columns]]
    rows = reached[reached["stage_index"] < log.require_funnel().won_index].merge(deals, on="deal_id")
    horizon = rows["stage_index"].map(HORIZONS).astype(float)
    age = (pd.Timestamp(log.as_of) - pd.to_datetime(rows["reached_at"])).dt.total_seconds() / 86400
    rows = rows[(age >= horizon).to_numpy()].copy()
    at = pd.to_datetime(rows["reached_at"])
    month = 1 if period == "month" else 3
    rows[period] = [dt.date(t.year, month * ((t.month - 1) // month) + 1, 1) for t in at]
    rows["moved"] = rows["next_at"].notna().astype("int64")
    for c in columns:  # text, None for blank, as the engine gives them
        rows[c] = pd.Series(
            [None if pd.isna(v) else str(v).lower() if isinstance(v, (bool, np.bool_)) else str(v)
             for v in rows[c]], index=rows.index, dtype=object)
    keys = [*columns, period, "stage_index"]
    for c in columns:
        rows[c] = rows[c].map(lambda v: "\x00" if v is None else v)
    grouped = rows.groupby(keys)["moved"]
    out = grouped.agg(mature="count", mature_moved="sum").reset_index()
    for c in columns:
        out[c] = [None if v == "\x00" else v for v in out[c]]
    return out


def _records(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    """Rows as sortable tuples, a blank (None, or NaN in a pandas text column) as (True, "")."""
    return sorted(
        tuple((True, "") if v is None or v != v else (False, str(v)) for v in row)
        for row in frame.itertuples(index=False)
    )


@pytest.mark.parametrize(
    ("columns", "period"),
    [([], "month"), ([], "quarter"), (["source"], "quarter"), (["manager", "source"], "quarter"),
     (["hot"], "quarter"), (["manager"], "month")],
)
def test_counts_equal_a_pandas_count(log: EventLog, columns: list[str], period: str) -> None:
    got = stratified_cohorts(log, HORIZONS, columns, period=period)
    assert list(got.columns) == [*columns, period, "stage_index", "mature", "mature_moved"]
    expected = _oracle(log, columns, period)
    assert got["mature"].sum() > 0 and 2 not in set(got["stage_index"])  # no horizon: no row
    assert _records(got) == _records(expected[got.columns])


def test_column_lists_asked_together_share_one_query(
    funnel: Funnel, monkeypatch: pytest.MonkeyPatch
) -> None:
    events, deals = random_log(13, n_deals=80)
    log = EventLog.build(events, deals, funnel, backend=ibis.duckdb.connect())
    queries = counted_queries(monkeypatch)
    together = [[], ["source"], ["manager", "source"]]
    first = stratified_cohorts(log, HORIZONS, ["source"], alongside=together)
    asked = len(queries)
    months = stratified_cohorts(log, HORIZONS, [], period="month", alongside=together)
    strata = stratified_cohorts(log, HORIZONS, ["manager", "source"], alongside=together)
    assert len(queries) == asked  # served by the first query
    alone = EventLog.build(events, deals, funnel, backend=ibis.duckdb.connect())
    pd.testing.assert_frame_equal(first, stratified_cohorts(alone, HORIZONS, ["source"]))
    pd.testing.assert_frame_equal(
        months, stratified_cohorts(alone, HORIZONS, [], period="month")
    )
    pd.testing.assert_frame_equal(
        strata, stratified_cohorts(alone, HORIZONS, ["manager", "source"])
    )
