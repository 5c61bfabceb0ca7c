"""``deal_counts(alongside=…)``: column lists asked together come from one query and each equals
the list asked alone; a list with a column that is not text keeps its own query and its type."""

from __future__ import annotations

import pandas as pd
import pytest
from engine_logs import counted_queries, log_with_a_yes_no_column

from voronka.engine import deal_counts
from voronka.funnel import Funnel


def test_lists_asked_together_equal_each_asked_alone(
    funnel: Funnel, monkeypatch: pytest.MonkeyPatch
) -> None:
    together, alone = log_with_a_yes_no_column(funnel, 23), log_with_a_yes_no_column(funnel, 23)
    queries = counted_queries(monkeypatch)
    lists = [[], ["source"], ["manager"], ["source", "manager"], ["hot"]]
    deal_counts(together, [], alongside=lists[1:])
    assert len(queries) == 2  # the text lists in one query, the yes/no column in its own
    got = {tuple(c): deal_counts(together, c) for c in lists}
    assert len(queries) == 2  # every list was kept by the first call
    monkeypatch.undo()
    for columns, frame in got.items():
        pd.testing.assert_frame_equal(frame, deal_counts(alone, list(columns)), obj=str(columns))
        assert frame["deals"].sum() == got[()]["deals"].sum() > 0  # every deal, once
    assert {type(v) for v in got[("hot",)]["hot"] if v is not None} == {bool}
    assert got[("source", "manager")]["amount_sum"].sum() > 0
