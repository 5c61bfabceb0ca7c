"""``step_outcomes(alongside=…)``: breakdowns asked together come from one query and each equals
the breakdown asked alone; a column that is not text keeps its own query and its values' type."""

from __future__ import annotations

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from engine_logs import counted_queries, random_log

from voronka.engine import EventLog, step_outcomes
from voronka.funnel import Funnel


def _log(funnel: Funnel) -> EventLog:
    events, deals = random_log(21, n_deals=90)
    hot = pa.array([None if i % 5 == 0 else i % 2 == 0 for i in range(deals.num_rows)], pa.bool_())
    deals = deals.add_column(deals.num_columns - 1, "hot", hot)
    return EventLog.build(events, deals, funnel, backend=ibis.duckdb.connect())


def test_breakdowns_asked_together_equal_each_asked_alone(
    funnel: Funnel, monkeypatch: pytest.MonkeyPatch
) -> None:
    together, alone = _log(funnel), _log(funnel)
    queries = counted_queries(monkeypatch)
    step_outcomes(together, by="source", alongside=["manager", None, "hot"])
    asked = len(queries)
    got = {b: step_outcomes(together, by=b) for b in ("source", "manager", None, "hot")}
    assert len(queries) == asked  # every breakdown was kept by the first call
    monkeypatch.undo()
    for b, frame in got.items():
        pd.testing.assert_frame_equal(frame, step_outcomes(alone, by=b), obj=str(b))
        assert frame["moved"].sum() > 0 and frame["open"].sum() > 0
    assert {type(v) for v in got["hot"]["segment"] if v is not None} == {bool}
    assert list(got[None].columns) == ["stage_index", "age", "moved", "lost", "open"]
