"""The few distribution functions the audit needs, without importing ``scipy.stats``.

``import scipy.stats`` costs about two seconds (it builds the docstrings of a hundred
distributions), a seventh of a 100k-deal audit. Every function here calls the same compiled
routine ``scipy.stats`` calls for it (``scipy.special``'s ufuncs, for the binomial, beta and
hypergeometric quantiles and tails the private ``scipy.special._ufuncs`` ones ``scipy.stats`` itself
uses), so the numbers are the same; ``tests/audit/stats/test_dist.py`` compares each with
``scipy.stats`` on many arguments. Where a private routine is missing (another SciPy), the
function falls back to ``scipy.stats``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

try:  # the routines scipy.stats' binom, beta and hypergeom call (SciPy ≥ 1.11)
    from scipy.special._ufuncs import (  # type: ignore[attr-defined]
        _beta_ppf,
        _binom_cdf,
        _binom_ppf,
        _hypergeom_cdf,
        _hypergeom_pmf,
        _hypergeom_sf,
    )
except ImportError:  # pragma: no cover - depends on the SciPy installed
    _beta_ppf = _binom_cdf = _binom_ppf = None
    _hypergeom_cdf = _hypergeom_pmf = _hypergeom_sf = None

FloatArray = NDArray[np.float64]


def _scipy_stats() -> Any:
    from scipy import stats  # noqa: PLC0415 - the fallback only

    return stats


def norm_cdf(x: ArrayLike) -> Any:
    """``scipy.stats.norm.cdf(x)``: the standard normal CDF ``Φ(x)``."""
    return special.ndtr(x)


def norm_sf(x: ArrayLike) -> Any:
    """``scipy.stats.norm.sf(x)`` = ``Φ(−x)``."""
    return special.ndtr(-np.asarray(x, dtype=float))


def norm_ppf(q: ArrayLike) -> Any:
    """``scipy.stats.norm.ppf(q)``: the standard normal quantile."""
    return special.ndtri(q)


def chi2_sf(x: ArrayLike, df: ArrayLike) -> Any:
    """``scipy.stats.chi2.sf(x, df)``."""
    return special.chdtrc(df, x)


def poisson_sf(k: float, mu: float) -> float:
    """``scipy.stats.poisson.sf(k, mu)``: ``P(X > k)``, 1 for ``k < 0``."""
    k = float(np.floor(k))
    if k < 0:
        return 1.0
    return float(special.pdtrc(k, mu))


def binom_cdf(k: float, n: float, p: float) -> float:
    """``scipy.stats.binom.cdf(k, n, p)`` for scalars with ``0 ≤ p ≤ 1`` and ``n ≥ 0``."""
    if _binom_cdf is None:  # pragma: no cover
        return float(_scipy_stats().binom.cdf(k, n, p))
    k = float(np.floor(k))
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return float(_binom_cdf(k, n, p))


def binom_ppf(q: float, n: ArrayLike, p: float) -> FloatArray:
    """``scipy.stats.binom.ppf(q, n, p)`` for one ``0 < q < 1`` and ``p``, an array of ``n``:
    the smallest ``k`` with ``P(X ≤ k) ≥ q``; NaN where ``n < 0`` or ``p`` is outside [0, 1]
    or NaN (scipy's argument check)."""
    counts = np.asarray(n, dtype=float)
    if _binom_ppf is None:  # pragma: no cover
        return np.asarray(_scipy_stats().binom.ppf(q, counts, p), dtype=float)
    valid = (counts >= 0) & (counts == np.floor(counts)) & (0 <= p <= 1)
    with np.errstate(invalid="ignore"):
        k = np.asarray(_binom_ppf(q, counts, p), dtype=float)
    # scipy's generic ppf clips into the support [0, n]
    k = np.clip(k, 0.0, np.where(valid, counts, np.nan))
    return np.where(valid, k, np.nan)


def beta_ppf(q: ArrayLike, a: ArrayLike, b: ArrayLike) -> FloatArray:
    """``scipy.stats.beta.ppf(q, a, b)`` for ``0 < q < 1`` and ``a, b > 0``."""
    if _beta_ppf is None:  # pragma: no cover
        return np.asarray(_scipy_stats().beta.ppf(q, a, b), dtype=float)
    return np.asarray(_beta_ppf(q, a, b), dtype=float)


def hypergeom_cdf(k: ArrayLike, total: ArrayLike, good: ArrayLike, draws: ArrayLike) -> FloatArray:
    """``scipy.stats.hypergeom.cdf(k, total, good, draws)`` (P(X ≤ k) of ``draws`` taken from
    ``total`` of which ``good`` are good), NaN outside the parameters' domain."""
    if _hypergeom_cdf is None:  # pragma: no cover
        return np.asarray(_scipy_stats().hypergeom.cdf(k, total, good, draws), dtype=float)
    return _hypergeom_tail(_hypergeom_cdf, k, total, good, draws, below=0.0, above=1.0)


def hypergeom_sf(k: ArrayLike, total: ArrayLike, good: ArrayLike, draws: ArrayLike) -> FloatArray:
    """``scipy.stats.hypergeom.sf(k, total, good, draws)`` = P(X > k)."""
    if _hypergeom_sf is None:  # pragma: no cover
        return np.asarray(_scipy_stats().hypergeom.sf(k, total, good, draws), dtype=float)
    return _hypergeom_tail(_hypergeom_sf, k, total, good, draws, below=1.0, above=0.0)


def _hypergeom_tail(
    fn: Any, k: ArrayLike, total: ArrayLike, good: ArrayLike, draws: ArrayLike,
    *, below: float, above: float,
) -> FloatArray:
    kk, m, g, d = (np.asarray(v, dtype=float) for v in (k, total, good, draws))
    kk, m, g, d = np.broadcast_arrays(np.floor(kk), m, g, d)
    valid = (m > 0) & (g >= 0) & (d >= 0) & (g <= m) & (d <= m)
    lo = np.maximum(d - (m - g), 0.0)
    hi = np.minimum(g, d)
    inside = valid & (kk >= lo) & (kk < hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(inside, fn(kk, g, d, m), np.nan)
    out = np.where(valid & (kk < lo), below, out)
    out = np.where(valid & (kk >= hi), above, out)
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=float)


def fisher_exact(table: ArrayLike, alternative: str = "two-sided") -> float:
    """The p-value of ``scipy.stats.fisher_exact(table, alternative)`` for a 2 × 2 table.

    Two-sided: the probability of the tables (same margins) no more likely than the observed one,
    with scipy's relative tolerance ``1 + 1e-14``, summed over the support (scipy sums the same
    terms by tails)."""
    c = np.asarray(table, dtype=np.int64)
    if _hypergeom_pmf is None:  # pragma: no cover
        return float(_scipy_stats().fisher_exact(c, alternative).pvalue)
    if 0 in c.sum(axis=0) or 0 in c.sum(axis=1):
        return 1.0
    n1 = float(c[0, 0] + c[0, 1])
    n2 = float(c[1, 0] + c[1, 1])
    n = float(c[0, 0] + c[1, 0])
    if alternative == "less":
        p = float(hypergeom_cdf(c[0, 0], n1 + n2, n1, n))
    elif alternative == "greater":
        p = float(hypergeom_cdf(c[0, 1], n1 + n2, n1, float(c[0, 1] + c[1, 1])))
    elif alternative == "two-sided":
        support = np.arange(max(0.0, n - n2), min(n1, n) + 1)
        pmf = np.asarray(_hypergeom_pmf(support, n1, n, n1 + n2), dtype=float)
        observed = float(_hypergeom_pmf(float(c[0, 0]), n1, n, n1 + n2))
        mode = float(int((n + 1) * (n1 + 1) / (n1 + n2 + 2)))
        at_mode = float(_hypergeom_pmf(mode, n1, n, n1 + n2))
        if abs(observed - at_mode) / max(observed, at_mode) <= 1e-14:
            return 1.0  # the observed table is the most likely one
        p = float(np.sum(pmf[pmf <= observed * (1 + 1e-14)]))
    else:
        raise ValueError(f"alternative must be 'two-sided', 'less' or 'greater', got {alternative!r}")
    return min(p, 1.0)
