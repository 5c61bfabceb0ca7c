"""Small synthetic engine logs and the names they use (the engine tests import these; a module
of its own: several test folders have a ``conftest``, so none is importable by that name)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from voronka.engine import EventLog
from voronka.funnel import Funnel

BACKENDS = ["duckdb", pytest.param("pyspark", marks=pytest.mark.spark)]

STAGE_NAMES = ["New", "Qualified", "Meeting", "Proposal", "Won"]
LOST_NAME = "Closed lost"
UNKNOWN_NAME = "Thinking it over"
START = dt.datetime(2024, 1, 1, 9, 0, 0)


def events_table(
    rows: list[tuple[Any, ...]], extra: dict[str, list[Any]] | None = None
) -> pa.Table:
    """Canonical events from ``(deal_id, stage, entered_at)`` rows; ``_row`` is 1-based."""
    columns: dict[str, pa.Array] = {
        "deal_id": pa.array([r[0] for r in rows], pa.string()),
        "stage": pa.array([r[1] for r in rows], pa.string()),
        "entered_at": pa.array([r[2] for r in rows], pa.timestamp("us")),
    }
    for name, values in (extra or {}).items():
        columns[name] = pa.array(values)
    columns["_row"] = pa.array(range(1, len(rows) + 1), pa.int64())
    return pa.table(columns)


def deals_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Canonical deals from dicts (``deal_id``, ``created_at``, ``source``, ``manager``,
    ``amount``, ``status``); ``_row`` is 1-based."""
    types = {
        "deal_id": pa.string(),
        "created_at": pa.timestamp("us"),
        "source": pa.string(),
        "manager": pa.string(),
        "amount": pa.float64(),
        "status": pa.string(),
    }
    columns = {name: pa.array([r.get(name) for r in rows], typ) for name, typ in types.items()}
    columns["_row"] = pa.array(range(1, len(rows) + 1), pa.int64())
    return pa.table(columns)


def random_log(seed: int, n_deals: int = 40) -> tuple[pa.Table, pa.Table]:
    """A small random log with every kind of mess: skipped stages, backward moves, duplicate
    events, unknown and aliased stage names, lost events, status overrides, open deals, deals
    without events, events without a deal, duplicate deals, events before creation, ties."""
    rng = np.random.default_rng(seed)
    events: list[tuple[Any, ...]] = []
    deals: list[dict[str, Any]] = []
    sources = ["ads", "seo", "referral", None]
    managers = ["ann", "bob", None]
    for d in range(n_deals):
        deal_id = f"D{d:03d}"
        created = START + dt.timedelta(days=int(rng.integers(0, 70)), hours=int(rng.integers(0, 9)))
        t = created + dt.timedelta(hours=int(rng.integers(0, 48)))
        stage = 0
        n_steps = int(rng.integers(1, 7))
        for _ in range(n_steps):
            name = STAGE_NAMES[stage]
            if rng.random() < 0.1:
                name = f"{name} (old)"
            events.append((deal_id, name, t))
            if rng.random() < 0.08:
                events.append((deal_id, name, t))  # an exact duplicate
            roll = rng.random()
            if roll < 0.1:
                events.append((deal_id, LOST_NAME, t + dt.timedelta(days=1)))
                break
            if roll < 0.15:
                events.append((deal_id, UNKNOWN_NAME, t + dt.timedelta(hours=3)))
            if stage == len(STAGE_NAMES) - 1:
                break
            step = 1 + int(rng.random() < 0.2)  # sometimes skip a stage
            if rng.random() < 0.1 and stage > 0:
                step = -1  # a backward move
            stage = min(max(stage + step, 0), len(STAGE_NAMES) - 1)
            gap = dt.timedelta(hours=int(rng.integers(0, 24 * 9)))  # 0: a tie
            t = t + gap
        if rng.random() < 0.9:  # some deals exist only in the events
            status = rng.choice(["open", "won", "lost", None], p=[0.6, 0.1, 0.1, 0.2])
            deal = {
                "deal_id": deal_id,
                "created_at": None
                if rng.random() < 0.2
                else created
                + dt.timedelta(
                    hours=int(rng.integers(0, 40))  # sometimes after the first event
                ),
                "source": sources[int(rng.integers(0, len(sources)))],
                "manager": managers[int(rng.integers(0, len(managers)))],
                "amount": float(rng.integers(1, 100)) * 1000,
                "status": status,
            }
            deals.append(deal)
            if rng.random() < 0.05:
                deals.append({**deal, "status": "won", "source": "duplicate"})
    for d in range(3):  # deals without events
        deals.append({"deal_id": f"X{d}", "source": "ads", "status": "open"})
    order = rng.permutation(len(events))  # file order is not time order
    return events_table([events[i] for i in order]), deals_table(deals)


def frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as pandas with ``object`` strings (None for null) for the oracle."""
    out = pd.DataFrame(index=pd.RangeIndex(table.num_rows))
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_string(column.type) or pa.types.is_timestamp(column.type):
            out[name] = pd.Series(column.to_pylist(), dtype=object)
        else:
            out[name] = column.to_pandas()
    return out


def arrow_column(values: pd.Series) -> pa.Array:
    """A pandas column of a generated export as the canonical Arrow type (timestamps, floats with
    nulls, everything else as text)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return pa.array(
            [None if pd.isna(v) else v.to_pydatetime() for v in values], pa.timestamp("us")
        )
    if pd.api.types.is_float_dtype(values):
        return pa.array(values.to_numpy(), pa.float64(), from_pandas=True)
    return pa.array([None if pd.isna(v) else str(v) for v in values], pa.string())


def counted_queries(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The expressions the engine runs from now on (``backend._run_arrow`` recorded), until
    ``monkeypatch.undo()``."""
    from voronka.engine import backend as engine_backend

    queries: list[object] = []
    run = engine_backend._run_arrow

    def counted(con: Any, expr: Any) -> Any:
        queries.append(expr)
        return run(con, expr)

    monkeypatch.setattr(engine_backend, "_run_arrow", counted)
    return queries


def counting_compiles(con: Any) -> list[str]:
    """The SQL of every compile the Ibis connection ``con`` does from now on, in a list that
    grows."""
    compiled: list[str] = []
    original = con.compile

    def counting(expr: object, **kwargs: object) -> str:
        sql = str(original(expr, **kwargs))
        compiled.append(sql)
        return sql

    con.compile = counting
    return compiled


def log_with_a_yes_no_column(funnel: Funnel, seed: int, n_deals: int = 90) -> EventLog:
    """A random log on DuckDB whose deals also have a yes/no column ``hot`` (blank every fifth
    deal): a breakdown column that is not text."""
    import ibis

    events, deals = random_log(seed, n_deals=n_deals)
    hot = pa.array([None if i % 5 == 0 else i % 2 == 0 for i in range(deals.num_rows)], pa.bool_())
    deals = deals.add_column(deals.num_columns - 1, "hot", hot)
    return EventLog.build(events, deals, funnel, backend=ibis.duckdb.connect())
