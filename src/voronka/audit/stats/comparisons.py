"""Comparing a segment with the rest of the funnel, and controlling false discoveries."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from voronka.audit.stats import dist

FloatArray = NDArray[np.float64]


def segment_vs_rest_pvalue(
    successes: ArrayLike,
    trials: ArrayLike,
    rest_successes: ArrayLike,
    rest_trials: ArrayLike,
    *,
    alternative: Literal["less", "greater"] = "less",
) -> FloatArray:
    """One-sided Fisher exact test of a segment's rate against the rest of the funnel.

    The segment (``x`` of ``n``) is compared with the deals *outside* it (``y`` of ``m``), not
    with a total that contains it. Conditional on the margins, ``x`` is hypergeometric: of
    ``x + y`` successes among ``n + m`` deals, how many fall in a sample of ``n``. For
    ``alternative="less"`` (the segment converts worse: a leak) the p-value is
    ``P(X ≤ x) = hypergeom.cdf(x, n+m, x+y, n)``; for ``"greater"``, ``P(X ≥ x)``.
    Equals ``scipy.stats.fisher_exact([[x, n−x], [y, m−y]], alternative=…)``. Reference: Fisher
    (1935), *The Design of Experiments*; Agresti (2013), *Categorical Data Analysis*, §3.5.

    Vectorised over segments; where either side has no trials the p-value is NaN.
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    y = np.asarray(rest_successes, dtype=float)
    m = np.asarray(rest_trials, dtype=float)
    x, n, y, m = np.broadcast_arrays(x, n, y, m)
    total = n + m
    good = x + y
    if alternative == "less":
        p = dist.hypergeom_cdf(x, total, good, n)
    elif alternative == "greater":
        p = dist.hypergeom_sf(x - 1, total, good, n)
    else:
        raise ValueError(f"alternative must be 'less' or 'greater', got {alternative!r}")
    p = np.where((n > 0) & (m > 0), np.clip(p, 0.0, 1.0), np.nan)
    return np.asarray(p, dtype=float)


def benjamini_hochberg(p_values: ArrayLike) -> FloatArray:
    """Benjamini–Hochberg adjusted p-values (q-values) controlling the false discovery rate.

    Sort the ``m`` p-values ``p₍₁₎ ≤ … ≤ p₍ₘ₎``; ``q₍ᵢ₎ = min_{j ≥ i} min(1, m·p₍ⱼ₎ / j)``.
    Rejecting every hypothesis with ``q ≤ α`` keeps the expected share of false discoveries
    at most ``α`` for independent (or positively dependent) tests. Reference: Benjamini &
    Hochberg (1995), JRSS B 57(1); equals ``statsmodels.stats.multitest.multipletests(
    method="fdr_bh")[1]``. NaN p-values (tests not run) are left out of ``m`` and stay NaN.
    """
    p = np.asarray(p_values, dtype=float)
    flat = p.ravel()
    out = np.full(flat.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(flat))
    m = ok.size
    if m == 0:
        return out.reshape(p.shape)
    order = ok[np.argsort(flat[ok], kind="stable")]
    ranked = flat[order] * m / np.arange(1, m + 1)
    q = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    out[order] = q
    return out.reshape(p.shape)
