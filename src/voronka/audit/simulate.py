"""Monte Carlo of the deals won in a window: open deals move on, new leads arrive, some are won.

The model is the piecewise-exponential competing-risks model of :mod:`voronka.audit.hazards`: a
deal in stage *k* that has waited ``a`` days leaves it at the rates of the bucket ``a`` falls in,
for a later stage or for lost; its age restarts at 0 in the next stage.

The simulation draws **counts, not deals**. Given the rates, deals are independent, so

* the ``N`` open deals of a cell (same stage, same days waited) contribute
  ``Binomial(N, p)`` wins, ``p`` the probability that such a deal is won inside the window;
* new leads arriving as a Poisson process contribute ``Poisson(Σ_i m_i q_i)`` wins (Poisson
  thinning), ``m_i`` the expected leads of interval *i* and ``q_i`` the probability that a lead
  arriving then is won inside the window.

These are the exact distributions of the per-deal simulation (Feller, *An Introduction to
Probability Theory*, vol. 1, §VI and §XII), at a cost that does not depend on the number of deals.
``p`` and ``q`` come from the backward equation of the semi-Markov process on a time grid
(:func:`win_probabilities`). The uncertainty of the rates is carried by solving it for several
draws of the rates from their posterior, one per batch of simulations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from voronka.audit.hazards import HazardCounts, HazardModel, OpenCells
from voronka.audit.sim_grid import (
    correlate,
    exit_cells,
    open_cell_probabilities,
    reversed_spectrum,
)
from voronka.audit.win_amounts import sum_of_amounts

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

GRID_STEP = 0.05
"""Days per step of the time grid the win probabilities are solved on (finer for long windows
is not needed: the grid error is far below the Monte Carlo error; see the tests)."""

MAX_GRID = 2000
"""Most steps of the grid: a window longer than 100 days gets proportionally coarser steps."""

@dataclass(frozen=True)
class Arrivals:
    """The expected flow of new leads over the simulated window.

    Attributes:
        starts: start of each interval, days from now (intervals are calendar days or parts).
        lengths: length of each interval in days.
        means: expected new leads in each interval (rate × length, weekday pattern included).
        entry_probs: the share of new leads that start in each stage (usually all in the first).
        rate_shape: the number of leads the rate was estimated from: the rate of each simulation
            is drawn from Gamma(rate_shape, 1 / rate_shape) × the estimate (posterior uncertainty
            of a Poisson rate); 0 means no uncertainty.
        log_sd: with a lead model (:mod:`voronka.audit.arrivals`): the standard deviation of the
            log of the expected leads (the coefficients' uncertainty); the rate of each simulation
            is multiplied by a mean-one log-normal of this spread.
        dispersion: and the variance of a mean-one Gamma factor (negative-binomial
            overdispersion of the window's leads).
    """

    starts: FloatArray
    lengths: FloatArray
    means: FloatArray
    entry_probs: FloatArray
    rate_shape: float = 0.0
    log_sd: float = 0.0
    dispersion: float = 0.0


def lead_factors(arrivals: Arrivals, n: int, rng: np.random.Generator) -> FloatArray:
    """The mean-one factor each simulation multiplies the expected leads by (see
    :class:`Arrivals`): Gamma(rate_shape) for a Poisson rate estimate, else log-normal(log_sd) ×
    Gamma(1/dispersion)."""
    g = np.ones(n)
    if arrivals.rate_shape > 0:
        g = rng.gamma(arrivals.rate_shape, 1.0 / arrivals.rate_shape, size=n)
    if arrivals.log_sd > 0:
        sd = arrivals.log_sd
        g = g * np.exp(sd * rng.standard_normal(n) - sd * sd / 2)
    if arrivals.dispersion > 0:
        shape = 1.0 / arrivals.dispersion
        g = g * rng.gamma(shape, 1.0 / shape, size=n)
    return np.asarray(g, dtype=np.float64)


@dataclass(frozen=True)
class BigDeals:
    """Open deals followed one by one because their known amounts matter (the largest ones).

    Attributes:
        stage: stage index of each.
        age: days each has waited in its stage.
        amount: each one's amount.
    """

    stage: IntArray
    age: FloatArray
    amount: FloatArray


@dataclass(frozen=True)
class Simulation:
    """Outcomes of the Monte Carlo, one value per simulation.

    Attributes:
        wins: deals won inside the plan window in each simulation (not counting the past).
        revenue: the sum of their amounts, None without an amount distribution.
    """

    wins: IntArray
    revenue: FloatArray | None


@dataclass(frozen=True)
class WinProbabilities:
    """Probabilities of a win inside the window, one row per set of rates.

    Attributes:
        open_cells: ``(draws, cells)`` for a deal of each open cell.
        new_leads: ``(draws, intervals)`` for a lead arriving in each interval of the arrivals
            (uniformly inside it, in an entry stage drawn from ``entry_probs``).
    """

    open_cells: FloatArray
    new_leads: FloatArray


def _grid(horizon: float) -> tuple[int, float]:
    steps = int(np.ceil(horizon / GRID_STEP - 1e-9))
    steps = min(max(steps, 1), MAX_GRID)
    return steps, horizon / steps


def _interval_means(
    values: FloatArray, dt: float, starts: FloatArray, ends: FloatArray
) -> FloatArray:
    """Mean over ``[starts, ends)`` of the piecewise-linear function with ``values`` (last axis)
    at ``0, dt, 2dt, …`` (exact integral of the interpolant)."""
    n = values.shape[-1]
    steps = np.diff(values, axis=-1)
    cumulative = np.zeros(values.shape)
    cumulative[..., 1:] = np.cumsum((values[..., :-1] + values[..., 1:]) * dt / 2, axis=-1)

    def integral(x: FloatArray) -> FloatArray:
        i = np.clip(np.floor(x / dt).astype(np.int64), 0, n - 2)
        u = np.clip(x - i * dt, 0.0, dt)
        slope = steps[..., i] / dt
        return np.asarray(
            cumulative[..., i] + values[..., i] * u + slope * u * u / 2, dtype=np.float64
        )

    length = np.maximum(ends - starts, 1e-12)
    return np.asarray((integral(ends) - integral(starts)) / length, dtype=np.float64)


def _overlap(lo: FloatArray, hi: FloatArray, window_start: float, horizon: float) -> FloatArray:
    """Share of each ``[lo, hi)`` inside ``[window_start, horizon)``."""
    inside = np.clip(np.minimum(hi, horizon) - np.maximum(lo, window_start), 0.0, None)
    return np.asarray(inside / np.maximum(hi - lo, 1e-12), dtype=np.float64)


def win_probabilities(
    rates: FloatArray,
    edges: FloatArray,
    cells: OpenCells,
    arrivals: Arrivals,
    *,
    window_start: float,
    horizon: float,
) -> WinProbabilities:
    """P(won in ``[window_start, horizon)`` days from now) for open cells and new leads.

    Backward equation on a grid ``s_m = m·Δ`` (``Δ`` ≈ :data:`GRID_STEP`): with ``W_j(s)`` the
    probability that a deal entering stage *j* fresh at time *s* is won inside the window,

        W_won(s) = 1[window_start ≤ s < horizon],
        W_j(s_m) = Σ_i Σ_n P_ji[n] · W̄_i(s_{m+n}),

    where ``P_ji[n]`` is the exact probability of leaving *j* for *i* during the n-th step of its
    age (destination split at the step's middle) and ``W̄_i`` the mean of ``W_i`` over the step
    (the move happens inside it). Moves go only to later stages, so ``W`` is solved from the won
    stage backwards, each sum being a correlation (FFT). An open deal aged ``a`` uses the same
    sum with its exit probabilities from age ``a``; a new lead the mean of ``W_entry`` over its
    arrival interval. Grid error O(Δ²) in smooth regions, O(Δ) at the window's edges.

    Args:
        rates: ``(draws, stages, buckets, stages + 1)`` sets of rates (:class:`HazardModel`
            ``rates`` with a leading axis); destinations must be later stages or lost.
        edges: bucket starts.
        cells: the open deals.
        arrivals: the new leads.
        window_start: start of the counted window, days from now (≥ 0).
        horizon: end of the window and of the simulation, days from now.
    """
    draws, n_stages = rates.shape[0], rates.shape[1]
    won = n_stages - 1
    n_cells, n_intervals = cells.stage.shape[0], arrivals.means.shape[0]
    if horizon <= 0:
        return WinProbabilities(np.zeros((draws, n_cells)), np.zeros((draws, n_intervals)))
    for k in range(n_stages):
        if np.any(rates[:, k, :, : k + 1] > 0):
            raise ValueError(f"stage {k} has moves to itself or backwards; the model is forward")
    steps, dt = _grid(horizon)
    grid = dt * np.arange(steps + 1, dtype=np.float64)
    total = rates.sum(axis=3)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total[..., None] > 0, rates / total[..., None], 0.0)
    # mean_w[:, i, m]: mean of W_i over [s_m, s_{m+1}); lost (index n_stages) stays 0.
    mean_w = np.zeros((draws, n_stages + 1, steps))
    mean_w[:, won] = _overlap(grid[:-1], grid[1:], window_start, horizon)
    point_w = np.zeros((draws, n_stages, steps + 1))
    point_w[:, won] = ((grid >= window_start) & (grid < horizon)).astype(np.float64)
    fresh = np.arange(n_stages - 1)
    leave, middle = exit_cells(rates, edges, fresh, np.zeros(n_stages - 1), dt, steps)
    # Each later stage's W̄ spectrum, computed once (None: W̄ is 0 there, nothing to add).
    spectra: dict[int, FloatArray | None] = {}
    for j in range(won - 1, -1, -1):
        # value[:, n, m]: P(leave j during age-step n and then be won) for entry step m, by
        # destination; the correlation sums over n with W̄ at step m + n.
        acc = np.zeros((draws, steps))
        for i in range(j + 1, n_stages):
            kernel = leave[:, j] * share[:, j, middle[j], i]  # (draws, steps)
            if i not in spectra:
                spectra[i] = reversed_spectrum(mean_w[:, i]) if mean_w[:, i].any() else None
            spectrum = spectra[i]
            if spectrum is None or not kernel.any():
                continue
            acc += correlate(mean_w[:, i], kernel, spectrum)
        point_w[:, j, :steps] = np.clip(acc, 0.0, 1.0)
        mean_w[:, j] = (point_w[:, j, :-1] + point_w[:, j, 1:]) / 2
    open_p = np.zeros((draws, n_cells))
    if n_cells:
        open_p = open_cell_probabilities(total, edges, share, mean_w, cells, dt, steps)
    ends = arrivals.starts + arrivals.lengths
    entry = arrivals.entry_probs / max(float(arrivals.entry_probs.sum()), 1e-12)
    new_p = np.zeros((draws, n_intervals))
    for e in np.flatnonzero(entry > 0):
        if e >= won:
            new_p += entry[e] * _overlap(arrivals.starts, ends, window_start, horizon)
        else:
            new_p += entry[e] * _interval_means(point_w[:, e], dt, arrivals.starts, ends)
    return WinProbabilities(np.clip(open_p, 0.0, 1.0), np.clip(new_p, 0.0, 1.0))


def simulate_plan(
    model: HazardModel | HazardCounts,
    cells: OpenCells,
    arrivals: Arrivals,
    *,
    window_start: float,
    horizon: float,
    n_sims: int = 4000,
    amount_quantiles: FloatArray | None = None,
    seed: int = 0,
    parameter_draws: int = 20,
    big: BigDeals | None = None,
    adjust: Callable[[FloatArray], FloatArray] | None = None,
) -> Simulation:
    """Monte Carlo of the deals won in ``[window_start, horizon)`` days from now.

    Given :class:`HazardCounts`, the simulations are split into ``parameter_draws`` batches, each
    with its own draw of the rates from their posterior; given a :class:`HazardModel`, the rates
    are taken as known. In each simulation the leads' rate is multiplied by ``g`` drawn from
    ``Gamma(rate_shape, 1 / rate_shape)`` (see :class:`Arrivals`); the wins are
    ``Σ_cells Binomial(count, p) + Poisson(g · Σ_i means_i q_i)`` (see the module docstring), and
    the revenue the sum of as many amounts drawn from ``amount_quantiles``
    (:func:`voronka.audit.win_amounts.sum_of_amounts`). ``big`` deals (not in
    ``cells``) are each won with their own probability and bring their own amount: a month that two
    large deals decide shows it. ``adjust`` changes the drawn rates (shape ``(draws, stages,
    buckets, stages + 1)``) before they are used: a what-if that keeps every random number of
    the forecast (common random numbers), so the difference is the change alone.
    """
    rng = np.random.default_rng(seed)
    if isinstance(model, HazardCounts):
        draws = max(1, min(parameter_draws, n_sims))
        rates = model.draw_rates(rng, draws)
        edges = np.asarray(model.edges, dtype=np.float64)
    else:
        draws = 1
        rates = model.rates[None]
        edges = model.edges
    if adjust is not None:
        rates = adjust(rates)
    n_big = big.amount.shape[0] if big is not None else 0
    every = cells
    if big is not None and n_big:
        every = OpenCells(
            stage=np.concatenate([cells.stage, big.stage]),
            age=np.concatenate([cells.age, big.age]),
            count=np.concatenate([cells.count, np.ones(n_big, dtype=np.int64)]),
        )
    probs = win_probabilities(
        rates, edges, every, arrivals, window_start=window_start, horizon=horizon
    )
    n_cells = cells.count.shape[0]
    batch = np.minimum(np.arange(n_sims) * draws // max(n_sims, 1), draws - 1)
    g = lead_factors(arrivals, n_sims, rng)
    new_mean = probs.new_leads @ arrivals.means  # (draws,)
    wins = rng.poisson(g * new_mean[batch]).astype(np.int64)
    if n_cells:
        p = probs.open_cells[batch][:, :n_cells]  # (n_sims, cells)
        wins += rng.binomial(np.broadcast_to(cells.count, p.shape), p).sum(axis=1)
    big_money = np.zeros(n_sims)
    big_wins = np.zeros(n_sims, dtype=np.int64)
    if big is not None and n_big:
        won = rng.random((n_sims, n_big)) < probs.open_cells[batch][:, n_cells:]
        big_wins = won.sum(axis=1).astype(np.int64)
        big_money = won.astype(np.float64) @ big.amount
    revenue = None
    if amount_quantiles is not None:
        revenue = sum_of_amounts(wins, amount_quantiles, rng) + big_money
    return Simulation(wins=wins + big_wins, revenue=revenue)
