"""The forecast is a function of the data alone: the same export gives the same forecast JSON, to
the last bit, whatever order its rows come in and on every backend (DuckDB, local PySpark).

Its Monte Carlo is seeded, but the rejection samplers of numpy draw a varying number of random
numbers: a rate that differs in its last bit can change one draw and then every later one. A
backend adds the rows of a float sum in whatever order it reads them, so the day sums behind the
rates must not be float sums (they are whole seconds, added as integers) and the money sums are
decimals; the largest open deals break amount ties by deal id.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pytest
from engine_logs import arrow_column

from voronka.audit.backtest import build_forecast
from voronka.audit.serialize import to_plain
from voronka.demo import generate_demo
from voronka.engine import EventLog, MomentSpec, moment_states
from voronka.funnel import Funnel


@pytest.fixture(scope="module")
def export() -> tuple[pa.Table, pa.Table, Funnel]:
    """A demo company (amounts with cents, so money sums are not whole numbers) as the io layer
    hands it over."""
    data = generate_demo(500, seed=5, months=8, end_day=15)
    ev = data.events[data.events["entered_at"].notna()].reset_index(drop=True)
    events = pa.table(
        {
            "deal_id": arrow_column(ev["deal_id"]),
            "stage": arrow_column(ev["stage"]),
            "entered_at": arrow_column(ev["entered_at"]),
            "_row": pa.array(range(1, len(ev) + 1), pa.int64()),
        }
    )
    deals_frame = data.deals.copy()
    cents = np.random.default_rng(5).integers(1, 100, len(deals_frame)) / 100
    deals_frame["amount"] = deals_frame["amount"] + cents
    columns = {c: arrow_column(deals_frame[c]) for c in deals_frame.columns}
    columns["_row"] = pa.array(range(1, len(deals_frame) + 1), pa.int64())
    return events, pa.table(columns), data.funnel


def _shuffled(table: pa.Table, seed: int) -> pa.Table:
    return table.take(pa.array(np.random.default_rng(seed).permutation(table.num_rows)))


def _forecast_json(log: EventLog, funnel: Funnel) -> str:
    result = build_forecast(log, funnel, plan=30, plan_revenue=1e6, n_sims=600, backtest=5)
    assert result.backtest, "the backtest ran"
    return json.dumps(to_plain(result), sort_keys=True, default=str)


def _day_sums(log: EventLog) -> list[np.ndarray]:
    moments = [log.as_of - dt.timedelta(days=d, hours=d) for d in (0, 17, 48, 80)]
    specs = [MomentSpec(m, m.date().replace(day=1)) for m in moments]
    return [s.episodes["days_sum"].to_numpy() for s in moment_states(log, specs)]


def test_the_forecast_does_not_depend_on_row_order(export) -> None:  # type: ignore[no-untyped-def]
    """The same export with its event and deal rows shuffled (three orders): the moment states'
    day sums and the whole forecast JSON (backtest included) are bit-identical."""
    events, deals, funnel = export
    logs = [EventLog.build(events, deals, funnel)]
    logs += [EventLog.build(_shuffled(events, s), _shuffled(deals, s + 1), funnel) for s in (1, 2)]
    sums = [_day_sums(log) for log in logs]
    for other in sums[1:]:
        for a, b in zip(sums[0], other, strict=True):
            assert a.tobytes() == b.tobytes()  # bit for bit, not approximately
    texts = [_forecast_json(log, funnel) for log in logs]
    assert texts[1] == texts[0] and texts[2] == texts[0]


def test_the_forecast_is_the_same_on_every_backend(  # type: ignore[no-untyped-def]
    backend: Any, export
) -> None:
    """The forecast JSON on the backend under test equals the one on a DuckDB of its own, bit
    for bit (with two runs on the backend, the second from the tables it kept)."""
    events, deals, funnel = export
    log = EventLog.build(events, deals, funnel, backend=backend)
    ref = EventLog.build(_shuffled(events, 3), deals, funnel, backend=ibis.duckdb.connect())
    got = _forecast_json(log, funnel)
    assert got == _forecast_json(ref, funnel)
    assert got == _forecast_json(log, funnel)
