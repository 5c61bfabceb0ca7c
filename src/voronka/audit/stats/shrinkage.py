"""Empirical-Bayes beta-binomial shrinkage of segment rates toward the pooled rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from voronka.audit.stats import dist

FloatArray = NDArray[np.float64]

MAX_CONCENTRATION = 1e6
"""Upper bound on ``α + β``: beyond it the segments are indistinguishable (complete pooling)."""


@dataclass(frozen=True)
class BetaPrior:
    """A Beta(α, β) prior for the segment rates, fitted to the segments themselves.

    Attributes:
        alpha: α > 0, the prior's pseudo-successes.
        beta: β > 0, the prior's pseudo-failures.
    """

    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        """Prior mean ``α / (α + β)``: the rate a segment is shrunk toward."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def concentration(self) -> float:
        """``α + β``: how many trials' worth of weight the prior carries."""
        return self.alpha + self.beta


def _betabinom_loglik(x: FloatArray, n: FloatArray, mean: float, conc: float) -> float:
    a, b = mean * conc, (1 - mean) * conc
    # The binomial coefficient does not depend on (α, β) and is left out.
    return float(np.sum(special.betaln(x + a, n - x + b) - special.betaln(a, b)))


def fit_beta_prior(successes: ArrayLike, trials: ArrayLike) -> BetaPrior:
    """Fit Beta(α, β) to segment counts by maximising the beta-binomial marginal likelihood.

    Each segment ``i`` has ``xᵢ ~ Binomial(nᵢ, pᵢ)`` with ``pᵢ ~ Beta(α, β)``; the marginal
    likelihood is ``∏ B(xᵢ+α, nᵢ−xᵢ+β) / B(α, β)``. It is maximised over the mean ``α/(α+β)``
    (logit scale) and the concentration ``α+β`` (log scale, capped at :data:`MAX_CONCENTRATION`),
    starting from the method-of-moments estimate. Reference: Robinson (2015), *Introduction to
    Empirical Bayes: Examples from Baseball Statistics*, ch. 2–3 ("Understanding empirical Bayes
    estimation"); Kleinman (1973) for the moment estimator.

    With no spread between segments beyond binomial noise the concentration runs to the cap, so
    every segment is shrunk (almost) fully to the pooled rate, which is the right answer then.
    Segments with ``trials == 0`` are ignored. Needs at least one trial in total.
    """
    x = np.asarray(successes, dtype=float).ravel()
    n = np.asarray(trials, dtype=float).ravel()
    keep = n > 0
    x, n = x[keep], n[keep]
    if n.size == 0:
        raise ValueError("fit_beta_prior needs at least one segment with trials")
    pooled = float(np.clip(x.sum() / n.sum(), 1e-6, 1 - 1e-6))
    if n.size < 2 or x.sum() in (0, n.sum()):
        # One segment, or all-0 / all-1 outcomes: nothing to separate, pool completely.
        return BetaPrior(pooled * MAX_CONCENTRATION, (1 - pooled) * MAX_CONCENTRATION)
    # Method-of-moments start: between-segment variance of the rates beyond binomial noise.
    rates = x / n
    var_between = float(np.var(rates, ddof=1) - np.mean(pooled * (1 - pooled) / n))
    if var_between > 0:
        conc0 = float(np.clip(pooled * (1 - pooled) / var_between - 1, 1.0, MAX_CONCENTRATION))
    else:
        conc0 = MAX_CONCENTRATION / 10

    def negloglik(theta: FloatArray) -> float:
        mean = float(special.expit(theta[0]))
        conc = float(np.exp(theta[1]))
        return -_betabinom_loglik(x, n, mean, conc)

    lo_log, hi_log = np.log(1e-2), np.log(MAX_CONCENTRATION)
    start = np.array([special.logit(pooled), np.clip(np.log(conc0), lo_log, hi_log)])
    res = optimize.minimize(
        negloglik,
        start,
        method="L-BFGS-B",
        bounds=[(-20.0, 20.0), (lo_log, hi_log)],
    )
    mean = float(special.expit(res.x[0]))
    conc = float(np.exp(res.x[1]))
    return BetaPrior(mean * conc, (1 - mean) * conc)


@dataclass(frozen=True)
class ShrunkRates:
    """Posterior summaries of segment rates under a Beta prior.

    Attributes:
        rate: posterior mean ``(x + α) / (n + α + β)`` per segment.
        low: lower bound of the equal-tailed posterior interval.
        high: upper bound of the equal-tailed posterior interval.
    """

    rate: FloatArray
    low: FloatArray
    high: FloatArray


def shrink(
    successes: ArrayLike, trials: ArrayLike, prior: BetaPrior, *, confidence: float = 0.95
) -> ShrunkRates:
    """Shrink each segment's rate toward the prior: posterior ``Beta(x + α, n − x + β)``.

    The posterior mean ``(x + α)/(n + α + β)`` is a weighted average of the raw rate ``x/n``
    (weight ``n``) and the prior mean (weight ``α + β``), so a segment with few trials stays near
    the pooled rate and one with many keeps its own (Robinson 2015, ch. 3). The interval is the
    equal-tailed ``confidence`` credible interval of the posterior (``scipy.stats.beta.ppf``).
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    a = x + prior.alpha
    b = n - x + prior.beta
    tail = (1 - confidence) / 2
    return ShrunkRates(
        rate=np.asarray(a / (a + b), dtype=float),
        low=dist.beta_ppf(tail, a, b),
        high=dist.beta_ppf(1 - tail, a, b),
    )
