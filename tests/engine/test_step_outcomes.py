"""``step_outcomes(alongside=…)``: breakdowns asked together come from one query and each equals
the breakdown asked alone; a column that is not text keeps its own query and its values' type."""

from __future__ import annotations

import pandas as pd
import pytest
from engine_logs import counted_queries, log_with_a_yes_no_column

from voronka.engine import step_outcomes
from voronka.funnel import Funnel


def test_breakdowns_asked_together_equal_each_asked_alone(
    funnel: Funnel, monkeypatch: pytest.MonkeyPatch
) -> None:
    together, alone = log_with_a_yes_no_column(funnel, 21), log_with_a_yes_no_column(funnel, 21)
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
