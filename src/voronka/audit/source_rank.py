"""Ranking traffic sources by a defensible ROMI: shrunk toward the pooled value, then its lower bound.

Raw ROMI ranks a source with four leads and one lucky big deal above a source measured on
thousands. The sources section reports, per source with spend (docs/methods.md, "Sources"):

* the win rate per lead ``p`` (censoring-aware where known: ``expected_won / leads``), shrunk by a
  beta-binomial prior fitted to all sources (:func:`voronka.audit.stats.fit_beta_prior`):
  posterior ``Beta(won + α, leads − won + β)``;
* the mean won amount on the log scale, ``y = log(mean amount)``, whose sampling variance is
  ``v = log(1 + CV²/k)`` (Fenton–Wilkinson: the mean of ``k`` log-normal amounts; ``CV`` the pooled
  coefficient of variation of the amounts), shrunk toward the sources' mean ``ȳ`` by the
  normal–normal rule with between-source variance ``τ² = max(0, var(y) − mean(v))`` estimated on
  the sources with at least :data:`MIN_WON` won amounts (a lucky single deal does not widen the
  prior it is shrunk by): posterior ``N((y/v + ȳ/τ²)/(1/v + 1/τ²), 1/(1/v + 1/τ²))``; a source
  without won amounts gets the prior ``N(ȳ, τ²)``. Reference: Efron & Morris (1975), JASA 70(350);
* ``romi_shrunk = (leads · E[p] · exp(E[y]) − spend) / spend``, and ``romi_low``, the 10 % quantile
  of ROMI over :data:`DRAWS` posterior draws: the ROMI the source beats with 90 % probability.

Sources are ranked by ``romi_low``: a source with few leads is pulled to the common rate and
amount *and* carries its uncertainty, so it ranks above a well-measured source only when even its
pessimistic figure is better.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from voronka.audit.stats import fit_beta_prior

FloatArray = NDArray[np.float64]

MIN_WON = 10
"""Won amounts a source needs to inform the between-source spread of amounts."""

DRAWS = 4000
"""Posterior draws behind ``romi_low``."""

LOW_QUANTILE = 0.10
"""The quantile of ROMI that ranks the sources."""


@dataclass(frozen=True)
class ShrunkRomi:
    """Per source: ``point`` (``romi_shrunk``) and ``low`` (``romi_low``); NaN where not defined."""

    point: FloatArray
    low: FloatArray


def shrunk_romi(
    leads: ArrayLike,
    won: ArrayLike,
    mean_amount: ArrayLike,
    amount_sd: ArrayLike,
    amount_n: ArrayLike,
    spend: ArrayLike,
    *,
    seed: int = 0,
) -> ShrunkRomi:
    """Shrunk ROMI and its 10 % lower bound per source (NaN without spend or without any
    amounts); see the module docstring.

    ``won`` may be fractional (the censoring-aware expected wins); ``amount_n`` the won deals
    with an amount behind ``mean_amount`` and ``amount_sd``.
    """
    n = np.asarray(leads, dtype=float)
    x = np.clip(np.asarray(won, dtype=float), 0.0, n)
    m = np.asarray(mean_amount, dtype=float)
    sd = np.asarray(amount_sd, dtype=float)
    k = np.asarray(amount_n, dtype=float)
    s = np.asarray(spend, dtype=float)
    nan = np.full(n.shape, np.nan)
    rated = n > 0
    amounts = np.isfinite(m) & (m > 0) & (k > 0)
    if not rated.any() or not amounts.any():
        return ShrunkRomi(nan, nan.copy())
    prior = fit_beta_prior(x[rated], n[rated])
    a, b = x + prior.alpha, np.maximum(n - x, 0) + prior.beta
    # Pooled coefficient of variation of the won amounts (pooled mean and variance).
    km, mm = k[amounts], m[amounts]
    total = float(km.sum())
    pooled = float(np.sum(km * mm) / total)
    sq = np.where(np.isfinite(sd[amounts]), (km - 1).clip(0) * sd[amounts] ** 2, 0.0)
    var = float((sq.sum() + np.sum(km * (mm - pooled) ** 2)) / max(total - 1, 1.0))
    cv2 = var / pooled**2 if pooled > 0 else 0.0
    y = np.log(np.where(amounts, m, 1.0))
    v = np.log1p(cv2 / np.maximum(k, 1.0))
    good = amounts & (k >= MIN_WON)
    basis = good if good.sum() >= 2 else amounts
    y_bar = float(np.mean(y[basis]))
    tau2 = float(np.var(y[basis], ddof=1) - np.mean(v[basis])) if basis.sum() >= 2 else 0.0
    tau2 = max(tau2, 1e-6)
    precision = np.where(amounts, 1 / np.maximum(v, 1e-12), 0.0) + 1 / tau2
    post_mean = (np.where(amounts, y / np.maximum(v, 1e-12), 0.0) + y_bar / tau2) / precision
    post_sd = np.sqrt(1 / precision)
    paid = np.isfinite(s) & (s > 0) & rated
    point, low = nan.copy(), nan.copy()
    point[paid] = (n[paid] * a[paid] / (a[paid] + b[paid]) * np.exp(post_mean[paid]) - s[paid]) / s[
        paid
    ]
    if paid.any():
        rng = np.random.default_rng(seed)
        idx = np.flatnonzero(paid)
        p = rng.beta(a[idx], b[idx], size=(DRAWS, idx.size))
        amount = np.exp(rng.normal(post_mean[idx], post_sd[idx], size=(DRAWS, idx.size)))
        romi = (n[idx] * p * amount - s[idx]) / s[idx]
        low[idx] = np.quantile(romi, LOW_QUANTILE, axis=0)
    return ShrunkRomi(point, low)
