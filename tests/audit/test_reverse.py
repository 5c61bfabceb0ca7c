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


def test_reverse_funnel_with_time_by_hand() -> None:
    """Three stages a → b → won; conversions 0.5 and 0.4; plan 10, 4 won so far, 6 remaining.
    Open now: 20 at a, 5 at b. Lags (median, p90): a 20 d, b 10 d, 15 days left.
    P(lag ≤ 15) for b (median 10, p90 20): z = ln 1.5 / (ln 2 / 1.2816) = 0.7497 → 0.7733; for a
    (median 20, p90 40): z = ln 0.75 / (ln 2 / 1.2816) = −0.5319 → 0.2974.
    Pipeline wins from b on: 5 × 0.4 × 0.7733 = 1.547; from a on: that + 20 × 0.2 × 0.2974 = 2.736.
    Still needed at b: (6 − 1.547) / 0.4 = 11.13, by 30 − 10 days; at a: (6 − 2.736) / 0.2 = 16.32,
    by day 20 − 20 → the period's start: late when as_of is past it."""
    from voronka.audit.reverse import with_timing

    rows = stage_needs(["a", "b", "won"], 10, [0.5, 0.4], ["mature", "mature"], [50, 25, 10])
    out = with_timing(
        rows, won_so_far=4, open_here=[20, 5, 0], lags=[(20.0, 40.0), (10.0, 20.0), (None, None)],
        period_end=dt.date(2025, 6, 30), as_of=dt.datetime(2025, 6, 16), monthly_flow=[90, 40, 9],
    )
    a, b, won = out
    assert b.pipeline_wins == pytest.approx(1.5466, abs=1e-3)
    assert a.pipeline_wins == pytest.approx(2.7362, abs=1e-3)
    assert b.still_needed == pytest.approx((6 - 1.5466) / 0.4, abs=1e-2)
    assert a.still_needed == pytest.approx((6 - 2.7362) / 0.2, abs=1e-2)
    assert b.needed_by == dt.date(2025, 6, 21) and not b.late
    assert a.needed_by == dt.date(2025, 6, 11) and a.late
    assert (a.in_pipeline, b.in_pipeline) == (25, 5)
    assert won.still_needed == 6 and a.monthly_flow == 90
