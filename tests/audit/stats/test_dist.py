"""The distribution functions of ``voronka.audit.stats.dist`` equal ``scipy.stats``'s (issue 11: the
audit no longer imports ``scipy.stats``), on many generated arguments."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from voronka.audit.stats import dist


def test_normal_and_chi_square_equal_scipy() -> None:
    x = np.linspace(-12, 12, 2001)
    assert np.array_equal(dist.norm_cdf(x), stats.norm.cdf(x))
    q = np.linspace(1e-9, 1 - 1e-9, 2001)
    assert np.array_equal(dist.norm_ppf(q), stats.norm.ppf(q))
    for df in (1, 2, 5, 30):
        chi = np.linspace(0, 80, 801)
        assert np.array_equal(dist.chi2_sf(chi, df), stats.chi2.sf(chi, df))


def test_poisson_and_binomial_equal_scipy() -> None:
    rng = np.random.default_rng(0)
    for _ in range(2000):
        mu = float(rng.uniform(1e-9, 60))
        k = float(rng.choice([-3.0, -1.0, 0.0, *rng.uniform(-2, 90, 3)]))
        assert dist.poisson_sf(k, mu) == stats.poisson.sf(k, mu)
        n = float(rng.integers(0, 500))
        p = float(rng.choice([0.0, 1.0, rng.uniform()]))
        kb = float(rng.integers(-2, n + 3))
        assert dist.binom_cdf(kb, n, p) == pytest.approx(float(stats.binom.cdf(kb, n, p)),
                                                         rel=1e-12, abs=1e-300)


def test_binomial_quantiles_equal_scipy() -> None:
    """As the p-chart uses them: one tail probability and rate, an array of trials with 0s."""
    rng = np.random.default_rng(1)
    for _ in range(300):
        n = rng.integers(0, 3000, 40).astype(float)
        p = float(rng.choice([0.0, 1.0, rng.uniform(), rng.uniform(0, 0.01)]))
        for q in (0.00135, 0.5, 1 - 0.00135, float(rng.uniform())):
            with np.errstate(divide="ignore", invalid="ignore"):
                want = stats.binom.ppf(q, n, p)
            np.testing.assert_array_equal(dist.binom_ppf(q, n, p), want)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(dist.binom_ppf(0.1, np.array([5.0, 0.0]), float("nan")),
                                      stats.binom.ppf(0.1, np.array([5.0, 0.0]), float("nan")))


def test_beta_quantiles_equal_scipy() -> None:
    rng = np.random.default_rng(2)
    a = rng.uniform(0.05, 500, 3000)
    b = rng.uniform(0.05, 500, 3000)
    for q in (0.025, 0.975, 0.1):
        np.testing.assert_array_equal(dist.beta_ppf(q, a, b), stats.beta.ppf(q, a, b))


def test_hypergeometric_tails_equal_scipy() -> None:
    rng = np.random.default_rng(3)
    total = rng.integers(0, 400, 3000).astype(float)
    good = np.floor(total * rng.uniform(0, 1, 3000))
    draws = np.floor(total * rng.uniform(0, 1, 3000))
    k = np.floor(rng.uniform(-2, 1.2, 3000) * np.minimum(good, draws) + rng.integers(-1, 2, 3000))
    np.testing.assert_allclose(dist.hypergeom_cdf(k, total, good, draws),
                               stats.hypergeom.cdf(k, total, good, draws), rtol=1e-12, atol=0)
    np.testing.assert_allclose(dist.hypergeom_sf(k, total, good, draws),
                               stats.hypergeom.sf(k, total, good, draws), rtol=1e-12, atol=0)


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_fisher_exact_equals_scipy(alternative: str) -> None:
    rng = np.random.default_rng(4)
    tables = [rng.integers(0, size, (2, 2)) for size in (3, 10, 60, 800) for _ in range(250)]
    tables += [np.array([[5, 5], [5, 5]]), np.array([[0, 0], [3, 4]]), np.array([[8, 2], [1, 5]])]
    for table in tables:
        want = float(stats.fisher_exact(table, alternative).pvalue)
        assert dist.fisher_exact(table, alternative) == pytest.approx(want, rel=1e-9, abs=1e-300)
