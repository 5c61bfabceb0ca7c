"""``reached_at`` sorts its window on a narrowed stage index (``int8`` for the usual line, wider
for a line past 126 stages) and takes a stage's reach as ``LEAST`` of its entry and the next
span's (a deal's last stage has no next span: null, which ``LEAST`` skips): the rows must not
depend on either. A brute-force oracle (the earliest entry into the stage or any later one, and
the next stage's) checks both widths."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from voronka.engine import summary
from voronka.engine.backend import quiet_driver

T0 = dt.datetime(2024, 1, 1)


def _oracle(entered: dict[int, dict[int, dt.datetime]]) -> list[tuple]:
    """Per deal × stage 0 … its highest entered stage: (deal, stage, reached_at, next_at)."""
    rows = []
    for deal, times in entered.items():
        top = max(times)
        reach = [min(t for j, t in times.items() if j >= k) for k in range(top + 1)]
        rows += [(deal, k, reach[k], reach[k + 1] if k < top else None) for k in range(top + 1)]
    return sorted(rows)


@pytest.mark.parametrize("won_index", [4, 130])
def test_reached_at_matches_oracle_at_both_widths(won_index: int) -> None:
    hi = won_index
    entered = {
        1: {0: T0, 2: T0 + dt.timedelta(days=3), hi: T0 + dt.timedelta(days=1)},  # backward in time
        2: {1: T0 + dt.timedelta(days=2)},  # stage 0 skipped
        3: {0: T0, 1: T0 + dt.timedelta(days=1), 3: T0 + dt.timedelta(days=5)},
        4: {hi: T0 + dt.timedelta(days=9)},  # straight to won
    }
    rows = [(d, k, t) for d, times in entered.items() for k, t in times.items()]
    rows += [(5, -2, T0)]  # off the line (lost): no row
    with quiet_driver():
        con = ibis.duckdb.connect()
        stages = con.create_table("stages", pa.table({
            "deal_id": pa.array([r[0] for r in rows], pa.int32()),
            "stage_index": pa.array([r[1] for r in rows], pa.int64()),
            "first_entered_at": pa.array([r[2] for r in rows], pa.timestamp("us")),
        }))
        spans = summary.reach_spans(won_index)
        span_table = con.create_table("spans", pa.table({
            name: pa.array([s[i] for s in spans], pa.int64())
            for i, name in enumerate(("lower", "top", "k"))
        }))
        expr = summary.reached_at(stages, span_table, won_index)
        assert expr.schema()["stage_index"] == ibis.dtype("int64")
        got = expr.execute()
    out = sorted(
        (int(r.deal_id), int(r.stage_index), r.reached_at.to_pydatetime(),
         None if pd.isna(r.next_at) else r.next_at.to_pydatetime())
        for r in got.itertuples()
    )
    assert out == _oracle(entered)
