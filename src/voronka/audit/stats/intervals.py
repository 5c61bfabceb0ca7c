"""Confidence intervals for rates (Wilson) and for the money ratios of a traffic source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from voronka.audit.stats import dist

FloatArray = NDArray[np.float64]


@overload
def wilson_interval(
    successes: float, trials: float, *, confidence: float = 0.95
) -> tuple[float, float]: ...


@overload
def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, *, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]: ...


def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, *, confidence: float = 0.95
) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    """Wilson score interval for a binomial proportion ``successes / trials``.

    With ``p̂ = x/n`` and ``z`` the two-sided normal quantile for ``confidence``::

        centre = (p̂ + z²/2n) / (1 + z²/n)
        half   = z / (1 + z²/n) · sqrt(p̂(1−p̂)/n + z²/4n²)

    Reference: Wilson (1927); recommended over the Wald interval by Brown, Cai & DasGupta (2001),
    "Interval estimation for a binomial proportion", Statistical Science 16(2). Agrees with
    ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.

    Vectorised: arrays broadcast against each other. Where ``trials == 0`` both bounds are NaN.
    Two scalars give a tuple of floats; anything else a tuple of float arrays.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z = float(dist.norm_ppf(0.5 + confidence / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    empty = n <= 0
    lo = np.where(empty, np.nan, np.clip(centre - half, 0.0, 1.0))
    hi = np.where(empty, np.nan, np.clip(centre + half, 0.0, 1.0))
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


@dataclass(frozen=True)
class EconomicsIntervals:
    """Simulated intervals for the money ratios of traffic sources (one entry per source).

    Attributes:
        revenue: (low, high) bounds of the expected revenue ``leads × win rate × mean won amount``.
        cac: (low, high) bounds of ``spend / (leads × win rate)``; NaN without spend.
        romi: (low, high) bounds of ``(revenue − spend) / spend``; NaN without spend.
        p_profitable: posterior probability that ROMI > 0 (NaN without spend).
    """

    revenue: tuple[FloatArray, FloatArray]
    cac: tuple[FloatArray, FloatArray]
    romi: tuple[FloatArray, FloatArray]
    p_profitable: FloatArray


def economics_intervals(
    leads: ArrayLike,
    won: ArrayLike,
    amount_mean: ArrayLike,
    amount_std: ArrayLike,
    spend: ArrayLike,
    *,
    confidence: float = 0.9,
    draws: int = 4000,
    seed: int = 0,
) -> EconomicsIntervals:
    """Posterior-simulation intervals for revenue, CAC and ROMI of each source.

    The model separates the two sources of noise in a source's revenue:

    * the win rate ``π ~ Beta(won + ½, leads − won + ½)`` (Jeffreys posterior);
    * the mean won amount ``μ ~ Normal(amount_mean, amount_std / sqrt(won))`` (central limit
      theorem; with ``won ≤ 1`` the pooled spread of all sources should be passed in
      ``amount_std``), truncated at zero.

    Each draw gives ``revenue = leads·π·μ``, ``CAC = spend / (leads·π)``,
    ``ROMI = (revenue − spend) / spend``; the equal-tailed ``confidence`` interval is read from
    ``draws`` draws (Gelman et al., *Bayesian Data Analysis*, ch. 2; the delta method gives the
    same to first order for large counts). Spend is an accounting figure, not a random one.
    Entries with ``spend`` NaN or ≤ 0 get NaN cost intervals. Seeded, so reproducible.
    """
    n = np.asarray(leads, dtype=float)
    k = np.asarray(won, dtype=float)
    m = np.asarray(amount_mean, dtype=float)
    sd = np.asarray(amount_std, dtype=float)
    s = np.asarray(spend, dtype=float)
    n, k, m, sd, s = np.broadcast_arrays(n, k, m, sd, s)
    rng = np.random.default_rng(seed)
    shape = (draws, *n.shape)
    pi = rng.beta(k + 0.5, np.maximum(n - k, 0) + 0.5, size=shape)
    se = np.where(k > 0, np.nan_to_num(sd, nan=0.0) / np.sqrt(np.maximum(k, 1)), 0.0)
    mu = np.maximum(rng.normal(np.nan_to_num(m, nan=0.0), se, size=shape), 0.0)
    revenue = n * pi * mu
    has_spend = np.isfinite(s) & (s > 0)
    safe_spend = np.where(has_spend, s, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cac = np.where(has_spend, safe_spend / (n * pi), np.nan)
    romi = np.where(has_spend, (revenue - safe_spend) / safe_spend, np.nan)
    tail = (1 - confidence) / 2 * 100

    def bounds(draw: FloatArray) -> tuple[FloatArray, FloatArray]:
        lo, hi = np.percentile(draw, [tail, 100 - tail], axis=0)
        return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)

    p_profit = np.where(has_spend, (romi > 0).mean(axis=0), np.nan)
    revenue_bounds = bounds(revenue)
    no_amount = ~np.isfinite(m)
    revenue_bounds = (
        np.where(no_amount, np.nan, revenue_bounds[0]),
        np.where(no_amount, np.nan, revenue_bounds[1]),
    )
    romi_lo, romi_hi = bounds(romi)
    return EconomicsIntervals(
        revenue=revenue_bounds,
        cac=bounds(cac),
        romi=(np.where(no_amount, np.nan, romi_lo), np.where(no_amount, np.nan, romi_hi)),
        p_profitable=np.where(no_amount, np.nan, p_profit),
    )
