"""Censoring-aware conversion: Aalen–Johansen against hand computation, the generator's truth on
the demo, and against the mature-cohort rule on short histories."""

from __future__ import annotations

import numpy as np
import pytest
from leakgen import demo
from truth import true_step_rates

from voronka.audit.censored import step_rates
from voronka.audit.funnel_section import build_funnel_report
from voronka.audit.maturity import build_maturity
from voronka.audit.stats.competing import aalen_johansen
from voronka.demo import DemoEffects, generate_demo
from voronka.engine import EventLog


def test_without_censoring_it_is_moved_over_closed() -> None:
    """No open deal: F₁(∞) = moved / (moved + lost), whatever the ages."""
    est = aalen_johansen([0, 1, 2, 5], [10, 5, 3, 2], [4, 0, 6, 10], [0, 0, 0, 0])
    assert est.conversion == pytest.approx(20 / 40)
    assert est.n == 40 and est.n_effective == pytest.approx(40) and est.immature == 0


def test_hand_computed_life_table() -> None:
    """11 deals. Day 0: 2 move, 1 lost of 11 at risk (S = 8/11); day 1: 4 open, counted as half a
    deal at risk each (8 − 2 = 6 at risk, no event); day 2: 1 moves, 3 open (4 − 1.5 = 2.5 at
    risk). F₁ = 2/11 + 8/11 · 1/2.5."""
    ages = [0, 1, 2]
    est = aalen_johansen(ages, [2, 0, 1], [1, 0, 0], [0, 4, 3])
    expected = 2 / 11 + 8 / 11 * (1 / 2.5)
    assert est.conversion == pytest.approx(expected)


def test_open_beyond_the_settled_horizon_counts_as_lost() -> None:
    """Deals that never close: beyond ``settled`` days they are failures, not late movers."""
    # 110 deals: day 1: 50 move, 30 lost; 20 open at day 5; 10 move at day 40.
    est = aalen_johansen([1, 5, 40], [50, 0, 10], [30, 0, 0], [0, 20, 0], settled=3)
    assert est.conversion == pytest.approx(60 / 110)  # the 20 open ones failed
    loose = aalen_johansen([1, 5, 40], [50, 0, 10], [30, 0, 0], [0, 20, 0])
    assert loose.conversion == pytest.approx(80 / 110)  # … or would all have moved


def test_funnel_table_is_within_a_point_of_the_truth_on_the_demo() -> None:
    """The default demo (20 000 deals, 18 months): the funnel table's conversion is within one
    point of the generator's true rate at every step; the raw rate is beside it and lower where
    recent deals are still open (the late steps)."""
    data, log = demo(20_000, 0, DemoEffects.default())
    truth = true_step_rates(data)
    maturity = build_maturity(log)
    rates = step_rates(log, maturity)[None]
    report = build_funnel_report(
        log.require_funnel(), log.reach(), log.outcomes(), log.time_in_stage(),
        censored=rates.steps,
    )
    for stage in report.stages[:-1]:
        assert stage.conversion is not None and stage.raw_conversion is not None
        assert abs(stage.conversion - truth[stage.id]) <= 0.01, stage.id
        assert stage.immature_share is not None and 0 <= stage.immature_share < 0.2
    late = report.stages[8]  # in production → delivered: the longest step
    assert late.raw_conversion is not None and late.conversion is not None
    assert truth[late.id] - late.raw_conversion > 0.03


@pytest.mark.parametrize("seed", [3, 4])
def test_short_history_bias_is_small(seed: int) -> None:
    """Five months of history: Aalen–Johansen within 2.5 points of the truth at every step with
    enough deals (its sampling error included), and never further from the truth on average than
    the mature-cohort rule."""
    data = generate_demo(6000, seed=seed, months=5, effects=DemoEffects.stable_funnel(data_errors=False))
    log = EventLog.build(
        data.events.drop(columns=["entered_at_text"]), data.deals, data.funnel, as_of=data.as_of
    )
    truth = true_step_rates(data)
    maturity = build_maturity(log)
    rates = step_rates(log, maturity)[None]
    aj_err, mature_err = [], []
    for k, m in enumerate(maturity.stages):
        est = rates.steps[k]
        assert est.conversion is not None and m.conversion is not None
        se = np.sqrt(truth[m.stage] * (1 - truth[m.stage]) / est.n_effective)
        assert abs(est.conversion - truth[m.stage]) <= max(0.025, 3 * se), m.stage
        aj_err.append(abs(est.conversion - truth[m.stage]))
        mature_err.append(abs(m.conversion - truth[m.stage]))
    assert np.mean(aj_err) <= np.mean(mature_err) + 0.002
