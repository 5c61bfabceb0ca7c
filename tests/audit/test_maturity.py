"""Mature conversion: horizons and counts against a pandas oracle, and why it is needed."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from voronka.audit.maturity import build_maturity
from voronka.engine import EventLog
from voronka.funnel import Funnel, Stage


def _growing_log(seed: int = 0) -> tuple[EventLog, pd.DataFrame, datetime]:
    """Deals created over 200 days with volume growing; half move on after 1–15 days (uniform).
    Returns the log, the per-deal truth and as_of."""
    rng = np.random.default_rng(seed)
    start = datetime(2024, 1, 1)
    days = np.sort(rng.uniform(0, 200, size=3000) ** 0.5 * 200**0.5)  # more deals lately
    moves = rng.random(days.size) < 0.5
    delay = rng.uniform(1, 15, size=days.size)
    as_of = start + timedelta(days=200)
    rows, truth = [], []
    for i, (d, m, w) in enumerate(zip(days, moves, delay, strict=True)):
        created = start + timedelta(days=float(d))
        rows.append((str(i), "a", created))
        reached_b = created + timedelta(days=float(w))
        visible = bool(m) and reached_b <= as_of
        if visible:
            rows.append((str(i), "b", reached_b))
        truth.append((created, reached_b if visible else None))
    funnel = Funnel(name="t", stages=(Stage("a", "a"), Stage("b", "b")), won_stage="b")
    events = pd.DataFrame(rows, columns=["deal_id", "stage", "entered_at"])
    log = EventLog.build(events, None, funnel, as_of=as_of)
    return log, pd.DataFrame(truth, columns=["created", "moved_at"]), as_of


def test_maturity_matches_pandas_oracle() -> None:
    """Oracle: pandas. Horizon = p90 (linear interpolation) of days from a to b among movers;
    mature = reached a at least the horizon before as_of; conversion = mature movers / mature."""
    log, truth, as_of = _growing_log()
    report = build_maturity(log)
    step = report.stages[0]
    took = (truth["moved_at"] - truth["created"]).dt.total_seconds().dropna() / 86400
    horizon = float(np.quantile(took, 0.9))
    assert step.horizon_days == pytest.approx(horizon, rel=1e-9)
    assert step.settled_days == pytest.approx(float(np.quantile(took, 0.99)), rel=1e-9)
    age = (as_of - truth["created"]).dt.total_seconds() / 86400
    mature = age >= horizon
    moved = truth["moved_at"].notna()
    in_horizon = moved & (
        (truth["moved_at"] - truth["created"]).dt.total_seconds() / 86400 <= horizon
    )
    assert step.reached == len(truth) and step.moved == int(moved.sum())
    assert step.mature == int(mature.sum())
    assert step.mature_moved == int((mature & moved).sum())
    assert step.moved_in_horizon == int((mature & in_horizon).sum())
    assert step.conversion == pytest.approx((mature & moved).sum() / mature.sum())
    lo, hi = proportion_confint(step.mature_moved, step.mature, method="wilson")
    assert step.conversion_ci == pytest.approx((lo, hi))


def test_mature_conversion_is_unbiased_while_raw_is_not() -> None:
    """Simulation with growing volume: the true rate is 0.5; the raw rate counts young deals as
    failures and falls well below it, the mature rate stays within sampling error of 0.5."""
    log, _, _ = _growing_log(seed=3)
    step = build_maturity(log).stages[0]
    assert step.raw_conversion is not None and step.conversion is not None
    assert step.raw_conversion < 0.47
    assert step.conversion_ci is not None
    assert step.conversion_ci[0] < 0.5 < step.conversion_ci[1]
    assert step.mature < step.reached


def test_stage_without_movers_has_no_horizon() -> None:
    """A stage nobody left: no horizon, no mature deals, conversion None (not zero)."""
    funnel = Funnel(name="t", stages=(Stage("a", "a"), Stage("b", "b")), won_stage="b")
    events = pd.DataFrame(
        {"deal_id": ["1", "2"], "stage": ["a", "a"], "entered_at": [datetime(2024, 1, 1)] * 2}
    )
    step = build_maturity(EventLog.build(events, None, funnel)).stages[0]
    assert step.horizon_days is None and step.mature == 0 and step.conversion is None
    assert step.raw_conversion == 0.0
