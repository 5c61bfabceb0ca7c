"""Likelihood-ratio scans for one lasting shift in a rate (binomial) or a volume (Poisson)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from voronka.audit.stats import dist

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ChangePoint:
    """The most likely single shift in a series, and how surprising it is under no shift.

    Attributes:
        index: position (in the series as given) of the first period of the new level.
        before: the pooled level before ``index`` (a rate, or counts per unit of exposure).
        after: the pooled level from ``index`` on.
        direction: ``up`` when ``after > before``, else ``down``.
        statistic: the maximised likelihood-ratio statistic ``2·(ℓ₁ − ℓ₀)``.
        p_value: probability of a statistic at least this large under a constant level,
            accounting for the scan over every split (see the scan functions).
        splits: how many split points were scanned.
    """

    index: int
    before: float
    after: float
    direction: Literal["up", "down"]
    statistic: float
    p_value: float
    splits: int


def _xlogx(v: FloatArray) -> FloatArray:
    """``v·log v`` with ``0·log 0 = 0``."""
    return np.asarray(-special.entr(v), dtype=float)


def _poisson_ll(c: FloatArray, e: FloatArray) -> FloatArray:
    """Maximised Poisson log-likelihood ``c log(c/e) − c`` (0·log 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = special.xlogy(c, np.where(e > 0, c / e, 0.0)) - c
    return np.asarray(out, dtype=float)


def _scan_binomial(x: FloatArray, n: FloatArray, lo: int, hi: int) -> FloatArray:
    """LR statistics for splits ``lo..hi`` (new level from that index); ``x`` is (..., T)."""
    cx = np.cumsum(x, axis=-1)
    cn = np.cumsum(n)
    tx, tn = cx[..., -1:], cn[-1]
    left_x, left_n = cx[..., lo - 1 : hi], cn[lo - 1 : hi]
    right_x, right_n = tx - left_x, tn - left_n
    # The n·log n terms depend on the trials only: computed once, not per simulation.
    constant = _xlogx(np.asarray(tn, dtype=float)) - _xlogx(left_n) - _xlogx(right_n)
    varying = (
        _xlogx(left_x)
        + _xlogx(left_n - left_x)
        + _xlogx(right_x)
        + _xlogx(right_n - right_x)
        - _xlogx(tx)
        - _xlogx(tn - tx)
    )
    return np.maximum(2 * (varying + constant), 0.0)


def _scan_poisson(c: FloatArray, e: FloatArray, lo: int, hi: int) -> FloatArray:
    cc = np.cumsum(c, axis=-1)
    ce = np.cumsum(e)
    tc, te = cc[..., -1:], ce[-1]
    left_c, left_e = cc[..., lo - 1 : hi], ce[lo - 1 : hi]
    right_c, right_e = tc - left_c, te - left_e
    null = _poisson_ll(tc, np.asarray(te, dtype=float))
    stat = 2 * (_poisson_ll(left_c, left_e) + _poisson_ll(right_c, right_e) - null)
    return np.maximum(stat, 0.0)


EXCEEDANCES_TO_STOP = 10
"""Sequential Monte Carlo: stop simulating once this many simulated statistics reach the observed."""

BATCH = 100
"""Simulations drawn at a time."""


def _scan_p_value(
    observed: float, simulate: Callable[[int], FloatArray], simulations: int, splits: int
) -> float:
    """Sequential Monte Carlo p-value, with an analytic bound beyond the simulation's resolution.

    Null statistics are drawn in batches; as soon as ``h`` = :data:`EXCEEDANCES_TO_STOP` of them
    reach the observed one, at draw ``l``, the p-value is ``h / l``; otherwise, after all ``B``
    draws with ``g < h`` exceedances, ``(g + 1) / (B + 1)``. Both are valid p-values (Besag &
    Clifford 1991, "Sequential Monte Carlo p-values", Biometrika 78) and most unremarkable
    series stop after one batch. When no draw reaches the observed statistic the p-value is the
    smaller of ``1/(B+1)`` and the Bonferroni bound ``splits · P(χ²₁ ≥ T)`` over the scanned
    splits (each split's LR is asymptotically χ²₁); this stays valid: for ``α < 1/(B+1)`` it is
    ≤ α only when the bound is, and for larger ``α`` exactly when the Monte Carlo p-value is.
    """
    exceed = 0
    done = 0
    while done < simulations:
        size = min(BATCH, simulations - done)
        hits = np.cumsum(simulate(size) >= observed - 1e-9)
        if exceed + hits[-1] >= EXCEEDANCES_TO_STOP:
            at = int(np.argmax(exceed + hits >= EXCEEDANCES_TO_STOP))
            return EXCEEDANCES_TO_STOP / (done + at + 1)
        exceed += int(hits[-1])
        done += size
    if exceed > 0:
        return (1 + exceed) / (simulations + 1)
    bound = splits * float(dist.chi2_sf(observed, 1))
    return min(1 / (simulations + 1), bound)


def _result(
    index: int, before: float, after: float, stat: float, p: float, splits: int
) -> ChangePoint:
    return ChangePoint(
        index=index,
        before=before,
        after=after,
        direction="up" if after > before else "down",
        statistic=stat,
        p_value=p,
        splits=splits,
    )


def binomial_changepoint(
    successes: ArrayLike,
    trials: ArrayLike,
    *,
    min_periods: int = 2,
    simulations: int = 999,
    seed: int = 0,
) -> ChangePoint | None:
    """Scan a series of ``(successesₜ, trialsₜ)`` for one lasting shift in the success rate.

    For each split ``τ`` (the new level starting at period ``τ``, at least ``min_periods``
    periods with trials on each side) the likelihood-ratio statistic of "rate p₁ before, p₂ from
    τ on" against "one rate p throughout" is
    ``Λ(τ) = 2·[ℓ(x<τ, n<τ) + ℓ(x≥τ, n≥τ) − ℓ(x, n)]`` with ``ℓ(x, n) = x log(x/n) +
    (n−x) log(1−x/n)``; the estimate of the change point is ``argmax Λ`` and the test statistic
    ``max Λ`` (Hinkley & Hinkley 1970, Biometrika 57; Worsley 1983, Biometrika 70).

    Because the maximum is taken over many splits, ``Λ`` is not χ²₁. The p-value is a permutation
    test under the null of a constant rate, conditional on the observed trials and the total
    successes: the successes are re-dealt among periods by multivariate hypergeometric draws
    (up to ``simulations`` times, seeded, stopping early once the answer is clearly
    unremarkable), which is exact whatever the trials per period. Periods
    without trials are skipped (``index`` still refers to the series as given). Returns None when
    fewer than ``2·min_periods`` periods have trials, or the series has no successes or no
    failures at all.
    """
    x_all = np.asarray(successes, dtype=np.int64)
    n_all = np.asarray(trials, dtype=np.int64)
    valid = np.flatnonzero(n_all > 0)
    x, n = x_all[valid].astype(float), n_all[valid].astype(float)
    t = valid.size
    total = int(x.sum())
    if t < 2 * min_periods or total in (0, int(n.sum())):
        return None
    lo, hi = min_periods, t - min_periods
    observed = _scan_binomial(x, n, lo, hi)
    best = int(np.argmax(observed))
    split = lo + best
    rng = np.random.default_rng(seed)
    colors = n_all[valid]

    def simulate(size: int) -> FloatArray:
        null_x = rng.multivariate_hypergeometric(colors, total, size=size).astype(float)
        return np.asarray(_scan_binomial(null_x, n, lo, hi).max(axis=-1), dtype=float)

    splits = hi - lo + 1
    p = _scan_p_value(float(observed[best]), simulate, simulations, splits)
    before = float(x[:split].sum() / n[:split].sum())
    after = float(x[split:].sum() / n[split:].sum())
    return _result(int(valid[split]), before, after, float(observed[best]), p, splits)


def poisson_changepoint(
    counts: ArrayLike,
    exposure: ArrayLike | None = None,
    *,
    min_periods: int = 2,
    simulations: int = 999,
    seed: int = 0,
) -> ChangePoint | None:
    """Scan a series of counts (e.g. leads per week) for one lasting shift in volume.

    ``cₜ ~ Poisson(λ·eₜ)`` with exposure ``eₜ`` (period length; 1 when omitted). The statistic is
    ``Λ(τ) = 2·[ℓ(c<τ, e<τ) + ℓ(c≥τ, e≥τ) − ℓ(c, e)]`` with ``ℓ(c, e) = c log(c/e) − c``,
    maximised over splits with ``min_periods`` periods each side (Worsley 1986, "Confidence
    regions and tests for a change-point in a sequence of exponential family random variables",
    Biometrika 73). The p-value is conditional on the total count: under a constant rate the
    counts are multinomial with probabilities ``eₜ/Σe``, simulated ``simulations`` times (seeded).
    ``before``/``after`` are counts per unit of exposure. Returns None for fewer than
    ``2·min_periods`` periods or no counts at all.
    """
    c = np.asarray(counts, dtype=float)
    e = np.ones_like(c) if exposure is None else np.asarray(exposure, dtype=float)
    t = c.size
    total = int(c.sum())
    if t < 2 * min_periods or total == 0 or np.any(e <= 0):
        return None
    lo, hi = min_periods, t - min_periods
    observed = _scan_poisson(c, e, lo, hi)
    best = int(np.argmax(observed))
    split = lo + best
    rng = np.random.default_rng(seed)
    shares = e / e.sum()

    def simulate(size: int) -> FloatArray:
        null_c = rng.multinomial(total, shares, size=size).astype(float)
        return np.asarray(_scan_poisson(null_c, e, lo, hi).max(axis=-1), dtype=float)

    splits = hi - lo + 1
    p = _scan_p_value(float(observed[best]), simulate, simulations, splits)
    before = float(c[:split].sum() / e[:split].sum())
    after = float(c[split:].sum() / e[split:].sum())
    return _result(split, before, after, float(observed[best]), p, splits)
