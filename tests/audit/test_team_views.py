"""The team views' numbers: the league adjusted for the lead mix (hand computation, statsmodels,
a planted-effect simulation), a manager's page (adds up to the team, equals the leaks table's
segment rows, Wilson intervals as statsmodels), the forecast split by owner (adds up, agrees with
the forecast's own Monte Carlo), and the drill selections behind the leaks and sources rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.proportion import proportion_confint

from voronka import api
from voronka.audit.drill_links import leak_drills, source_drills
from voronka.audit.forecast_split import split_forecast
from voronka.audit.hazards import OpenCells
from voronka.audit.leaks import build_leaks
from voronka.audit.manager_view import manager_view, team_steps
from voronka.audit.scorecards import adjusted_win_rates, build_scorecards
from voronka.audit.simulate import Arrivals, simulate_plan
from voronka.demo import generate_demo, write_demo
from voronka.engine import DealSelection, closed_strata, count_deals, open_cells_by


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("demo")
    write_demo(generate_demo(700, seed=11, months=10, end_day=15), folder)
    inputs = api.read_inputs(Path(folder))
    log = api.log_of(inputs)
    return log, api.audit_log(log, inputs.reads, plan=30)


# --- the league adjusted for the lead mix ---------------------------------------------------------

def _frame(rows: list[tuple[str | None, str, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["manager", "source", "won", "closed"])


def test_adjusted_gap_by_hand_and_against_statsmodels() -> None:
    """Two sources, three managers: the gap is the manager's rate minus the peers' rates on the
    manager's own mix (by hand); the p-value is statsmodels' CMH test (one-sided)."""
    frame = _frame([
        ("A", "good", 30, 50), ("A", "bad", 2, 50),
        ("B", "good", 40, 80), ("B", "bad", 3, 20),
        ("C", "good", 10, 20), ("C", "bad", 8, 80),
    ])
    out = adjusted_win_rates(frame)
    # A against B + C: good 50/100 = 0.5, bad 11/100 = 0.11 → expected (50·0.5 + 50·0.11)/100.
    a = out["A"]
    assert a.expected == pytest.approx((50 * 0.5 + 50 * 0.11) / 100)
    assert a.gap == pytest.approx(32 / 100 - a.expected)
    assert a.raw_gap == pytest.approx(32 / 100 - 61 / 200)
    # B wins fewer than the null expects (43 < 44.4): the one-sided p-value is the lower tail,
    # z² statsmodels' CMH statistic with its continuity correction.
    b = out["B"]
    tables = [np.array([[40, 40], [40, 30]]), np.array([[3, 17], [10, 120]])]
    cmh = StratifiedTable(tables).test_null_odds(correction=True)
    assert b.p_value < 0.5
    assert stats.norm.ppf(b.p_value) ** 2 == pytest.approx(cmh.statistic, rel=1e-9)
    team = (30 + 2 + 40 + 3 + 10 + 8) / 300
    for r in out.values():
        assert r.low <= r.rate <= r.high
        assert abs(r.rate - team) <= abs(r.gap) + 1e-9  # shrunk, never pushed past the raw gap


def test_blank_managers_are_peers_but_get_no_rate_and_one_manager_gets_none() -> None:
    frame = _frame([("A", "x", 5, 10), (None, "x", 5, 10), ("B", "x", 4, 10)])
    out = adjusted_win_rates(frame)
    assert set(out) == {"A", "B"}
    assert out["A"].expected == pytest.approx(9 / 20)
    assert adjusted_win_rates(_frame([("A", "x", 5, 10), (None, "x", 5, 10)])) == {}


def _world(rng: np.random.Generator, worse: float) -> tuple[pd.DataFrame, list[str]]:
    """Six managers, two sources (win rates 30% and 5%); manager "bad-leads" gets 85% of the
    weak source (the others 30%), manager "weak" (if ``worse``) wins ``worse`` less in both."""
    rows = []
    names = ["bad-leads", "weak", "m3", "m4", "m5", "m6"]
    for name in names:
        share_weak = 0.85 if name == "bad-leads" else 0.3
        for quarter in ("q1", "q2"):
            for source, rate in (("strong", 0.30), ("weak", 0.05)):
                n = int(rng.binomial(120, share_weak if source == "weak" else 1 - share_weak))
                p = max(rate - (worse if name == "weak" else 0.0), 0.0)
                rows.append((name, source, quarter, int(rng.binomial(n, p)), n))
    frame = pd.DataFrame(rows, columns=["manager", "source", "quarter", "won", "closed"])
    return frame, names


def test_a_manager_given_worse_leads_is_not_ranked_last_for_that_alone() -> None:
    """80 worlds where "bad-leads" sells as well as everyone but gets mostly weak leads: on raw
    win rates they come last in most worlds; on the adjusted rate in few (as often as chance
    makes any of six equal managers last: ≈ 1/6, ties broken against them). A really weaker
    manager (10 points less in both sources) is ranked last by the adjusted rate most of the time,
    and the Mantel–Haenszel test calls them worse (p < 5%) in most worlds."""
    rng = np.random.default_rng(7)
    raw_last = adjusted_last = weak_last = weak_found = 0
    worlds = 80
    for _ in range(worlds):
        frame, names = _world(rng, worse=0.10)
        rates = adjusted_win_rates(frame)
        totals = frame.groupby("manager")[["won", "closed"]].sum()
        raw = totals["won"] / totals["closed"]
        others = [n for n in names if n != "weak"]
        raw_last += raw[others].idxmin() == "bad-leads"
        adj = {n: rates[n].rate for n in others}
        adjusted_last += adj["bad-leads"] <= min(adj.values()) + 1e-12
        weak_last += rates["weak"].rate <= min(r.rate for r in rates.values()) + 1e-12
        weak_found += rates["weak"].p_value < 0.05
    print(f"raw last {raw_last}, adjusted last {adjusted_last}, weak last {weak_last}, "
          f"weak found {weak_found} of {worlds}")
    assert raw_last / worlds > 0.85
    assert adjusted_last / worlds < 0.35
    assert weak_last / worlds > 0.75
    assert weak_found / worlds > 0.75


def test_scorecards_carry_the_adjusted_rate_and_are_ranked_by_it(audited) -> None:
    log, result = audited
    scores = build_scorecards(log, result)
    frame = closed_strata(log, "manager", ("source",))
    assert int(frame["closed"].sum()) == result.funnel.won + result.funnel.lost
    assert int(frame["won"].sum()) == result.funnel.won
    named = [s for s in scores if s.manager is not None]
    assert all(s.adjusted is not None for s in named)
    assert all(s.adjusted.closed <= s.won + s.lost for s in named)  # type: ignore[union-attr]
    rates = [s.adjusted.rate for s in named]  # type: ignore[union-attr]
    assert rates == sorted(rates, reverse=True)
    assert scores[-1].manager is None  # no adjusted rate: last


# --- a manager's page ----------------------------------------------------------------------------

def test_manager_pages_add_up_to_the_team(audited) -> None:
    log, result = audited
    steps = team_steps(log, result)
    views = [manager_view(log, result, m, steps=steps) for m in steps]
    assert all(v is not None for v in views)
    blank = count_deals(log, DealSelection("all")) - sum(v.deals for v in views)  # type: ignore[union-attr]
    assert blank >= 0
    for k, stage in enumerate(result.funnel.stages):
        mine = sum(v.stages[k].reached for v in views)  # type: ignore[union-attr]
        assert mine <= stage.reached and stage.reached - mine <= blank
    stuck = {m.manager: m.stuck for m in result.stuck.by_manager}
    for v in views:
        assert v is not None
        assert v.stuck == stuck.get(v.manager, 0)
        assert v.won == count_deals(log, DealSelection("won", where=(("manager", v.manager),)))
    assert manager_view(log, result, "nobody at all") is None


def test_step_rates_with_wilson_intervals_as_statsmodels(audited) -> None:
    log, result = audited
    steps = team_steps(log, result)
    manager, mine = next(iter(steps.items()))
    for k, s in enumerate(mine):
        assert s.team_reached == result.funnel.stages[k].reached
        if s.reached:
            assert s.conversion == pytest.approx(s.moved / s.reached)
            lo, hi = proportion_confint(s.moved, s.reached, method="wilson")
            assert s.ci == pytest.approx((lo, hi))


def test_fair_comparison_equals_the_leaks_tables_segment_rows(audited) -> None:
    """The page reuses the leaks table's segment comparison: the same adjusted rate, interval,
    peers' rate and p-value as ``build_leaks(by=["manager"], all_segments=True)``."""
    log, result = audited
    steps = team_steps(log, result)
    leaks = build_leaks(log, by=["manager"], maturity=result.maturity, all_segments=True)
    rows = [lk for lk in leaks if lk.segment is not None and lk.segment.value is not None]
    assert rows
    index = {s.id: k for k, s in enumerate(result.funnel.stages)}
    below = 0
    for lk in rows:
        fair = steps[str(lk.segment.value)][index[lk.stage]].fair  # type: ignore[union-attr]
        assert fair is not None
        assert fair.adjusted == pytest.approx(lk.conversion, abs=2e-6)
        assert (fair.low, fair.high) == pytest.approx(lk.conversion_ci, abs=2e-6)
        assert fair.expected == pytest.approx(lk.expected, abs=2e-6)  # leaks clip to (1e-6, 1 − 1e-6)
        assert fair.p_value == pytest.approx(lk.p_value)
        below += fair.verdict == "below"
    assert below <= sum(lk.significant for lk in rows)


# --- the forecast split by owner -----------------------------------------------------------------

def test_forecast_split_adds_up_and_matches_the_forecast(audited) -> None:
    log, result = audited
    forecast = result.forecast
    assert forecast is not None and forecast.inputs is not None
    split = split_forecast(log, forecast)
    assert split is not None
    assert sum(r.open_deals for r in split.rows) == forecast.open_deals
    assert sum(r.won_so_far for r in split.rows) == forecast.won_so_far
    assert split.total == pytest.approx(sum(r.expected for r in split.rows) + split.new_leads)
    assert sum(r.share for r in split.rows) + split.new_leads / split.total == pytest.approx(1.0)
    # The forecast's own mean, before its backtest widening, is a Monte Carlo of the same
    # expectation: equal within a few of its standard errors.
    sims = forecast.simulations
    assert abs(split.total - forecast.expected) < 0.25 * max(forecast.widened_by, 1.0) * max(
        1.0, (forecast.p90 - forecast.p10)) + 4 / np.sqrt(sims)


def test_a_managers_expected_wins_equal_a_monte_carlo_of_their_deals(audited) -> None:
    """The expected wins of one manager's open deals, computed from win probabilities, equal the
    mean of the forecast's own simulation run on those deals alone (no new leads)."""
    log, result = audited
    forecast = result.forecast
    assert forecast is not None and forecast.inputs is not None
    inputs = forecast.inputs
    split = split_forecast(log, forecast)
    assert split is not None
    row = max(split.rows, key=lambda r: r.expected_open)
    assert row.expected_open > 0.3
    frame = open_cells_by(log, "manager", inputs.counts.edges)
    frame = frame[(frame["segment"] == row.manager) & (frame["stage_index"] < inputs.counts.exits.shape[0] - 1)]
    cells = OpenCells(
        stage=frame["stage_index"].to_numpy(dtype=np.int64),
        age=frame["days_sum"].to_numpy(dtype=np.float64) / frame["deals"].to_numpy(dtype=np.float64),
        count=frame["deals"].to_numpy(dtype=np.int64),
    )
    none = Arrivals(starts=np.zeros(1), lengths=np.ones(1), means=np.zeros(1),
                    entry_probs=np.array([1.0]))
    sim = simulate_plan(inputs.counts, cells, none, window_start=inputs.window_start,
                        horizon=inputs.horizon, n_sims=20_000, seed=inputs.seed)
    se = sim.wins.std() / np.sqrt(sim.wins.size)
    assert sim.wins.mean() == pytest.approx(row.expected_open, abs=4 * se + 1e-3)


# --- the deals behind the leaks and sources rows -------------------------------------------------

def _count(log, d) -> int:
    ids = list(log.require_funnel().stage_ids)
    where = ((d.col, d.val),) if d.col else ()
    return count_deals(log, DealSelection(d.sel, ids.index(d.stage) if d.stage else None, where=where))


def test_leak_and_source_rows_drill_to_exactly_their_deals(audited) -> None:
    log, result = audited
    drills = leak_drills(result)
    assert any(d.leak.segment is not None for d in drills) or len(drills) == len(result.leaks)
    for d in drills:
        assert d.reached.value == d.leak.n == _count(log, d.reached)
        assert d.moved.value == d.leak.moved == _count(log, d.moved)
        assert d.stopped.value == _count(log, d.stopped) == d.leak.n - d.leak.moved
    sources = source_drills(result)
    assert sources
    for s in sources:
        assert s.leads.value == s.source.leads == _count(log, s.leads)
        assert s.won.value == s.source.won == _count(log, s.won)


def test_segment_rows_count_the_last_steps_movers(audited) -> None:
    """Segment rows of the step into the won stage count their movers (the deals won)."""
    log, result = audited
    leaks = build_leaks(log, by=["manager"], maturity=result.maturity, all_segments=True)
    last = result.funnel.stages[-2].id
    rows = [lk for lk in leaks if lk.segment is not None and lk.stage == last and lk.segment.value]
    assert rows
    for lk in rows:
        won = count_deals(log, DealSelection("reached", len(result.funnel.stages) - 1,
                                             where=(("manager", str(lk.segment.value)),)))  # type: ignore[union-attr]
        assert lk.moved == won
