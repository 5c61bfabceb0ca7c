"""Sources: figures equal a pandas computation; null cost figures without spend; intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from leakgen import demo
from statsmodels.stats.proportion import proportion_confint

from voronka.audit.sources import build_sources
from voronka.demo import DemoEffects

EFFECTS = DemoEffects(data_errors=False)


def _oracle(deals: pd.DataFrame, spend: pd.DataFrame) -> pd.DataFrame:
    """The pandas reference: per source leads, won, revenue, spend and the ratios."""
    won = deals["status"] == "won"
    g = deals.assign(won=won, revenue=deals["amount"].where(won, 0.0)).groupby("source")
    out = pd.DataFrame({"leads": g.size(), "won": g["won"].sum(), "revenue": g["revenue"].sum()})
    out["spend"] = spend.groupby("source")["cost"].sum().reindex(out.index)
    out["cpl"] = out["spend"] / out["leads"]
    out["cac"] = out["spend"] / out["won"]
    out["romi"] = (out["revenue"] - out["spend"]) / out["spend"]
    out["win_rate"] = out["won"] / out["leads"]
    return out


def test_source_figures_equal_pandas() -> None:
    """Reference: pandas groupby on the demo's deals and spend tables (exact equality)."""
    data, log = demo(5000, 2, EFFECTS)
    rows = {r.source: r for r in build_sources(log, pa.Table.from_pandas(data.spend))}
    ref = _oracle(data.deals, data.spend)
    assert set(rows) == set(ref.index)
    for source, expected in ref.iterrows():
        row = rows[source]
        assert row.leads == expected["leads"] and row.won == expected["won"]
        assert row.revenue == expected["revenue"]
        for name in ("spend", "cpl", "cac", "romi"):
            value = getattr(row, name)
            if np.isnan(expected[name]):
                assert value is None, (source, name)
            else:
                assert value == expected[name], (source, name)
        assert row.win_rate == expected["win_rate"]


def test_sources_without_spend_have_null_costs_and_rank_last() -> None:
    """SEO and referrals have no spend rows: spend, CPL, CAC, ROMI are None, not 0; sources
    with spend come first, by ROMI, best first."""
    data, log = demo(5000, 2, EFFECTS)
    rows = build_sources(log, data.spend)
    free = [r for r in rows if r.spend is None]
    assert {r.source for r in free} == {"SEO", "Рекомендации"}
    assert all(r.cpl is None and r.cac is None and r.romi is None for r in free)
    assert all(r.revenue is not None and r.revenue > 0 for r in free)
    paid = [r.romi for r in rows if r.romi is not None]
    assert rows[: len(paid)] == tuple(r for r in rows if r.romi is not None)
    assert paid == sorted(paid, reverse=True)


def test_intervals_and_reach() -> None:
    """Win-rate interval equals statsmodels' Wilson; ROMI interval brackets ROMI; reach per
    stage is monotone and equals leads at the first stage; campaigns add up to the source."""
    data, log = demo(5000, 2, EFFECTS)
    for row in build_sources(log, data.spend):
        lo, hi = proportion_confint(row.won, row.leads, method="wilson")
        assert row.win_rate_ci == pytest.approx((lo, hi), abs=1e-12)
        if row.romi is not None:
            assert row.romi_ci is not None and row.romi_ci[0] < row.romi < row.romi_ci[1]
            assert row.p_profitable is not None and 0 <= row.p_profitable <= 1
        reached = list(row.reached.values())
        assert reached[0] == row.leads and reached == sorted(reached, reverse=True)
        if row.campaigns:
            assert sum(c.leads for c in row.campaigns) == row.leads
            assert sum(c.spend or 0 for c in row.campaigns) == pytest.approx(row.spend or 0)


def test_no_spend_table_at_all() -> None:
    """Without a spend file every cost figure is None; counts still there."""
    _, log = demo(5000, 2, EFFECTS)
    rows = build_sources(log, None)
    assert rows and all(r.spend is None and r.romi is None and r.cpl is None for r in rows)
    assert sum(r.leads for r in rows) == 5000


def test_final_win_rate_accounts_for_open_deals() -> None:
    """Five months of history (many leads still open): the raw win rate won / leads is far below
    the generator's true P(won | lead); the censoring-aware one is close to it for every source."""
    from truth import true_step_rates

    from voronka.demo import generate_demo
    from voronka.engine import EventLog

    effects = DemoEffects.stable_funnel(data_errors=False)
    data = generate_demo(6000, seed=7, months=5, effects=effects)
    log = EventLog.build(
        data.events.drop(columns=["entered_at_text"]), data.deals, data.funnel, as_of=data.as_of
    )
    truth = float(np.prod(list(true_step_rates(data).values())))
    rows = build_sources(log)
    assert rows
    for r in rows:
        assert r.final_win_rate is not None and r.win_rate is not None and r.open_share is not None
        assert r.win_rate < truth * 0.8  # raw: young leads count as losses
        assert abs(r.final_win_rate - truth) < max(0.35 * truth, 3 * np.sqrt(truth / r.leads))
        assert r.expected_won == pytest.approx(r.leads * r.final_win_rate)
