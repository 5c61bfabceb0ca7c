"""Monte Carlo of the funnel's future: open deals move on, new leads arrive, some are won.

The model is a **piecewise-exponential competing-risks model** of the time a deal spends in a stage
(Friedman 1982, "Piecewise exponential models for survival data with covariates"): the days a deal
has spent in stage *k* are cut into buckets ``[edges[b], edges[b+1])``; inside a bucket the deal
leaves towards destination *j* (a later stage, or lost) at the constant daily rate

    λ[k, b, j] = exits[k, b, j] / exposure[k, b],

the maximum-likelihood estimate, where ``exposure`` is the deal-days spent in that bucket by every
episode of the stage, finished or still open (open ones are right-censored). Because the rate
depends on the bucket, a deal that has already waited long in a stage moves on with the rates of
old deals, not of fresh ones: the forecast is conditioned on how long each open deal has waited.

Sampling is exact for this model and vectorised: a deal at age ``a`` leaves when its cumulative
hazard ``H(x)`` reaches ``H(a) + E`` with ``E ~ Exp(1)``; the destination is drawn with
probabilities ``λ[k, b, ·] / Σ_j λ[k, b, j]`` of the bucket it leaves in. Everything here works
on small arrays (stages × buckets); nothing reads raw rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

MAX_ITEMS_PER_CHUNK = 2_000_000
"""Simulated deals processed at once; bounds memory whatever the number of simulations."""


@dataclass(frozen=True)
class HazardModel:
    """Daily exit rates per stage, bucket of days in stage, and destination.

    Attributes:
        edges: start (in days in stage) of each bucket, increasing, ``edges[0] == 0``; the last
            bucket is open-ended.
        rates: array ``(stages, buckets, stages + 1)``: the daily rate of leaving stage *k* in
            bucket *b* for stage *j* (``j < stages``) or for lost (``j == stages``). The last
            stage is the won stage and absorbing (its rates are zero).
    """

    edges: FloatArray
    rates: FloatArray

    @property
    def n_stages(self) -> int:
        """Stages of the line, the won stage included (the last)."""
        return int(self.rates.shape[0])

    @property
    def lost_index(self) -> int:
        """The destination index that means lost."""
        return self.n_stages

    def total_rates(self) -> FloatArray:
        """``Λ[k, b] = Σ_j λ[k, b, j]``: the daily rate of leaving stage *k* in bucket *b*."""
        return np.asarray(self.rates.sum(axis=2), dtype=np.float64)

    def cumulative_hazard_at_edges(self) -> FloatArray:
        """``H_k(edges[b])`` for b = 0 … buckets − 1: array ``(stages, buckets)``."""
        widths = np.diff(self.edges)
        total = self.total_rates()
        out = np.zeros(total.shape, dtype=np.float64)
        out[:, 1:] = np.cumsum(total[:, :-1] * widths, axis=1)
        return out

    def leave_probability(self, stage: int, days: float) -> float:
        """P(a deal fresh in ``stage`` leaves it within ``days``): ``1 − exp(−H(days))``."""
        return float(1.0 - np.exp(-self._hazard(np.full(1, stage), np.full(1, days))[0]))

    def _hazard(self, stage: IntArray, age: FloatArray) -> FloatArray:
        bucket = np.searchsorted(self.edges, age, side="right") - 1
        cum = self.cumulative_hazard_at_edges()
        total = self.total_rates()
        return np.asarray(
            cum[stage, bucket] + total[stage, bucket] * (age - self.edges[bucket]),
            dtype=np.float64,
        )


def bucket_exposure(ends: FloatArray, days_sum: FloatArray, edges: Sequence[float]) -> FloatArray:
    """Deal-days spent in each bucket, from a histogram of where episodes ended.

    An episode that lasted ``T`` days contributes ``min(max(T − edges[b], 0), width[b])`` days to
    bucket *b*. Summed over episodes this is

        exposure[k, b] = (episodes ending after bucket b) × width[b]
                         + (Σ T over episodes ending in b) − edges[b] × (episodes ending in b),

    so the engine need only return counts and day sums per stage × bucket (the last bucket is
    open-ended and has only the second term).

    Args:
        ends: ``(stages, buckets)`` episodes (left or still open) whose length falls in bucket b.
        days_sum: ``(stages, buckets)`` the sum of those episodes' lengths in days.
        edges: bucket starts.
    """
    edge = np.asarray(edges, dtype=np.float64)
    widths = np.append(np.diff(edge), 0.0)
    later = np.cumsum(ends[:, ::-1], axis=1)[:, ::-1] - ends  # episodes ending after bucket b
    return np.asarray(later * widths + days_sum - edge * ends, dtype=np.float64)


def fit_hazards(
    exits: FloatArray,
    exposure: FloatArray,
    edges: Sequence[float],
    rng: np.random.Generator | None = None,
) -> HazardModel:
    """Maximum-likelihood piecewise-exponential rates ``λ = exits / exposure``.

    With ``rng``, the rates are instead one draw from their posterior under a flat prior: for a
    Poisson process observed over ``exposure`` deal-days with ``exits`` events,
    ``λ | data ~ Gamma(exits, 1 / exposure)`` (Gelman et al., *Bayesian Data Analysis*, §2.6);
    the Monte Carlo draws one model per batch of simulations so that the forecast's range carries
    the uncertainty of the rates as well as the luck of the deals.

    A bucket with no exposure (no deal ever waited that long) takes the rates of the nearest
    earlier bucket that has some, so a deal older than any seen keeps the behaviour of the oldest
    deals observed instead of freezing.

    Args:
        exits: ``(stages, buckets, stages + 1)`` episodes of stage *k* that ended in bucket *b* by
            moving to stage *j* (or lost, the last index).
        exposure: ``(stages, buckets)`` deal-days, see :func:`bucket_exposure`.
        edges: bucket starts.
    """
    exits = np.asarray(exits, dtype=np.float64)
    exposure = np.asarray(exposure, dtype=np.float64)
    if rng is not None:
        exits = rng.gamma(np.maximum(exits, 1e-12)) * (exits > 0)
    rates = np.zeros_like(exits)
    for k in range(exits.shape[0]):
        last: FloatArray | None = None
        for b in range(exits.shape[1]):
            if exposure[k, b] > 1e-9:
                last = exits[k, b] / exposure[k, b]
                rates[k, b] = last
            elif last is not None:
                rates[k, b] = last
    rates[-1] = 0.0  # the won stage is absorbing
    return HazardModel(edges=np.asarray(edges, dtype=np.float64), rates=rates)


def sample_exits(
    model: HazardModel, stage: IntArray, age: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, IntArray]:
    """When (days from now) and where each deal leaves its stage; ``inf`` when it never does.

    Inverse transform on the cumulative hazard: the deal leaves at the age ``x`` where
    ``H(x) = H(age) + E``, ``E ~ Exp(1)``, which conditions on its having survived to ``age``.
    """
    n = stage.shape[0]
    wait = np.full(n, np.inf)
    dest = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return wait, dest
    edges = model.edges
    cum = model.cumulative_hazard_at_edges()
    total = model.total_rates()
    with np.errstate(divide="ignore", invalid="ignore"):
        cumprob = np.cumsum(model.rates, axis=2) / total[:, :, None]
    target = model._hazard(stage, age) + rng.exponential(size=n)
    n_buckets = edges.shape[0]
    # One search over all stages: each stage's (non-decreasing) row is shifted past the previous.
    inner = cum[:, 1:]
    offset = float(inner.max(initial=0.0) + target.max() + 1.0)
    shifted = (inner + offset * np.arange(inner.shape[0])[:, None]).ravel()
    bucket = np.searchsorted(shifted, target + offset * stage, side="right") - stage * inner.shape[1]
    rate = total[stage, bucket]
    leaves = rate > 0
    # In the open-ended last bucket a zero rate means the deal never leaves.
    leaves &= (bucket < n_buckets) & np.isfinite(target)
    x = edges[bucket[leaves]] + (target[leaves] - cum[stage[leaves], bucket[leaves]]) / rate[leaves]
    wait[leaves] = np.maximum(x - age[leaves], 0.0)
    u = rng.random(int(leaves.sum()))
    probs = cumprob[stage[leaves], bucket[leaves]]
    dest[leaves] = np.argmax(u[:, None] < probs, axis=1)
    return wait, dest


def simulate_win_times(
    model: HazardModel,
    stage: IntArray,
    age: FloatArray,
    start: FloatArray,
    horizon: float,
    rng: np.random.Generator,
) -> FloatArray:
    """The time (days from now) each deal is won, or ``inf`` if not won before ``horizon``.

    Each deal moves stage by stage (skips allowed: the destination may be any later stage) until
    it is won, lost, or its next move falls after ``horizon``.

    Args:
        model: the fitted rates.
        stage: current stage index of each deal.
        age: days already spent in that stage.
        start: the time (days from now) the deal is in that state (0 for open deals, the arrival
            time for new leads).
        horizon: the end of the simulated window, days from now.
        rng: the random generator.
    """
    won_stage = model.n_stages - 1
    won_at = np.where(stage >= won_stage, start, np.inf)  # a path may begin in the won stage
    idx = np.flatnonzero(stage < won_stage)
    k, a, t = stage[idx], age[idx], start[idx]
    while idx.size:
        wait, dest = sample_exits(model, k, a, rng)
        t_exit = t + wait
        moving = (t_exit < horizon) & (dest >= 0) & (dest != model.lost_index)
        won = moving & (dest == won_stage)
        won_at[idx[won]] = t_exit[won]
        go = moving & ~won
        idx, k, a, t = idx[go], dest[go], np.zeros(int(go.sum())), t_exit[go]
    return won_at


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
    """

    starts: FloatArray
    lengths: FloatArray
    means: FloatArray
    entry_probs: FloatArray
    rate_shape: float = 0.0


@dataclass(frozen=True)
class Simulation:
    """Outcomes of the Monte Carlo, one value per simulation.

    Attributes:
        wins: deals won inside the plan window in each simulation (not counting the past).
        revenue: the sum of their amounts, None without an amount distribution.
    """

    wins: IntArray
    revenue: FloatArray | None


def sample_amounts(quantiles: FloatArray, n: int, rng: np.random.Generator) -> FloatArray:
    """Draw ``n`` amounts from a distribution given by equally spaced quantiles (0 … 1).

    Inverse transform on the piecewise-linear quantile function: exact for the empirical
    distribution the quantiles were read from, up to interpolation between them.
    """
    grid = np.linspace(0.0, 1.0, quantiles.shape[0])
    return np.asarray(np.interp(rng.random(n), grid, quantiles), dtype=np.float64)


def simulate_plan(
    model: HazardModel | HazardCounts,
    open_stage: IntArray,
    open_age: FloatArray,
    arrivals: Arrivals,
    *,
    window_start: float,
    horizon: float,
    n_sims: int = 4000,
    amount_quantiles: FloatArray | None = None,
    seed: int = 0,
    parameter_draws: int = 20,
) -> Simulation:
    """Monte Carlo of the deals won in ``[window_start, horizon)`` days from now.

    Open deals start from their current stage and age; new leads arrive per interval as
    Poisson(mean × g) with ``g`` the simulation's rate multiplier (see :class:`Arrivals`), at a
    uniform moment inside the interval, in an entry stage drawn from ``entry_probs``.
    Simulations are processed in chunks so memory stays bounded. Given :class:`HazardCounts`,
    each chunk (at most ``n_sims / parameter_draws`` simulations) runs on its own draw of the
    rates from their posterior; given a :class:`HazardModel`, the rates are taken as known.
    """
    rng = np.random.default_rng(seed)
    counts_given = isinstance(model, HazardCounts)
    wins = np.zeros(n_sims, dtype=np.int64)
    revenue = np.zeros(n_sims) if amount_quantiles is not None else None
    n_open = open_stage.shape[0]
    expected_new = float(arrivals.means.sum())
    per_sim = max(1.0, n_open + expected_new)
    chunk = max(1, int(MAX_ITEMS_PER_CHUNK // per_sim))
    if counts_given:
        chunk = min(chunk, max(1, -(-n_sims // parameter_draws)))
    entry_cum = np.cumsum(arrivals.entry_probs) / max(arrivals.entry_probs.sum(), 1e-12)
    for lo in range(0, n_sims, chunk):
        hi = min(n_sims, lo + chunk)
        c = hi - lo
        drawn = model.fit(rng) if isinstance(model, HazardCounts) else model
        if arrivals.rate_shape > 0:
            g = rng.gamma(arrivals.rate_shape, 1.0 / arrivals.rate_shape, size=c)
        else:
            g = np.ones(c)
        counts = rng.poisson(g[:, None] * arrivals.means[None, :])  # (c, intervals)
        flat = counts.ravel()
        new_sim = np.repeat(np.repeat(np.arange(c), arrivals.means.shape[0]), flat)
        interval = np.repeat(np.tile(np.arange(arrivals.means.shape[0]), c), flat)
        new_time = arrivals.starts[interval] + rng.random(new_sim.shape[0]) * arrivals.lengths[
            interval
        ]
        new_stage = np.searchsorted(entry_cum, rng.random(new_sim.shape[0]), side="right")
        new_stage = np.minimum(new_stage, drawn.n_stages - 1)
        stage = np.concatenate([np.tile(open_stage, c), new_stage]).astype(np.int64)
        age = np.concatenate([np.tile(open_age, c), np.zeros(new_sim.shape[0])])
        start = np.concatenate([np.zeros(n_open * c), new_time])
        sim = np.concatenate([np.repeat(np.arange(c), n_open), new_sim])
        won_at = simulate_win_times(drawn, stage, age, start, horizon, rng)
        hit = (won_at >= window_start) & (won_at < horizon)
        wins[lo:hi] = np.bincount(sim[hit], minlength=c)
        if revenue is not None and amount_quantiles is not None:
            amounts = sample_amounts(amount_quantiles, int(hit.sum()), rng)
            revenue[lo:hi] = np.bincount(sim[hit], weights=amounts, minlength=c)
    return Simulation(wins=wins, revenue=revenue)


@dataclass(frozen=True)
class HazardCounts:
    """The sufficient statistics of the piecewise-exponential model.

    Attributes:
        exits: ``(stages, buckets, stages + 1)`` episodes that ended in each bucket, by destination
            (the last index is lost).
        exposure: ``(stages, buckets)`` deal-days spent in each bucket.
        edges: bucket starts.
    """

    exits: FloatArray
    exposure: FloatArray
    edges: FloatArray

    def fit(self, rng: np.random.Generator | None = None) -> HazardModel:
        """The maximum-likelihood model, or with ``rng`` a draw from its posterior."""
        return fit_hazards(self.exits, self.exposure, self.edges.tolist(), rng)


def hazards_from_episodes(
    episodes: pd.DataFrame, n_stages: int, edges: Sequence[float], *, recent_only: bool = True
) -> HazardCounts:
    """The :class:`HazardCounts` of the engine's episode histogram (see ``FlowSnapshot``).

    ``episodes`` has ``stage_index``, ``bucket``, ``to_index`` (a later stage, ``-1`` lost,
    ``-2`` still open), ``recent``, ``deals``, ``days_sum``. Open episodes count in the exposure
    (censored), not as exits.
    """
    n_buckets = len(edges)
    ep = episodes[episodes["recent"]] if recent_only and "recent" in episodes else episodes
    ep = ep[(ep["stage_index"] >= 0) & (ep["stage_index"] < n_stages - 1)]
    stage = ep["stage_index"].to_numpy(dtype=np.int64)
    bucket = np.minimum(ep["bucket"].to_numpy(dtype=np.int64), n_buckets - 1)
    to = ep["to_index"].to_numpy(dtype=np.int64)
    deals = ep["deals"].to_numpy(dtype=np.float64)
    days = ep["days_sum"].to_numpy(dtype=np.float64)
    ends = np.zeros((n_stages, n_buckets))
    days_sum = np.zeros((n_stages, n_buckets))
    np.add.at(ends, (stage, bucket), deals)
    np.add.at(days_sum, (stage, bucket), days)
    exits = np.zeros((n_stages, n_buckets, n_stages + 1))
    dest = np.where(to == -1, n_stages, to)
    moved = (to == -1) | ((to > stage) & (to < n_stages))
    np.add.at(exits, (stage[moved], bucket[moved], dest[moved]), deals[moved])
    return HazardCounts(
        exits=exits, exposure=bucket_exposure(ends, days_sum, edges), edges=np.asarray(edges)
    )


def open_state(
    episodes: pd.DataFrame, n_stages: int, edges: Sequence[float]
) -> tuple[IntArray, FloatArray]:
    """Open deals as (stage index, days in stage) arrays, from the open episodes' histogram.

    Each stage × bucket cell gives ``deals`` deals at the cell's mean age (``days_sum / deals``);
    within a bucket the rates are constant, so the position inside it matters little.
    """
    ep = episodes[(episodes["to_index"] == -2) & (episodes["stage_index"] < n_stages - 1)]
    counts = ep["deals"].to_numpy(dtype=np.int64)
    mean_age = ep["days_sum"].to_numpy(dtype=np.float64) / np.maximum(counts, 1)
    stage = np.repeat(ep["stage_index"].to_numpy(dtype=np.int64), counts)
    age = np.repeat(mean_age, counts)
    return stage, age
