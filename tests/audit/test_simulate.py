"""The count-based Monte Carlo of the forecast against known answers.

References: the Gamma(2, 1) time to win of a two-step chain of unit-rate exponentials (closed
form); the memorylessness of the exponential; and the per-deal sampler (``pathsim``, exact for the
piecewise-exponential model by inverse transform) as the reference for the win probabilities and
for the whole distribution of wins, on a model with age-dependent rates, skips and losses.
"""

from __future__ import annotations

import numpy as np
import pytest
from pathsim import simulate_win_times

from voronka.audit.hazards import HazardModel, OpenCells, rates_of
from voronka.audit.simulate import Arrivals, simulate_plan, win_probabilities
from voronka.audit.win_amounts import EXACT_SUM_MAX, sample_amounts, sum_of_amounts


def no_arrivals(n_stages: int) -> Arrivals:
    return Arrivals(np.zeros(0), np.zeros(0), np.zeros(0), np.eye(n_stages)[0])


def chain() -> HazardModel:
    """Stage 0 → 1 at rate 1/day, 1 → won (2) at rate 1/day, constant."""
    rates = np.zeros((3, 1, 4))
    rates[0, 0, 1] = 1.0
    rates[1, 0, 2] = 1.0
    return HazardModel(edges=np.array([0.0]), rates=rates)


def gamma2_cdf(t: float) -> float:
    return 1.0 - np.exp(-t) * (1.0 + t)


def test_win_probability_of_a_two_step_chain_is_the_gamma_cdf() -> None:
    """Fresh in stage 0: the time to win is Gamma(2, 1), P(win < 2) = 1 − 3e^(−2) = 0.594 and
    P(1 ≤ win < 2) = F(2) − F(1). In stage 1 at any age (memoryless): P(win < 2) = 1 − e^(−2)."""
    model = chain()
    cells = OpenCells(np.array([0, 1, 1]), np.array([0.0, 0.0, 30.0]), np.array([1, 1, 1]))
    p = win_probabilities(model.rates[None], model.edges, cells, no_arrivals(3),
                          window_start=0.0, horizon=2.0).open_cells[0]
    assert p[0] == pytest.approx(gamma2_cdf(2.0), abs=1e-3)
    assert p[1] == pytest.approx(1 - np.exp(-2.0), abs=1e-3)
    assert p[2] == pytest.approx(1 - np.exp(-2.0), abs=1e-3)
    late = win_probabilities(model.rates[None], model.edges, cells, no_arrivals(3),
                             window_start=1.0, horizon=2.0).open_cells[0]
    assert late[0] == pytest.approx(gamma2_cdf(2.0) - gamma2_cdf(1.0), abs=1e-3)


def test_win_probability_of_new_leads_averages_over_their_arrival() -> None:
    """A lead arriving uniformly in [0, 1) into stage 1 of the chain, horizon 2: P(won) is the
    mean over s of 1 − e^(−(2 − s)) = 1 − (e^(−1) − e^(−2)) = 0.7675."""
    model = chain()
    arrivals = Arrivals(np.array([0.0]), np.array([1.0]), np.array([5.0]), np.array([0, 1, 0.0]))
    cells = OpenCells(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64))
    q = win_probabilities(model.rates[None], model.edges, cells, arrivals,
                          window_start=0.0, horizon=2.0).new_leads[0]
    assert q[0] == pytest.approx(1 - (np.exp(-1) - np.exp(-2)), abs=1e-3)


def aged_model() -> HazardModel:
    """Four stages + won (index 4): rates change with the days waited (edges 0, 1, 3, 10), moves
    to the next stage, skips of one, losses; stage 3's fast early exits fade out."""
    edges = np.array([0.0, 1.0, 3.0, 10.0])
    rates = np.zeros((5, 4, 6))
    for k in range(4):
        rates[k, :, k + 1] = [0.5, 0.3, 0.1, 0.02]
        rates[k, :, min(k + 2, 4)] += [0.05, 0.05, 0.02, 0.0]
        rates[k, :, 5] = [0.02, 0.05, 0.08, 0.05]
    rates[3, :, 4] = [0.9, 0.2, 0.05, 0.0]
    return HazardModel(edges=edges, rates=rates)


def test_win_probabilities_match_the_per_deal_sampler() -> None:
    """For open deals at several stages and ages, and leads arriving over ten days, the solved
    probability of a win in [2, 12) days equals the share won in that window by 40,000 deals
    moved one by one by the exact per-deal sampler (within 4 standard errors)."""
    model = aged_model()
    stage = np.array([0, 0, 1, 2, 3, 3])
    age = np.array([0.0, 7.5, 2.0, 0.4, 0.0, 20.0])
    cells = OpenCells(stage, age, np.ones(6, dtype=np.int64))
    arrivals = Arrivals(np.arange(10.0), np.ones(10), np.ones(10), np.array([0.7, 0.3, 0, 0, 0]))
    probs = win_probabilities(model.rates[None], model.edges, cells, arrivals,
                              window_start=2.0, horizon=12.0)
    rng = np.random.default_rng(7)
    n = 40_000
    for c in range(6):
        won = simulate_win_times(model, np.full(n, stage[c]), np.full(n, age[c]), np.zeros(n),
                                 12.0, rng)
        share = np.mean((won >= 2.0) & (won < 12.0))
        se = np.sqrt(share * (1 - share) / n)
        assert probs.open_cells[0, c] == pytest.approx(share, abs=4 * se + 1e-3), c
    for i in (0, 4, 9):
        entry = (rng.random(n) < 0.3).astype(np.int64)
        start = i + rng.random(n)
        won = simulate_win_times(model, entry, np.zeros(n), start, 12.0, rng)
        share = np.mean((won >= 2.0) & (won < 12.0))
        se = np.sqrt(share * (1 - share) / n)
        assert probs.new_leads[0, i] == pytest.approx(share, abs=4 * se + 1e-3), i


def test_simulated_wins_have_the_per_deal_distribution() -> None:
    """With known rates and a known lead rate, the wins of the count-based Monte Carlo
    (Σ Binomial + Poisson) have the mean, variance and deciles of the per-deal simulation of the
    same deals and leads (3,000 runs each; tolerances a few standard errors)."""
    model = aged_model()
    cells = OpenCells(np.array([0, 1, 2, 3]), np.array([0.5, 4.0, 1.5, 0.2]),
                      np.array([120, 60, 40, 25]))
    arrivals = Arrivals(np.arange(10.0), np.ones(10), np.full(10, 8.0), np.eye(5)[0])
    sims = 3000
    fast = simulate_plan(model, cells, arrivals, window_start=0.0, horizon=10.0, n_sims=sims,
                         seed=3).wins
    rng = np.random.default_rng(4)
    slow = np.zeros(sims)
    stage0 = np.repeat(cells.stage, cells.count)
    age0 = np.repeat(cells.age, cells.count)
    for s in range(sims):
        new = rng.poisson(8.0, 10)
        start = np.repeat(np.arange(10.0), new) + rng.random(new.sum())
        stage = np.concatenate([stage0, np.zeros(new.sum(), dtype=np.int64)])
        age = np.concatenate([age0, np.zeros(new.sum())])
        t0 = np.concatenate([np.zeros(stage0.size), start])
        slow[s] = np.isfinite(simulate_win_times(model, stage, age, t0, 10.0, rng)).sum()
    se = slow.std() / np.sqrt(sims)
    assert fast.mean() == pytest.approx(slow.mean(), abs=4 * np.sqrt(2) * se)
    assert fast.var() == pytest.approx(slow.var(), rel=0.12)
    assert np.quantile(fast, [0.1, 0.9]) == pytest.approx(np.quantile(slow, [0.1, 0.9]), abs=2)


def test_sum_of_amounts_has_the_distribution_of_one_by_one_draws() -> None:
    """Above EXACT_SUM_MAX wins the sum is drawn by segment counts; its mean is wins × the mean of
    the quantile distribution (Σ segment midpoints / S, exact), and its spread and deciles match
    the sum of draws one by one (skewed lognormal amounts, 10,000 runs; tolerances in standard
    errors of the one-by-one sums)."""
    rng = np.random.default_rng(0)
    quantiles = np.quantile(rng.lognormal(11, 0.8, 100_000), np.linspace(0, 1, 101))
    mean = float(np.mean((quantiles[:-1] + quantiles[1:]) / 2))
    runs = 10_000
    for n in (EXACT_SUM_MAX, EXACT_SUM_MAX + 1, 1000):
        fast = sum_of_amounts(np.full(runs, n), quantiles, rng)
        slow = sample_amounts(quantiles, runs * n, rng).reshape(runs, n).sum(axis=1)
        se = slow.std() / np.sqrt(runs)
        assert fast.mean() == pytest.approx(n * mean, abs=4 * se)
        assert fast.std() == pytest.approx(slow.std(), rel=0.05)
        deciles = np.quantile(fast, [0.1, 0.5, 0.9])
        assert deciles == pytest.approx(np.quantile(slow, [0.1, 0.5, 0.9]), abs=8 * se)


def test_simulate_plan_is_reproducible_and_never_negative() -> None:
    model = aged_model()
    cells = OpenCells(np.array([0, 2]), np.array([1.0, 3.0]), np.array([50, 5]))
    arrivals = Arrivals(np.arange(3.0), np.ones(3), np.full(3, 4.0), np.eye(5)[0], rate_shape=50)
    q = np.linspace(10.0, 20.0, 101)
    a = simulate_plan(model, cells, arrivals, window_start=0, horizon=3, n_sims=300,
                      amount_quantiles=q, seed=9)
    b = simulate_plan(model, cells, arrivals, window_start=0, horizon=3, n_sims=300,
                      amount_quantiles=q, seed=9)
    assert np.array_equal(a.wins, b.wins) and a.revenue is not None and b.revenue is not None
    assert np.array_equal(a.revenue, b.revenue)
    assert (a.wins >= 0).all() and (a.revenue >= 10.0 * a.wins - 1e-9).all()


def test_rates_fill_buckets_without_exposure_from_the_previous_one() -> None:
    """By hand: exposure [1, 2, 0, 0] → buckets 2, 3 take bucket 1's rate exits/2; a stage with
    no exposure in its first bucket has rate 0 there; the last stage (won) is absorbing."""
    exits = np.zeros((3, 4, 4))
    exits[0, :, 1] = [3.0, 4.0, 0.0, 0.0]
    exits[1, :, 2] = [5.0, 6.0, 0.0, 9.0]
    exposure = np.array([[1.0, 2.0, 0.0, 0.0], [0.0, 3.0, 0.0, 3.0], [1.0, 1.0, 1.0, 1.0]])
    rates = rates_of(exits, exposure)
    assert rates[0, :, 1].tolist() == [3.0, 2.0, 2.0, 2.0]
    assert rates[1, :, 2].tolist() == [0.0, 2.0, 2.0, 3.0]
    assert (rates[2] == 0).all()


def test_a_backward_move_is_refused() -> None:
    rates = np.zeros((1, 3, 1, 4))
    rates[0, 1, 0, 0] = 0.1
    cells = OpenCells(np.array([1]), np.array([0.0]), np.array([1]))
    with pytest.raises(ValueError, match="forward"):
        win_probabilities(rates, np.array([0.0]), cells, no_arrivals(3), window_start=0,
                          horizon=1)


def _open_cells_in_one_pass(rates, edges, cells, mean_w, dt, steps):  # type: ignore[no-untyped-def]
    """The open cells' win probabilities as computed before the cache-sized passes: every draw
    and every stage × bucket pair at once, the cells' buckets gathered by fancy indexing."""
    total = rates.sum(axis=3)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total[..., None] > 0, rates / total[..., None], 0.0)
    cum = np.zeros(total.shape)
    cum[:, :, 1:] = np.cumsum(total[:, :, :-1] * np.diff(edges), axis=2)
    ages = cells.age[:, None] + dt * np.arange(steps + 1)[None, :]
    bucket = np.searchsorted(edges, ages, side="right") - 1
    # np.take keeps the (draws, cells, steps) layout C-ordered, so the sum over the steps runs
    # along rows as it did (fancy indexing here would change the summation order)
    flat = cells.stage[:, None] * edges.size + bucket
    at = np.take(cum.reshape(len(cum), -1), flat, axis=1)
    at += np.take(total.reshape(len(total), -1), flat, axis=1) * (ages - edges[bucket])
    at -= at[:, :, :1].copy()
    survive = np.exp(-at)
    leave = survive[:, :, :-1] - survive[:, :, 1:]
    middle = np.searchsorted(edges, ages[:, :-1] + dt / 2, side="right") - 1
    then = np.einsum("dkbi,din->dkbn", share, mean_w)
    gathered = then[:, cells.stage[:, None], middle, np.arange(steps)[None, :]]
    return (leave * gathered).sum(axis=2)


def test_open_cells_in_cache_sized_passes_give_the_one_pass_numbers_exactly() -> None:
    """The open cells' probabilities, computed a few draws at a time over the stage × bucket
    pairs the cells pass through, are bit for bit those of one pass over everything (the
    forecast's JSON must not change with how the work is split)."""
    from voronka.audit import sim_grid

    rng = np.random.default_rng(7)
    n_stages, edges = 5, np.array([0.0, 1.0, 3.0, 10.0, 30.0])
    rates = rng.gamma(1.0, 0.2, size=(6, n_stages, edges.size, n_stages + 1))
    for k in range(n_stages):
        rates[:, k, :, : k + 1] = 0.0  # forward moves only
    rates[:, -1] = 0.0
    rates[:, 1, 2:] = 0.0  # buckets without exits
    total = rates.sum(axis=3)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total[..., None] > 0, rates / total[..., None], 0.0)
    steps, dt = 97, 0.05
    mean_w = rng.random((6, n_stages + 1, steps))
    cells = OpenCells(rng.integers(0, n_stages - 1, 300), rng.random(300) * 40.0,
                      np.ones(300, dtype=np.int64))
    want = _open_cells_in_one_pass(rates, edges, cells, mean_w, dt, steps)
    got = sim_grid.open_cell_probabilities(total, edges, share, mean_w, cells, dt, steps)
    assert 6 * 300 * (steps + 1) > 2 * sim_grid.CACHE_CELL_STEPS  # several passes
    assert np.array_equal(got, want)
    assert got.min() >= 0.0 and got.max() > 0.01
