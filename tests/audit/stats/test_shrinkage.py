"""Empirical-Bayes beta-binomial fit and shrinkage."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from voronka.audit.stats import BetaPrior, fit_beta_prior, shrink
from voronka.audit.stats.shrinkage import MAX_CONCENTRATION


def test_fit_recovers_planted_prior() -> None:
    """Simulation: 3000 segments with rates ~ Beta(8, 12) → mean ≈ 0.4, α+β ≈ 20."""
    rng = np.random.default_rng(11)
    n = rng.integers(20, 400, size=3000)
    x = rng.binomial(n, rng.beta(8, 12, size=n.size))
    prior = fit_beta_prior(x, n)
    assert prior.mean == pytest.approx(0.4, abs=0.01)
    assert prior.concentration == pytest.approx(20, rel=0.15)


def test_fit_is_the_maximum_of_scipy_betabinom_likelihood() -> None:
    """Reference: scipy.stats.betabinom; the fitted (α, β) beat nearby values."""
    rng = np.random.default_rng(5)
    n = rng.integers(10, 200, size=40)
    x = rng.binomial(n, rng.beta(3, 9, size=n.size))
    prior = fit_beta_prior(x, n)

    def loglik(a: float, b: float) -> float:
        return float(stats.betabinom.logpmf(x, n, a, b).sum())

    best = loglik(prior.alpha, prior.beta)
    for fa, fb in [(1.1, 1), (0.9, 1), (1, 1.1), (1, 0.9), (1.1, 1.1), (0.9, 0.9)]:
        assert best >= loglik(prior.alpha * fa, prior.beta * fb) - 1e-6


def test_no_overdispersion_pools_completely() -> None:
    """Identical rates up to binomial noise: concentration runs to (near) the cap."""
    n = np.full(30, 200)
    x = np.full(30, 60)
    prior = fit_beta_prior(x, n)
    assert prior.mean == pytest.approx(0.3, abs=1e-3)
    assert prior.concentration > MAX_CONCENTRATION / 100


def test_shrink_formula_and_small_segment() -> None:
    """Hand computation: Beta(3, 7) prior, 1 of 5 → (1+3)/(5+10) = 0.2667; 300 of 1000 → 0.3007."""
    res = shrink([1, 300], [5, 1000], BetaPrior(3, 7))
    np.testing.assert_allclose(res.rate, [4 / 15, 303 / 1010])
    np.testing.assert_allclose(res.low[0], stats.beta.ppf(0.025, 4, 11))
    assert res.low[1] < 0.3007 < res.high[1]
    # A segment with a handful of deals stays near the prior mean 0.3 despite a raw rate of 0.
    assert shrink([0], [3], BetaPrior(30, 70)).rate[0] == pytest.approx(30 / 103)


def test_fit_degenerate_inputs() -> None:
    """One segment or all-zero outcomes: complete pooling; no trials at all is an error."""
    assert fit_beta_prior([3], [10]).mean == pytest.approx(0.3)
    assert fit_beta_prior([0, 0], [5, 10]).concentration == pytest.approx(MAX_CONCENTRATION)
    with pytest.raises(ValueError):
        fit_beta_prior([0], [0])
