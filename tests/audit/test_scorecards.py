"""Manager scorecards and today's list on the demo data: the league adds up to the team, the
shrunk rate lies between a manager's raw rate and the team's, today's list is the stuck deals
ranked by amount × P(won | stage)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voronka import api
from voronka.audit.scorecards import build_scorecards, build_today, win_probability
from voronka.demo import generate_demo, write_demo
from voronka.engine import DealSelection, count_deals


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("demo")
    write_demo(generate_demo(700, seed=11, months=10, end_day=15), folder)
    inputs = api.read_inputs(Path(folder))
    log = api.log_of(inputs)
    return log, api.audit_log(log, inputs.reads)


def test_league_adds_up_to_the_team_and_shrinks_toward_it(audited) -> None:
    log, result = audited
    scores = build_scorecards(log, result)
    assert sum(s.deals for s in scores) == result.funnel.deals
    assert sum(s.won for s in scores) == result.funnel.won
    assert sum(s.stuck for s in scores) == result.stuck.total_stuck
    team = result.funnel.won / (result.funnel.won + result.funnel.lost)
    for s in scores:
        if s.win_rate is not None:
            lo, hi = sorted((s.win_rate, team))
            assert lo - 1e-9 <= s.win_rate_shrunk <= hi + 1e-9
            assert s.win_rate_low <= s.win_rate_shrunk <= s.win_rate_high
    # Ranked by the rate adjusted for the lead mix (tests/audit/test_team_views.py), the shrunk
    # rate breaking ties.
    keys = [(s.adjusted.rate if s.adjusted else -1.0, s.win_rate_shrunk) for s in scores]
    assert keys == sorted(keys, reverse=True)


def test_win_probability_is_won_over_reached(audited) -> None:
    _, result = audited
    p = win_probability(result)
    first = result.funnel.stages[0]
    assert p[first.id] == pytest.approx(result.funnel.won / first.reached)
    assert p[result.funnel.stages[-1].id] == pytest.approx(1.0)


def test_todays_list_is_the_stuck_deals_by_revenue_at_stake(audited) -> None:
    log, result = audited
    deals = build_today(log, result, limit=500)
    funnel = log.require_funnel()
    expected = sum(
        count_deals(log, DealSelection("stuck", funnel.index(s.stage), s.max_days))
        for s in result.stuck.stages
    )
    assert len(deals) == expected == result.stuck.total_stuck > 0
    values = [d.value for d in deals]
    assert values == sorted(values, reverse=True)
    p = win_probability(result)
    for d in deals:
        assert d.days_in_stage > d.limit_days
        assert d.value == pytest.approx(d.amount * p[d.stage])
    assert any(d.next_action for d in deals)
