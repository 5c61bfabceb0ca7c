"""The piecewise-exponential competing-risks model of the time a deal spends in a stage.

The days a deal has spent in stage *k* are cut into buckets ``[edges[b], edges[b+1])``; inside a
bucket the deal leaves towards destination *j* (a later stage, or lost) at the constant daily rate

    λ[k, b, j] = exits[k, b, j] / exposure[k, b],

the maximum-likelihood estimate (Friedman 1982, "Piecewise exponential models for survival data
with covariates"), where ``exposure`` is the deal-days spent in that bucket by every episode of the
stage, finished or still open (open ones are right-censored). Because the rate depends on the
bucket, a deal that has already waited long in a stage moves on with the rates of old deals, not of
fresh ones. Everything here works on small arrays (stages × buckets); nothing reads raw rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


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

    def cumulative_hazard(self, stage: IntArray, age: FloatArray) -> FloatArray:
        """``H_k(age)``: the cumulative exit rate of stage ``stage`` from age 0 to ``age`` days
        (piecewise linear in ``age``)."""
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
    if rng is not None:
        exits = rng.gamma(np.maximum(exits, 1e-12)) * (exits > 0)
    return HazardModel(edges=np.asarray(edges, dtype=np.float64), rates=rates_of(exits, exposure))


def rates_of(exits: FloatArray, exposure: FloatArray) -> FloatArray:
    """``exits / exposure`` per stage × bucket × destination, buckets without exposure filled
    from the nearest earlier bucket with some, the won stage (the last) absorbing.

    ``exits`` may carry leading dimensions (one set of rates per posterior draw): its last three
    are ``(stages, buckets, stages + 1)``; ``exposure`` is ``(stages, buckets)``.
    """
    exposure = np.asarray(exposure, dtype=np.float64)
    seen = exposure > 1e-9
    n_buckets = exposure.shape[1]
    # Index of the nearest bucket at or before b with exposure (−1: none yet).
    source = np.maximum.accumulate(np.where(seen, np.arange(n_buckets), -1), axis=1)
    safe = np.where(seen, exposure, 1.0)
    raw = exits / safe[:, :, None]
    stage_idx = np.arange(exposure.shape[0])[:, None]
    rates = raw[..., stage_idx, np.maximum(source, 0), :]
    rates = rates * (source >= 0)[:, :, None]
    rates[..., -1, :, :] = 0.0  # the won stage is absorbing
    return np.asarray(rates, dtype=np.float64)


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

    def draw_rates(self, rng: np.random.Generator, draws: int) -> FloatArray:
        """``draws`` sets of rates from the posterior (see :func:`fit_hazards`), as an array
        ``(draws, stages, buckets, stages + 1)``."""
        shape = (draws, *self.exits.shape)
        exits = rng.gamma(np.broadcast_to(np.maximum(self.exits, 1e-12), shape))
        return rates_of(exits * (self.exits > 0), self.exposure)


OLDER_WEIGHT = 0.35
"""Weight of an episode that began within the history window but before the fresh window (the
last 91 days by default), against 1 for a fresh one: a two-step exponential decay (half-life
about 100 days at the older episodes' median age), so the rates follow a drifting conversion
while still resting on a year of data. Chosen in ``studies/forecast_calibration.py``."""


def hazards_from_episodes(
    episodes: pd.DataFrame,
    n_stages: int,
    edges: Sequence[float],
    *,
    recent_only: bool = True,
    older_weight: float = OLDER_WEIGHT,
) -> HazardCounts:
    """The :class:`HazardCounts` of the engine's episode histogram (see ``MomentState``).

    ``episodes`` has ``stage_index``, ``bucket``, ``to_index`` (a later stage, ``-1`` lost,
    ``-2`` still open), ``recent``, ``deals``, ``days_sum`` and optionally ``fresh``. Open episodes
    count in the exposure (censored), not as exits. Episodes that are recent but not fresh count
    with ``older_weight`` (exits and exposure alike, so the likelihood is weighted and the
    posterior's spread follows the effective number of episodes).
    """
    n_buckets = len(edges)
    ep = episodes[episodes["recent"]] if recent_only and "recent" in episodes else episodes
    ep = ep[(ep["stage_index"] >= 0) & (ep["stage_index"] < n_stages - 1)]
    stage = ep["stage_index"].to_numpy(dtype=np.int64)
    bucket = np.minimum(ep["bucket"].to_numpy(dtype=np.int64), n_buckets - 1)
    to = ep["to_index"].to_numpy(dtype=np.int64)
    weight = np.ones(len(ep))
    if "fresh" in ep:
        weight = np.where(ep["fresh"].to_numpy(dtype=bool), 1.0, older_weight)
    deals = ep["deals"].to_numpy(dtype=np.float64) * weight
    days = ep["days_sum"].to_numpy(dtype=np.float64) * weight
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


@dataclass(frozen=True)
class OpenCells:
    """The open deals at the start of the simulation, grouped by stage and days waited.

    Attributes:
        stage: stage index of each cell (before the won stage).
        age: days already spent in that stage by the cell's deals (the cell's mean age).
        count: open deals in the cell.
    """

    stage: IntArray
    age: FloatArray
    count: IntArray

    @property
    def deals(self) -> int:
        """Open deals in all cells."""
        return int(self.count.sum())


def open_state(episodes: pd.DataFrame, n_stages: int) -> OpenCells:
    """The open deals as cells, one per stage × bucket of the open episodes' histogram.

    Each cell's deals are put at the cell's mean age (``days_sum / deals``); within a bucket the
    rates are constant, so the position inside it matters little.
    """
    stage = episodes["stage_index"].to_numpy(dtype=np.int64)
    deals = episodes["deals"].to_numpy(dtype=np.int64)
    keep = (episodes["to_index"].to_numpy(dtype=np.int64) == -2) & (stage < n_stages - 1)
    keep &= deals > 0
    stage, deals = stage[keep], deals[keep]
    bucket = episodes["bucket"].to_numpy(dtype=np.int64)[keep]
    days = episodes["days_sum"].to_numpy(dtype=np.float64)[keep]
    cells, where = np.unique(np.stack([stage, bucket], axis=1), axis=0, return_inverse=True)
    where = where.reshape(-1)
    counts = np.zeros(len(cells), dtype=np.int64)
    np.add.at(counts, where, deals)
    return OpenCells(
        stage=cells[:, 0],
        age=kahan_sums(days, where, len(cells)) / np.maximum(counts, 1),
        count=counts,
    )


def kahan_sums(values: FloatArray, group: IntArray, n_groups: int) -> FloatArray:
    """The sum of ``values`` per ``group`` (0 … ``n_groups`` − 1), each group's values added in
    their order with Kahan's compensation, as pandas' grouped sum adds them (the same bits: the
    open cells' ages were a pandas ``groupby().sum()``). The k-th value of every group is added in
    the k-th vectorised step."""
    total = np.zeros(n_groups)
    compensation = np.zeros(n_groups)
    if not len(values):
        return total
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, sizes)
    for k in range(int(sizes.max())):
        rows = order[rank == k]
        g = group[rows]
        y = values[rows] - compensation[g]
        t = total[g] + y
        c = t - total[g] - y
        compensation[g] = np.where(np.isnan(c), 0.0, c)
        total[g] = t
    return total
