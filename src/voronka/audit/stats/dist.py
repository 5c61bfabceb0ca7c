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
    from scipy.special._ufuncs import (
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


def _binary_search(pmf: Any, d: float, lo: int, hi: int) -> int:
    """scipy's ``_binary_search_for_binom_tst``: ``i`` in ``lo … hi`` with ``a(i) ≤ d < a(i+1)``
    for the increasing ``a`` (here ``pmf`` on one side of the mode)."""
    while lo < hi:
        mid = lo + (hi - lo) // 2
        value = pmf(mid)
        if value < d:
            lo = mid + 1
        elif value > d:
            hi = mid - 1
        else:
            return mid
    return lo if pmf(lo) <= d else lo - 1


def fisher_exact(table: ArrayLike, alternative: str = "two-sided") -> float:
    """The p-value of ``scipy.stats.fisher_exact(table, alternative)`` for a 2 × 2 table, by
    scipy's own algorithm (two-sided: the tail beyond the observed table plus the tail on the
    other side of the mode where tables are no more likely, found by binary search; relative
    tolerance ``1 + 1e-14``)."""
    c = np.asarray(table, dtype=np.int64)
    if _hypergeom_pmf is None:  # pragma: no cover
        return float(_scipy_stats().fisher_exact(c, alternative).pvalue)
    if 0 in c.sum(axis=0) or 0 in c.sum(axis=1):
        return 1.0
    n1 = int(c[0, 0] + c[0, 1])
    n2 = int(c[1, 0] + c[1, 1])
    n = int(c[0, 0] + c[1, 0])
    total = n1 + n2

    def pmf(x: float) -> float:
        return float(_hypergeom_tail_pmf(x, total, n1, n))

    if alternative == "less":
        p = float(hypergeom_cdf(c[0, 0], total, n1, n))
    elif alternative == "greater":
        p = float(hypergeom_cdf(c[0, 1], total, n1, int(c[0, 1] + c[1, 1])))
    elif alternative == "two-sided":
        mode = int((n + 1) * (n1 + 1) / (total + 2))
        exact = pmf(int(c[0, 0]))
        at_mode = pmf(mode)
        gamma = 1 + 1e-14
        if abs(exact - at_mode) / max(exact, at_mode) <= 1e-14:
            return 1.0
        if c[0, 0] < mode:
            lower = float(hypergeom_cdf(c[0, 0], total, n1, n))
            if pmf(n) > exact * gamma:
                return min(lower, 1.0)
            guess = _binary_search(lambda x: -pmf(x), -exact * gamma, mode, n)
            p = lower + float(hypergeom_sf(guess, total, n1, n))
        else:
            upper = float(hypergeom_sf(c[0, 0] - 1, total, n1, n))
            if pmf(0) > exact * gamma:
                return min(upper, 1.0)
            guess = _binary_search(pmf, exact * gamma, 0, mode)
            p = upper + float(hypergeom_cdf(guess, total, n1, n))
    else:
        raise ValueError(f"alternative must be 'two-sided', 'less' or 'greater', got {alternative!r}")
    return min(p, 1.0)


def _hypergeom_tail_pmf(k: float, total: float, good: float, draws: float) -> float:
    """``scipy.stats.hypergeom.pmf``: 0 outside the support."""
    if k < max(0, draws - (total - good)) or k > min(good, draws):
        return 0.0
    return float(_hypergeom_pmf(float(k), float(good), float(draws), float(total)))
