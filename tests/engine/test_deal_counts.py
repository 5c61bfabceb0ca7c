"""``deal_counts(alongside=…)``: column lists asked together come from one query and each equals
the list asked alone; a list with a column that is not text keeps its own query and its type."""

from __future__ import annotations

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from engine_logs import counted_queries, random_log

from voronka.engine import EventLog, deal_counts
from voronka.funnel import Funnel


def _log(funnel: Funnel) -> EventLog:
    events, deals = random_log(23, n_deals=90)
    hot = pa.array([None if i % 5 == 0 else i % 2 == 0 for i in range(deals.num_rows)], pa.bool_())
    deals = deals.add_column(deals.num_columns - 1, "hot", hot)
    return EventLog.build(events, deals, funnel, backend=ibis.duckdb.connect())


def test_lists_asked_together_equal_each_asked_alone(
    funnel: Funnel, monkeypatch: pytest.MonkeyPatch
) -> None:
    together, alone = _log(funnel), _log(funnel)
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
