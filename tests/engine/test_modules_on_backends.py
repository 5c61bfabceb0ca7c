"""The engine's aggregate modules (cohorts, hygiene, flow, moments) on DuckDB and on PySpark.

Every public function of ``voronka.engine.cohorts``, ``volumes``, ``hygiene`` and ``flow`` (and the forecast's
``moments.moment_states``) runs on each ``backend`` over two small logs:

* ``demo``: the demo company (400 deals over six months, deals table with amounts, closing times,
  meeting fields and planted data errors), taken as the io layer would hand it over;
* ``messy``: the engine tests' random log (skips, backward moves, duplicates, ties, lost events,
  deals known only from events), without a deals table — attributes (``manager`` with blanks,
  ``status``) come from the event rows, there are no amounts — and with a funnel that has a stage
  after the won one (the random log's ``Thinking it over`` events).

Each result is checked twice: (1) against a plain pandas/Python computation written from the
definitions in the functions' docstrings, per deal, on the per-deal facts of ``engine_oracle``
(itself tested against the engine in ``test_engine_oracle.py``) — every function but the
moments, whose own suite (tests/audit/test_moments.py) checks it against the truncated log —
and (2) against the same function on a DuckDB log of the same data: the same rows after sorting,
floats to 1e-9. Each function is called once per log on Spark (about half a second a call).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import engine_oracle as oracle_mod
import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from engine_logs import LOST_NAME, STAGE_NAMES, UNKNOWN_NAME, arrow_column, frame, random_log

from voronka.demo import generate_demo
from voronka.engine import EventLog, cohorts, flow, hygiene, outcomes, volumes
from voronka.engine.moments import MomentSpec, moment_states
from voronka.funnel import LOST, Funnel, Stage

DAY = 86_400.0


# -- the logs --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One log: its Arrow tables, funnel, and the parameters the functions are called with."""

    name: str
    events: pa.Table
    deals: pa.Table | None
    funnel: Funnel
    segment: str  # a deal column for ``by``
    limits: Mapping[int, float]  # stuck limits (stage index → days)
    requires: Mapping[int, tuple[str, ...]]  # entry requirements (stage index → columns)
    horizons: Mapping[int, float]  # maturity horizons (stage index → days)
    facts: Facts = field(repr=False)


@dataclass(frozen=True)
class Facts:
    """Per-deal facts of a log, computed in Python from the raw rows (the oracle's input)."""

    deals: pd.DataFrame  # engine_oracle's deals + won_at, lost_at, last_event_at, closed_at
    reached: pd.DataFrame  # deal_id, stage_index, reached_at (line stages)
    left: pd.DataFrame  # deal_id, stage_index (≥ 0), left_at: first other-stage event after entry
    as_of: dt.datetime
    has_amount: bool


def _demo_case() -> Case:
    data = generate_demo(400, seed=3, months=6, end_day=15)
    ev = data.events[data.events["entered_at"].notna()].reset_index(drop=True)  # io rejects NaT
    events = pa.table(
        {
            "deal_id": arrow_column(ev["deal_id"]),
            "stage": arrow_column(ev["stage"]),
            "entered_at": arrow_column(ev["entered_at"]),
            "_row": pa.array(range(1, len(ev) + 1), pa.int64()),
        }
    )
    columns = {c: arrow_column(data.deals[c]) for c in data.deals.columns}
    columns["_row"] = pa.array(range(1, len(data.deals) + 1), pa.int64())
    deals = pa.table(columns)
    funnel = data.funnel
    requires = {i: tuple(s.requires) for i, s in enumerate(funnel.stages) if s.requires}
    requires[4] = ("manager", "lost_reason", "no_such_column")
    requires[6] = ("no_such_column",)  # nothing checkable: no row
    return _case("demo", events, deals, funnel, "source", requires)


def _messy_case() -> Case:
    events, _ = random_log(11, n_deals=80)
    rng = np.random.default_rng(11)
    deal_ids = events.column("deal_id").to_pylist()
    status_of = {d: rng.choice(["won", "lost", "open", "LOST"]) for d in sorted(set(deal_ids))}
    managers = ["ann", "bob", "  ", "\t ", None]
    events = events.append_column(
        "manager", pa.array([managers[int(rng.integers(0, 5))] for _ in deal_ids], pa.string())
    ).append_column(
        "status",
        pa.array([str(status_of[d]) if rng.random() < 0.3 else None for d in deal_ids]),
    )
    funnel = Funnel(
        name="messy",
        stages=(
            *(Stage(id=n.lower(), name=n, aliases=(f"{n} (old)",)) for n in STAGE_NAMES),
            Stage(id="thinking", name=UNKNOWN_NAME),  # after the won stage: off the line
        ),
        won_stage="won",
        lost_names=(LOST_NAME,),
        language="en",
    )
    requires = {2: ("manager", "status"), 5: ("manager",), 1: ("no_such_column",)}
    return _case("messy", events, None, funnel, "manager", requires)


def _case(
    name: str,
    events: pa.Table,
    deals: pa.Table | None,
    funnel: Funnel,
    segment: str,
    requires: Mapping[int, tuple[str, ...]],
) -> Case:
    probe = EventLog.build(events, deals, funnel)  # only for as_of (the latest timestamp)
    n = len(funnel.stages)
    return Case(
        name=name,
        events=events,
        deals=deals,
        funnel=funnel,
        segment=segment,
        limits={i: 1.5 + 2.0 * i for i in range(0, n, 2)},  # odd stages have no limit
        requires=requires,
        # stage 1 has no horizon (nobody mature), stage 2 a NaN one (likewise)
        horizons={k: 2.0 + 1.5 * k for k in range(funnel.won_index) if k != 1} | {2: float("nan")},
        facts=_facts(events, deals, funnel, probe.as_of),
    )


def _none(v: object) -> object:
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _sequences(events: pd.DataFrame, funnel: Funnel) -> dict[str, list[tuple[dt.datetime, int]]]:
    """Per deal, its usable events as (time, stage index; lost −1) in the engine's order: known
    stage names only, duplicates (deal, stage, time) dropped, by time, then index, then row."""
    index_of = {sid: i for i, sid in enumerate(funnel.stage_ids)}
    out: dict[str, list[tuple[dt.datetime, int, int]]] = defaultdict(list)
    seen: set[tuple[str, int, dt.datetime]] = set()
    for row in events.sort_values("_row").to_dict("records"):
        stage = funnel.match(row["stage"]) if _none(row["stage"]) is not None else None
        if stage is None:
            continue
        idx = -1 if stage == LOST else index_of[stage]
        key = (row["deal_id"], idx, row["entered_at"])
        if key in seen:
            continue
        seen.add(key)
        out[row["deal_id"]].append((row["entered_at"], idx, int(row["_row"])))
    return {d: [(t, i) for t, i, _ in sorted(seq)] for d, seq in out.items()}


def _facts(events: pa.Table, deals: pa.Table | None, funnel: Funnel, as_of: dt.datetime) -> Facts:
    ev, de = frame(events), None if deals is None else frame(deals)
    base = oracle_mod.compute(ev, de, funnel, as_of)
    seqs = _sequences(ev, funnel)
    won = funnel.won_index
    d = base.deals.copy()
    extra: dict[str, list[object]] = defaultdict(list)
    left: list[tuple[str, int, dt.datetime]] = []
    for rec in d.to_dict("records"):
        seq = seqs[rec["deal_id"]]
        won_at = min((t for t, i in seq if i == won), default=None)
        lost_at = min((t for t, i in seq if i == -1), default=None)
        last = max(t for t, _ in seq)
        derived = {"won": won_at or last, "lost": lost_at or last}.get(str(rec["outcome"]))
        given = _none(rec.get("closed_at"))
        extra["won_at"].append(won_at)
        extra["lost_at"].append(lost_at)
        extra["last_event_at"].append(last)
        extra["closed_at"].append(given if given is not None else derived)
        for k in {i for _, i in seq if i >= 0}:
            first = next(p for p, (_, i) in enumerate(seq) if i == k)
            after = next((t for t, i in seq[first + 1 :] if i != k), None)
            if after is not None:
                left.append((rec["deal_id"], k, after))
    for name, values in extra.items():
        d[name] = pd.Series(values, dtype=object, index=d.index)
    return Facts(
        deals=d,
        reached=base.reached_at,
        left=pd.DataFrame(left, columns=["deal_id", "stage_index", "left_at"]),
        as_of=as_of,
        has_amount="amount" in d.columns,
    )


@pytest.fixture(scope="module", params=["demo", "messy"])
def case(request: pytest.FixtureRequest) -> Case:
    """The two logs (built once per module)."""
    return _demo_case() if request.param == "demo" else _messy_case()


@pytest.fixture(scope="module")
def log(backend: Any, case: Case) -> EventLog:
    """The case's log on the backend under test."""
    return EventLog.build(case.events, case.deals, case.funnel, backend=backend)


@pytest.fixture(scope="module")
def ref(case: Case) -> EventLog:
    """The case's log on a DuckDB connection of its own: the reference for the other backends."""
    return EventLog.build(case.events, case.deals, case.funnel, backend=ibis.duckdb.connect())


# -- comparing -------------------------------------------------------------------------------
def _plain(v: object) -> object:
    """A cell as a plain Python value: None for any null, numpy scalars unwrapped."""
    v = _none(v)
    if isinstance(v, np.generic):
        v = v.item()
        return None if isinstance(v, float) and math.isnan(v) else v
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v


def _close(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _sort_key(row: tuple[object, ...]) -> tuple[object, ...]:
    # None first, floats rounded (a last-digit difference must not reorder rows), rest as text
    return tuple(
        (v is None, round(v, 6) if isinstance(v, float) else 0, str(v) if v is not None else "")
        for v in row
    )


def rows(table: pd.DataFrame) -> list[tuple[object, ...]]:
    """A frame's rows as tuples of plain values, sorted."""
    out = [tuple(_plain(v) for v in r) for r in table.itertuples(index=False, name=None)]
    return sorted(out, key=_sort_key)


def assert_same_rows(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Same columns, and the same rows after sorting (floats to 1e-9)."""
    assert list(got.columns) == list(ref.columns)
    a, b = rows(got), rows(ref)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert all(_close(u, v) for u, v in zip(x, y, strict=True)), (x, y)


def assert_records(
    got: pd.DataFrame, expected: Mapping[tuple[object, ...], Mapping[str, object]], keys: list[str]
) -> None:
    """``got`` keyed by ``keys`` equals ``expected`` ({key tuple: {column: value}}), floats to
    1e-9, NaN equal to NaN/None."""
    actual = {tuple(_plain(r[k]) for k in keys): r for r in got.to_dict("records")}
    assert set(actual) == set(expected)
    for key, want in expected.items():
        for col, value in want.items():
            have = _plain(actual[key][col])
            assert _close(have, _plain(value)), (key, col, have, value)


def _quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (pandas' and numpy's default), NaN for no values."""
    return float(np.quantile(values, q)) if len(values) else math.nan


def _period(t: dt.datetime, period: str) -> dt.date:
    return oracle_mod.period_of(t, period)


def _reached_map(facts: Facts) -> dict[tuple[str, int], dt.datetime]:
    return {
        (d, int(k)): t
        for d, k, t in facts.reached[["deal_id", "stage_index", "reached_at"]].itertuples(
            index=False, name=None
        )
    }


def _deal_map(facts: Facts) -> dict[str, dict[str, Any]]:
    return {r["deal_id"]: r for r in facts.deals.to_dict("records")}


def _won_time(deal: Mapping[str, Any]) -> dt.datetime:
    return deal["won_at"] if deal["won_at"] is not None else deal["closed_at"]


# -- cohorts ---------------------------------------------------------------------------------
def test_stage_horizons(log: EventLog, ref: EventLog, case: Case) -> None:
    """Per stage before the won one: deals that moved on and the median/p90/p99 of the days it
    took, against numpy's linear quantiles over the per-deal reach times."""
    got = cohorts.stage_horizons(log)
    assert_same_rows(got, cohorts.stage_horizons(ref))
    reached = _reached_map(case.facts)
    expected = {}
    for k in range(case.funnel.won_index):
        days = [
            (reached[(d, k + 1)] - t).total_seconds() / DAY
            for (d, i), t in reached.items()
            if i == k and (d, k + 1) in reached
        ]
        expected[(k,)] = {
            "stage_id": case.funnel.stage_ids[k],
            "moved": len(days),
            "median_days": _quantile(days, 0.5),
            "horizon_days": _quantile(days, 0.9),
            "settled_days": _quantile(days, 0.99),
        }
    assert_records(got, expected, ["stage_index"])


def _expected_cohorts(case: Case, by: str | None, period: str | None) -> dict[Any, dict[str, int]]:
    facts, won = case.facts, case.funnel.won_index
    reached, deals = _reached_map(facts), _deal_map(facts)
    out: dict[tuple[object, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (d, k), t in reached.items():
        if k >= won:
            continue
        deal = deals[d]
        nxt = reached.get((d, k + 1))
        h = case.horizons.get(k)
        h_s = h * DAY if h is not None and math.isfinite(h) else None
        mature = h_s is not None and (facts.as_of - t).total_seconds() >= h_s
        moved = nxt is not None
        key = (
            *([_none(deal[by])] if by else []),
            *([_period(t, period)] if period else []),
            k,
        )
        c = out[key]
        c["reached"] += 1
        c["moved"] += moved
        c["mature"] += mature
        c["mature_moved"] += mature and moved
        c["moved_in_horizon"] += (
            mature and moved and h_s is not None and (nxt - t).total_seconds() <= h_s
        )
        c["won"] += deal["outcome"] == "won"
        c["closed"] += deal["outcome"] in ("won", "lost")
    return {k: dict(v) for k, v in out.items()}


# No month variant: month truncation is the same Ibis operation as lead_volume's (one Spark
# query saved per log).
@pytest.mark.parametrize("variant", ["plain", "segment_week"])
def test_stage_cohorts(log: EventLog, ref: EventLog, case: Case, variant: str) -> None:
    """Raw and mature transition counts per [segment] × [entry period] × stage, against a per
    deal × stage loop (mature: ``as_of − reached ≥ horizon``; missing/NaN horizon: never)."""
    by = case.segment if variant == "segment_week" else None
    period = "week" if variant == "segment_week" else None
    got = cohorts.stage_cohorts(log, case.horizons, by=by, period=period)
    assert_same_rows(got, cohorts.stage_cohorts(ref, case.horizons, by=by, period=period))
    keys = [*(["segment"] if by else []), *(["period"] if period else []), "stage_index"]
    assert list(got.columns[: len(keys)]) == keys
    expected = _expected_cohorts(case, by, period)
    assert_records(got, expected, keys)
    assert got["mature"].sum() > 0 and got["moved_in_horizon"].sum() > 0  # the data exercises it


def test_deal_counts(log: EventLog, ref: EventLog, case: Case) -> None:
    """Deals per segment × furthest stage × outcome with amount count/sum/sum of squares,
    against a pandas group-by of the per-deal facts (amounts zero without an amount column)."""
    got = volumes.deal_counts(log, [case.segment])
    assert_same_rows(got, volumes.deal_counts(ref, [case.segment]))
    expected: dict[tuple[object, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for deal in case.facts.deals.to_dict("records"):
        top = _none(deal["max_stage_index"])
        key = (_none(deal[case.segment]), -1 if top is None else int(top), deal["outcome"])
        e = expected[key]
        e["deals"] += 1
        amount = _none(deal.get("amount"))
        if amount is not None:
            e["amount_n"] += 1
            e["amount_sum"] += amount
            e["amount_sumsq"] += amount * amount
        else:
            e["amount_n"] += 0
            e["amount_sum"] += 0.0
            e["amount_sumsq"] += 0.0
    assert_records(got, expected, [case.segment, "max_stage_index", "outcome"])
    assert (got["amount_n"].sum() > 0) == case.facts.has_amount


@pytest.mark.parametrize(("by", "period"), [(True, "week"), (False, "month")])
def test_lead_volume(log: EventLog, ref: EventLog, case: Case, by: bool, period: str) -> None:
    """Deals created per [segment] × period with zeros kept and each period's exposure (days
    between the first creation and ``as_of``), against a calendar walk in Python."""
    column = case.segment if by else None
    got = volumes.lead_volume(log, by=column, period=period)
    assert_same_rows(got, volumes.lead_volume(ref, by=column, period=period))
    deals = case.facts.deals
    created = list(deals["created_at"])
    start, end = min(created), case.facts.as_of
    grid: list[tuple[dt.date, float]] = []
    p = _period(start, period)
    while True:
        p_start = dt.datetime.combine(p, dt.time())
        if p_start > end:
            break
        nxt = (
            p + dt.timedelta(days=7)
            if period == "week"
            else (
                p.replace(year=p.year + 1, month=1)
                if p.month == 12
                else p.replace(month=p.month + 1)
            )
        )
        exposure = min(dt.datetime.combine(nxt, dt.time()), end) - max(p_start, start)
        if exposure.total_seconds() > 0:
            grid.append((p, exposure.total_seconds() / DAY))
        p = nxt
    segments = {_none(v) for v in deals[case.segment]} if column else {None}
    counts: dict[tuple[object, dt.date], int] = defaultdict(int)
    for seg, t in zip(deals[case.segment] if column else [None] * len(deals), created, strict=True):
        counts[(_none(seg), _period(t, period))] += 1
    expected = {
        (*([s] if column else []), p): {"leads": counts.get((s, p), 0), "exposure_days": e}
        for s in segments
        for p, e in grid
    }
    assert_records(got, expected, [*(["segment"] if column else []), "period"])
    assert got["leads"].sum() == len(deals)


# -- hygiene ---------------------------------------------------------------------------------
def test_stage_throughput(log: EventLog, ref: EventLog, case: Case) -> None:
    """Deals that left each stage in the 13 weeks before ``as_of`` (left = first event of
    another stage after the first entry), against the per-deal event sequences."""
    got = hygiene.stage_throughput(log)
    assert_same_rows(got, hygiene.stage_throughput(ref))
    start = case.facts.as_of - dt.timedelta(weeks=hygiene.THROUGHPUT_WEEKS)
    left = case.facts.left
    hit = left[(left["left_at"] > start) & (left["left_at"] <= case.facts.as_of)]
    expected = {
        (i,): {
            "stage_id": sid,
            "left": int((hit["stage_index"] == i).sum()),
            "weekly_throughput": (hit["stage_index"] == i).sum() / hygiene.THROUGHPUT_WEEKS,
        }
        for i, sid in enumerate(case.funnel.stage_ids)
    }
    assert_records(got, expected, ["stage_index"])
    assert got["left"].sum() > 0


def _open(case: Case) -> pd.DataFrame:
    d = case.facts.deals
    mask = (d["outcome"] == "open") & d["current_stage_index"].map(lambda v: _none(v) is not None)
    out = d[mask].copy()
    out["current_stage_index"] = out["current_stage_index"].astype("int64")
    return out


def test_open_ages(log: EventLog, ref: EventLog, case: Case) -> None:
    """Open deals per current stage, quantiles of their days in stage and age buckets, against
    numpy over the per-deal days in stage."""
    got = hygiene.open_ages(log)
    assert_same_rows(got, hygiene.open_ages(ref))
    open_ = _open(case)
    expected = {}
    for i in range(len(case.funnel.stages)):
        days = list(open_.loc[open_["current_stage_index"] == i, "days_in_stage"])
        expected[(i,)] = {
            "open": len(days),
            "p25_days": _quantile(days, 0.25),
            "median_days": _quantile(days, 0.5),
            "p75_days": _quantile(days, 0.75),
            "p90_days": _quantile(days, 0.9),
            "max_days": max(days) if days else math.nan,
            "age_0_7": sum(0 <= x < 7 for x in days),
            "age_7_30": sum(7 <= x < 30 for x in days),
            "age_30_90": sum(30 <= x < 90 for x in days),
            "age_90_plus": sum(x >= 90 for x in days),
        }
    assert_records(got, expected, ["stage_index"])
    assert got["open"].sum() == len(open_) > 0


def _stuck(case: Case, limits: Mapping[int, float]) -> pd.DataFrame:
    open_ = _open(case)
    open_["limit_days"] = [limits.get(i) for i in open_["current_stage_index"]]
    return open_[
        [
            lim is not None and d > lim
            for d, lim in zip(open_["days_in_stage"], open_["limit_days"], strict=True)
        ]
    ]


def test_stuck_counts(log: EventLog, ref: EventLog, case: Case) -> None:
    """Open and stuck (days in stage > the stage's limit) deals per stage, with limits on some
    stages and with none at all, against the per-deal days in stage."""
    for limits, column in ((case.limits, None), ({}, None), (case.limits, "manager")):
        # column=: the per-stage counts summed from the per stage × manager query
        got = hygiene.stuck_counts(log, limits, column=column)
        assert_same_rows(got, hygiene.stuck_counts(ref, limits))
        open_, stuck = _open(case), _stuck(case, limits)
        expected = {
            (i,): {
                "open": int((open_["current_stage_index"] == i).sum()),
                "stuck": int((stuck["current_stage_index"] == i).sum()),
            }
            for i in range(len(case.funnel.stages))
        }
        assert_records(got, expected, ["stage_index"])
    assert len(_stuck(case, case.limits)) > 0


def test_stuck_by_column(log: EventLog, ref: EventLog, case: Case) -> None:
    """Open and stuck deals per manager, most stuck first, against a Python count; a missing
    column gives an empty frame."""
    got = hygiene.stuck_by_column(log, case.limits, "manager")
    assert_same_rows(got, hygiene.stuck_by_column(ref, case.limits, "manager"))
    open_, stuck = _open(case), _stuck(case, case.limits)
    expected: dict[tuple[object, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for m in open_["manager"]:
        expected[(_none(m),)]["open"] += 1
        expected[(_none(m),)]["stuck"] += 0
    for m in stuck["manager"]:
        expected[(_none(m),)]["stuck"] += 1
    assert_records(got, expected, ["value"])
    order = [(-s, -o) for s, o in zip(got["stuck"], got["open"], strict=True)]
    assert order == sorted(order)
    assert hygiene.stuck_by_column(log, case.limits, "no_such_column").empty


def test_worst_stuck(log: EventLog, ref: EventLog, case: Case) -> None:
    """The 10 worst stuck deals (largest days/limit, then days, then id) with their manager (and
    None for a column the data lacks), against a Python sort of the per-deal facts."""
    columns = ("manager", "no_such_column")
    got = hygiene.worst_stuck(log, case.limits, limit=10, columns=columns)
    assert_same_rows(got, hygiene.worst_stuck(ref, case.limits, limit=10, columns=columns))
    stuck = _stuck(case, case.limits)
    assert len(stuck) > 10  # the bound bites
    ranked = sorted(
        stuck.to_dict("records"),
        key=lambda r: (-r["days_in_stage"] / r["limit_days"], -r["days_in_stage"], r["deal_id"]),
    )[:10]
    assert list(got["deal_id"]) == [r["deal_id"] for r in ranked]
    expected = {
        (r["deal_id"],): {
            "stage_index": r["current_stage_index"],
            "days": r["days_in_stage"],
            "limit_days": r["limit_days"],
            "overdue_ratio": r["days_in_stage"] / r["limit_days"],
            "manager": _none(r["manager"]),
            "no_such_column": None,
        }
        for r in ranked
    }
    assert_records(got, expected, ["deal_id"])


def test_entry_violations(log: EventLog, ref: EventLog, case: Case) -> None:
    """Per stage with checkable requirements: deals that reached it (line: it or a later line
    stage; off the line: entered it) and those with a required column null or blank, per stage
    and per column, against a Python loop (Python's ``str.strip`` defines blank)."""
    stages, fields = hygiene.entry_violations(log, case.requires)
    ref_stages, ref_fields = hygiene.entry_violations(ref, case.requires)
    assert_same_rows(stages, ref_stages)
    assert_same_rows(fields, ref_fields)
    won = case.funnel.won_index
    present = set(case.facts.deals.columns)
    exp_stages, exp_fields = {}, {}
    for k, cols in case.requires.items():
        cols_here = [c for c in cols if c in present]
        if not cols_here:
            continue
        here = [
            r
            for r in case.facts.deals.to_dict("records")
            if (
                _none(r["max_stage_index"]) is not None and r["max_stage_index"] >= k
                if k <= won
                else k in r["entered"]
            )
        ]

        def empty(v: object) -> bool:
            v = _none(v)
            return v is None or (isinstance(v, str) and v.strip() == "")

        exp_stages[(k,)] = {
            "reached": len(here),
            "violations": sum(any(empty(r[c]) for c in cols_here) for r in here),
        }
        for c in cols_here:
            exp_fields[(k, c)] = {"violations": sum(empty(r[c]) for r in here)}
    assert_records(stages, exp_stages, ["stage_index"])
    assert_records(fields, exp_fields, ["stage_index", "column"])
    assert stages["violations"].sum() > 0


def test_lost_reason_counts(log: EventLog, ref: EventLog, case: Case) -> None:
    """Lost deals per furthest line stage (-1: none) × reason (blanks trimmed; None when blank) ×
    month closed, against a Python loop. The messy log's reason is its ``manager`` column, whose
    blanks differ ("  ", "\\t "): they must land in one None row per stage and month."""
    column = "lost_reason" if case.deals is not None else case.segment
    got = outcomes.lost_reason_counts(log, column)
    assert_same_rows(got, outcomes.lost_reason_counts(ref, column))
    expected: dict[tuple[object, ...], int] = defaultdict(int)
    for r in case.facts.deals.to_dict("records"):
        if r["outcome"] != "lost":
            continue
        value = _none(r[column])
        reason = None if value is None else (str(value).strip(" \t\n\r\x0b\x0c") or None)
        closed = _none(r["closed_at"])
        month = None if closed is None else dt.date(closed.year, closed.month, 1)
        stage = _none(r["max_stage_index"])
        expected[(-1 if stage is None else int(stage), reason, month)] += 1
    assert_records(got, {k: {"deals": n} for k, n in expected.items()},
                   ["stage_index", "reason", "month"])
    assert len(got) == len(expected)  # one row per key: blanks that differ are merged
    assert got["reason"].isna().any() and got["reason"].notna().any()


# -- flow ------------------------------------------------------------------------------------
def _expected_episodes(case: Case, cut: dt.datetime) -> dict[Any, dict[str, object]]:
    """Frontier episodes as they stood at ``cut``, per deal, from the definition in flow.py."""
    won = case.funnel.won_index
    deals = _deal_map(case.facts)
    by_deal: dict[str, dict[dt.datetime, int]] = defaultdict(dict)
    for (d, k), t in _reached_map(case.facts).items():
        if t <= cut:
            by_deal[d][t] = max(k, by_deal[d].get(t, -1))
    out = {}
    for d, steps in by_deal.items():
        times = sorted(steps)
        deal = deals[d]
        closed_at, outcome = deal["closed_at"], deal["outcome"]
        for n, t in enumerate(times):
            if steps[t] >= won:  # the won stage is absorbing: no episode of its own
                continue
            if n + 1 < len(times):
                ended, to = times[n + 1], steps[times[n + 1]]
            elif closed_at is not None and closed_at <= cut and outcome in ("won", "lost"):
                ended, to = max(closed_at, t), (won if outcome == "won" else flow.LOST)
            else:
                ended, to = cut, flow.OPEN
            out[(d, steps[t], t)] = {
                "ended_at": ended,
                "to_index": to,
                "days": (ended - t).total_seconds() / DAY,
            }
    return out


def test_episodes_table(log: EventLog, ref: EventLog, case: Case) -> None:
    """The frontier episodes 20 days before ``as_of`` (later data ignored), against a per-deal
    walk over the reach times: next frontier stage, else lost/won at the deal's closing (if by
    then), else open at the cut; none for the won stage itself."""
    cut = case.facts.as_of - dt.timedelta(days=20)
    got = log.frame(flow.episodes_table(log, cut))
    assert_same_rows(got, ref.frame(flow.episodes_table(ref, cut)))
    expected = _expected_episodes(case, cut)
    assert_records(got, expected, ["deal_id", "stage_index", "started_at"])
    assert set(got["to_index"]) >= {flow.LOST, flow.OPEN, 1}


def _won_deals(case: Case) -> list[dict[str, Any]]:
    return [r for r in case.facts.deals.to_dict("records") if r["outcome"] == "won"]


def test_won_between(log: EventLog, ref: EventLog, case: Case) -> None:
    """Deals won (first won-stage entry, else closing) in ``[start, end)`` known by ``as_of`` and
    their amount sum (None without amounts), for one range and for three in one query."""
    as_of = case.facts.as_of
    ranges = [
        (
            as_of - dt.timedelta(days=60),
            as_of - dt.timedelta(days=20),
            as_of - dt.timedelta(days=30),
        ),
        (as_of - dt.timedelta(days=90), as_of, as_of),
        (dt.datetime(2000, 1, 1), as_of + dt.timedelta(days=1), as_of),
    ]
    got = flow.won_between_many(log, ranges)
    assert_same_rows(
        pd.DataFrame(got, columns=["deals", "amount"]),
        pd.DataFrame(flow.won_between_many(ref, ranges), columns=["deals", "amount"]),
    )
    single = flow.won_between(log, ranges[1][0], ranges[1][1])
    expected = []
    for start, end, known in ranges:
        hit = [
            r
            for r in _won_deals(case)
            if start <= _won_time(r) < end and _won_time(r) <= min(end, known)
        ]
        amount = sum(_none(r["amount"]) or 0.0 for r in hit) if case.facts.has_amount else None
        expected.append((len(hit), amount))
    for have, want in zip([*got, single], [*expected, expected[1]], strict=True):
        assert have[0] == want[0]
        assert (have[1] is None) == (want[1] is None)
        if want[1] is not None:
            assert have[1] == pytest.approx(want[1], rel=1e-12)
    assert expected[2][0] == len(_won_deals(case)) > 0


def test_amount_quantiles(log: EventLog, ref: EventLog, case: Case) -> None:
    """101 quantiles of the amounts of deals won in a window, against numpy's linear quantiles
    (None without amounts)."""
    as_of = case.facts.as_of
    since = as_of - dt.timedelta(days=120)
    got = flow.amount_quantiles(log, since, as_of)
    want = flow.amount_quantiles(ref, since, as_of)
    if not case.facts.has_amount:
        assert got is None and want is None
        return
    assert got is not None and want is not None
    amounts = [
        r["amount"]
        for r in _won_deals(case)
        if since <= _won_time(r) <= as_of and _none(r["amount"]) is not None
    ]
    expected = np.quantile(amounts, [i / 100 for i in range(101)])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_stage_outcomes(log: EventLog, ref: EventLog, case: Case) -> None:
    """Per segment × line stage: deals that reached it and of them won / lost, against a loop
    over the reach facts."""
    got = flow.stage_outcomes(log, by=case.segment)
    assert_same_rows(got, flow.stage_outcomes(ref, by=case.segment))
    deals = _deal_map(case.facts)
    expected: dict[tuple[object, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for d, k in _reached_map(case.facts):
        e = expected[(_none(deals[d][case.segment]), k)]
        e["reached"] += 1
        e["won"] += deals[d]["outcome"] == "won"
        e["lost"] += deals[d]["outcome"] == "lost"
    assert_records(got, expected, ["segment", "stage_index"])


def test_weekly_reach(log: EventLog, ref: EventLog, case: Case) -> None:
    """Per week × stage: deals that reached the stage that week; the won stage by the week of
    the win. Against a loop over the reach facts and the won deals."""
    got = flow.weekly_reach(log)
    assert_same_rows(got, flow.weekly_reach(ref))
    won = case.funnel.won_index
    expected: dict[tuple[object, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (_, k), t in _reached_map(case.facts).items():
        if k < won:
            expected[(_period(t, "week"), k)]["deals"] += 1
    for r in _won_deals(case):
        expected[(_period(_won_time(r), "week"), won)]["deals"] += 1
    assert_records(got, expected, ["week", "stage_index"])


def test_days_to_win(log: EventLog, ref: EventLog, case: Case) -> None:
    """Per stage: the median days from reaching it to the win, over won deals, against numpy."""
    got = flow.days_to_win(log)
    assert_same_rows(got, flow.days_to_win(ref))
    deals = _deal_map(case.facts)
    days: dict[int, list[float]] = defaultdict(list)
    for (d, k), t in _reached_map(case.facts).items():
        if deals[d]["outcome"] == "won":
            days[k].append((_won_time(deals[d]) - t).total_seconds() / DAY)
    expected = {(k,): {"median_days": _quantile(v, 0.5), "won": len(v)} for k, v in days.items()}
    assert_records(got, expected, ["stage_index"])


def test_moment_states(log: EventLog, ref: EventLog, case: Case) -> None:
    """The forecast's moment states at ``as_of`` and 40 days earlier (episode histograms, arrivals,
    wins in the month, amount quantiles) equal DuckDB's. Their semantics are tested against the
    truncated log in tests/audit/test_moments.py."""
    as_of = case.facts.as_of
    specs = [
        MomentSpec(as_of, as_of.date().replace(day=1)),
        MomentSpec(as_of - dt.timedelta(days=40), (as_of - dt.timedelta(days=40)).date()),
    ]
    got = moment_states(log, specs, history_days=90, arrival_days=28)
    want = moment_states(ref, specs, history_days=90, arrival_days=28)
    for a, b in zip(got, want, strict=True):
        assert a.as_of == b.as_of and a.edges == b.edges and a.arrival_days == b.arrival_days
        assert_same_rows(a.episodes, b.episodes)
        assert_same_rows(a.arrivals, b.arrivals)
        assert a.won_in_period == b.won_in_period
        assert a.won_amount_in_period == pytest.approx(b.won_amount_in_period)
        if b.amount_quantiles is None:
            assert a.amount_quantiles is None
        else:
            np.testing.assert_allclose(a.amount_quantiles, b.amount_quantiles, rtol=1e-12)
    assert int(got[0].episodes["deals"].sum()) > 0 and len(got[0].arrivals) > 0


# -- a backend difference: how a number is written as text -----------------------------------
def _float_log(backend: Any) -> EventLog:
    start = dt.datetime(2024, 1, 1)
    events = pa.table(
        {
            "deal_id": pa.array(["a", "b", "c", "d"]),
            "stage": pa.array(["New"] * 4),
            "entered_at": pa.array(
                [start + dt.timedelta(days=i) for i in range(4)], pa.timestamp("us")
            ),
            "_row": pa.array(range(1, 5), pa.int64()),
        }
    )
    deals = pa.table(
        {
            "deal_id": pa.array(["a", "b", "c", "d"]),
            "manager": pa.array([15_000_000.0, 0.1, 2.5e-5, None]),  # a numeric manager column
            "_row": pa.array(range(1, 5), pa.int64()),
        }
    )
    funnel = Funnel(
        name="f",
        stages=(Stage("new", "New"), Stage("won", "Won")),
        won_stage="won",
        lost_names=("Lost",),
    )
    return EventLog.build(events, deals, funnel, backend=backend, as_of=start + dt.timedelta(30))


def test_numeric_columns_read_the_same_on_every_backend(backend: Any) -> None:
    """A numeric deal column shown by the stuck lists reads as Python writes the number on every
    backend (Spark's cast writes 15000000.0 as ``1.5E7``), the oracle being ``str(float)``."""
    log = _float_log(backend)
    words = ["15000000.0", "0.1", "2.5e-05", None]
    by_value = hygiene.stuck_by_column(log, {0: 1.0}, "manager")
    assert sorted(by_value["value"], key=lambda v: (v is None, v or "")) == sorted(
        words, key=lambda v: (v is None, v or "")
    )
    worst = hygiene.worst_stuck(log, {0: 1.0}, columns=("manager",))
    assert dict(zip(worst["deal_id"], worst["manager"], strict=True)) == dict(
        zip("abcd", words, strict=True)
    )
