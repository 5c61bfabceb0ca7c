"""The reverse funnel: hand computations of the planning table, and the wiring on the demo data.

References: the head of sales' hand table (plan ÷ conversion, stage by stage) computed by hand;
CPL = spend / leads by hand; a pandas count of the demo's recent leads per source.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from voronka.audit.maturity import build_maturity
from voronka.audit.reverse import build_reverse_funnel, lead_costs, stage_needs
from voronka.demo import DemoEffects, generate_demo
from voronka.engine import EventLog


def test_stage_needs_by_hand() -> None:
    """Plan 30 won; conversions 0.5, 0.6, 0.25 up the funnel: invoice 30 / 0.25 = 120,
    meeting 120 / 0.6 = 200, leads 200 / 0.5 = 400; current flow 350 leads → shortfall 50."""
    rows = stage_needs(
        ["lead", "meeting", "invoice", "won"],
        30,
        [0.5, 0.6, 0.25],
        ["mature", "mature", "raw"],
        [350.0, 210.0, 100.0, 25.0],
    )
    assert [r.needed for r in rows] == pytest.approx([400, 200, 120, 30])
    assert [r.shortfall for r in rows] == pytest.approx([50, -10, 20, 5])
    assert rows[2].conversion_kind == "raw" and rows[3].conversion is None


def test_a_step_nobody_passes_needs_infinitely_many() -> None:
    rows = stage_needs(["a", "b", "won"], 10, [0.5, 0.0], ["raw", "raw"])
    assert rows[1].needed == float("inf") and rows[0].needed == float("inf")


def test_lead_costs_by_hand() -> None:
    """Leads 300 SEO (no spend) + 100 Ads (spend 50,000 → CPL 500): 800 leads needed split
    600 / 200; Ads cost 200 × 500 = 100,000, SEO cost unknown (None, not zero)."""
    leads = pd.DataFrame({"source": ["SEO", "Ads"], "leads": [300, 100]})
    spend = pd.DataFrame({"source": [" ads ", "Ads"], "cost": [20_000.0, 30_000.0]})
    costs = lead_costs(800, leads, spend)
    by = {c.source: c for c in costs}
    assert by["SEO"].leads == pytest.approx(600) and by["SEO"].cost is None
    assert by["Ads"].cpl == pytest.approx(500) and by["Ads"].cost == pytest.approx(100_000)


def test_reverse_funnel_on_the_demo_uses_mature_conversions_and_costs_sources() -> None:
    data = generate_demo(4000, seed=2, effects=DemoEffects(data_errors=False))
    events = data.events.drop(columns=["entered_at_text"]).dropna(subset=["entered_at"])
    log = EventLog.build(events, data.deals, data.funnel, as_of=data.as_of)
    maturity = build_maturity(log)
    result = build_reverse_funnel(
        log,
        data.funnel,
        plan=40,
        period_start=dt.date(2026, 11, 1),
        period_end=dt.date(2026, 11, 30),
        maturity=maturity,
        spend=data.spend,
    )
    assert result is not None
    assert result.rows[-1].needed == 40
    for row, nxt, step in zip(result.rows, result.rows[1:], maturity.stages, strict=False):
        if step.conversion is not None:
            assert row.conversion_kind == "mature"
            assert row.needed == pytest.approx(nxt.needed / step.conversion)
    assert result.leads_needed == result.rows[0].needed
    assert sum(c.leads for c in result.lead_costs) == pytest.approx(result.leads_needed)
    # Sources: the last three complete months (Aug–Oct 2026) by creation, counted with pandas.
    recent = data.deals[
        (data.deals["created_at"] >= pd.Timestamp(2026, 8, 1))
        & (data.deals["created_at"] < pd.Timestamp(2026, 11, 1))
    ]
    shares = recent["source"].value_counts(normalize=True)
    for cost in result.lead_costs:
        assert cost.share == pytest.approx(shares[cost.source], abs=0.01)
    assert any(c.cost is None for c in result.lead_costs)  # the demo has sources without spend
    assert result.total_cost == pytest.approx(sum(c.cost for c in result.lead_costs if c.cost))
    assert build_reverse_funnel(
        log, data.funnel, period_start=dt.date(2026, 11, 1), period_end=dt.date(2026, 11, 30)
    ) is None
