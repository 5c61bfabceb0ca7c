"""Fair comparisons of a segment with its peers: stratified (Mantel–Haenszel) gaps, shrunk.

A manager who is given worse leads converts worse without selling worse. Comparing within strata
(source × quarter for a manager, quarter for a source) removes that: in stratum ``s`` the
segment has ``x_s`` of ``n_s`` deals moving on, its peers (everyone else) ``y_s`` of ``m_s``.

* **Expected** moves at the peers' rates: ``E = Σ n_s · y_s / m_s`` (indirect standardisation);
  the **gap** ``d = (Σ x_s − E) / Σ n_s`` is the segment's rate minus its peers' on its own mix.
* **Test** (Mantel & Haenszel 1959): under "no difference within any stratum" ``x_s`` is
  hypergeometric with mean ``n_s·t_s/N_s`` and variance ``n_s m_s t_s (N_s − t_s) / (N_s²(N_s −
  1))`` (``t_s = x_s + y_s``, ``N_s = n_s + m_s``); ``z = (Σx − Σmean + ½) / √Σvar`` with a
  continuity correction, one-sided (worse than peers). Equals the square root of
  ``statsmodels.stats.contingency_tables.StratifiedTable.test_null_odds(correction=True)``
  with the sign of the difference (tested).
* **Shrinkage** (no winner's curse; Efron 2011, "Tweedie's formula and selection bias"): the gaps
  of one breakdown × step, ``d_i ~ N(θ_i, se_i²)``, ``θ_i ~ N(μ, τ²)`` with ``μ`` and ``τ²``
  by the DerSimonian–Laird moment estimator; the posterior mean ``μ + B_i (d_i − μ)``,
  ``B_i = τ² / (τ² + se_i²)``, and its 95% posterior interval (sd ``√(B_i) · se_i``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class StratifiedGap:
    """One segment against its peers, within strata.

    Attributes:
        n: the segment's deals in strata where peers have deals.
        observed: of those, deals that moved on.
        expected: moves expected at the peers' rates of each stratum.
        gap: ``(observed − expected) / n``: rate difference on the segment's own mix.
        se: standard error of ``gap`` (binomial variances of the segment and of the peers' rates).
        raw_gap: the segment's rate minus the pooled rate of everyone else (no strata).
        p_value: one-sided Mantel–Haenszel p-value of "converts worse than its peers".
    """

    n: float
    observed: float
    expected: float
    gap: float
    se: float
    raw_gap: float
    p_value: float


def stratified_gap(
    x: ArrayLike, n: ArrayLike, y: ArrayLike, m: ArrayLike
) -> StratifiedGap | None:
    """The segment (``x`` of ``n`` per stratum) against its peers (``y`` of ``m``); None when no
    stratum has deals on both sides."""
    xs, ns = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    ys, ms = np.asarray(y, dtype=float), np.asarray(m, dtype=float)
    raw_n, raw_m = ns.sum(), ms.sum()
    keep = (ns > 0) & (ms > 0)
    if not keep.any():
        return None
    raw_gap = float(xs.sum() / raw_n - ys.sum() / raw_m) if raw_n > 0 and raw_m > 0 else 0.0
    xs, ns, ys, ms = xs[keep], ns[keep], ys[keep], ms[keep]
    peer = ys / ms
    expected = float(np.sum(ns * peer))
    total_n = float(ns.sum())
    gap = (float(xs.sum()) - expected) / total_n
    pooled = (xs + ys) / (ns + ms)
    var = np.sum(pooled * (1 - pooled) * (ns + ns**2 / ms))
    se = float(np.sqrt(max(var, 1e-12))) / total_n
    big_n = ns + ms
    t = xs + ys
    mean = ns * t / big_n
    with np.errstate(divide="ignore", invalid="ignore"):
        hyper = np.where(big_n > 1, ns * ms * t * (big_n - t) / (big_n**2 * (big_n - 1)), 0.0)
    v = float(hyper.sum())
    if v <= 0:
        p = 1.0
    else:
        z = (float(xs.sum() - mean.sum()) + 0.5) / np.sqrt(v)
        p = float(stats.norm.cdf(z))
    return StratifiedGap(
        n=total_n,
        observed=float(xs.sum()),
        expected=expected,
        gap=gap,
        se=se,
        raw_gap=raw_gap,
        p_value=p,
    )


@dataclass(frozen=True)
class ShrunkGaps:
    """Posterior means and 95% intervals of gaps shrunk toward their common mean.

    Attributes:
        mean: the common mean ``μ``.
        tau2: the between-segment variance ``τ²`` (0: every gap is noise).
        gap: posterior means.
        low: lower 95% bounds.
        high: upper 95% bounds.
        sd: posterior standard deviations.
    """

    mean: float
    tau2: float
    gap: FloatArray
    low: FloatArray
    high: FloatArray
    sd: FloatArray


def shrink_gaps(gaps: ArrayLike, se: ArrayLike) -> ShrunkGaps:
    """Normal–normal empirical Bayes with the DerSimonian–Laird ``τ²`` (see the module docstring).

    With one gap there is nothing to pool: it is returned as is (``τ² = ∞``).
    """
    d = np.asarray(gaps, dtype=float)
    s2 = np.maximum(np.asarray(se, dtype=float) ** 2, 1e-12)
    if len(d) < 2:
        sd = np.sqrt(s2)
        return ShrunkGaps(float(d.mean()) if len(d) else 0.0, float("inf"), d, d - 1.96 * sd,
                          d + 1.96 * sd, sd)
    w = 1 / s2
    mu_fixed = float(np.sum(w * d) / w.sum())
    q = float(np.sum(w * (d - mu_fixed) ** 2))
    denom = float(w.sum() - np.sum(w**2) / w.sum())
    tau2 = max(0.0, (q - (len(d) - 1)) / denom) if denom > 0 else 0.0
    w_star = 1 / (s2 + tau2)
    mu = float(np.sum(w_star * d) / w_star.sum())
    b = tau2 / (tau2 + s2)
    post = mu + b * (d - mu)
    sd = np.sqrt(b * s2 + (1 - b) ** 2 / w_star.sum())
    return ShrunkGaps(mu, tau2, post, post - 1.96 * sd, post + 1.96 * sd, sd)
