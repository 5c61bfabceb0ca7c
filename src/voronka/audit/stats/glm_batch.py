"""The change-point scan (:func:`voronka.audit.stats.glm_scan.model_scan`) of many series at once.

Most series an audit scans are conversions too short for a trend or a season: their null model is
a constant rate and the model with the step one rate before and one after. The weighted least
squares step of IRLS then has a closed form, the weighted mean of the working response in each
group, and the fits of all such series are run together, row by row of one padded array: the
same iterations, the same stopping rule per series, the same coefficients to rounding as
:func:`~voronka.audit.stats.glm_scan._irls` (tested). Other series (volumes, seasonal designs)
are fitted one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

import numpy as np
from numpy.typing import ArrayLike, NDArray

from voronka.audit.stats.glm_scan import (
    ModelScan,
    Prepared,
    _fit,
    concluded,
    observed,
    prepared,
)
from voronka.audit.stats.parallel import run_all

FloatArray = NDArray[np.float64]
Fit = tuple[FloatArray, FloatArray, FloatArray]

_EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class ScanInput:
    """One series to scan: the arguments of :func:`~voronka.audit.stats.glm_scan.model_scan`."""

    successes: ArrayLike
    trials: ArrayLike
    periods: list[date]
    kind: str
    seed: int = 0


def _grouped(s: Prepared, x: FloatArray) -> NDArray[np.bool_] | None:
    """For a binomial fit whose design is a constant (and a 0/1 step): the periods of the second
    group (none for a constant); None for any other design, and for a group whose rate is 0 or
    1 (near-separation: the coefficient runs off to infinity and only the iterations of
    ``_irls`` itself say where it stops)."""
    if s.kind == "volume" or x.shape[1] > 2 or not np.all(x[:, 0] == 1.0):
        return None
    after = np.zeros(len(x), dtype=bool) if x.shape[1] == 1 else x[:, 1] == 1.0
    if x.shape[1] == 2 and not np.all(after | (x[:, 1] == 0.0)):
        return None
    for group in (~after, after):
        if group.any() and (s.y[group].sum() == 0 or s.y[group].sum() == s.n[group].sum()):
            return None
    return after


def _deviance(endog: FloatArray, trials: FloatArray, mu: FloatArray) -> FloatArray:
    ratio = np.clip(endog / (mu + 1e-20), _EPS, np.inf)
    other = np.clip((1.0 - endog) / (1.0 - mu + 1e-20), _EPS, np.inf)
    return np.asarray(
        np.sum(2 * trials * (endog * np.log(ratio) + (1 - endog) * np.log(other)), axis=1)
    )


def _group_irls(
    ys: list[FloatArray], ns: list[FloatArray], groups: list[NDArray[np.bool_]],
    maxiter: int = 100, tol: float = 1e-8,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Binomial logit IRLS of many series with a constant or constant-and-step design, each row
    step for step as ``_irls`` runs it. Returns the coefficients (rows: the level before, the
    step) and which fits diverged."""
    rows, width = len(ys), max(len(y) for y in ys)
    endog = np.zeros((rows, width))
    trials = np.zeros((rows, width))  # padding: no trials, no weight, no deviance
    after = np.zeros((rows, width), dtype=bool)
    for i, (y, n, g) in enumerate(zip(ys, ns, groups, strict=True)):
        endog[i, : len(y)] = y * 1.0 / n
        trials[i, : len(y)] = n
        after[i, : len(y)] = g
    has_step = after.any(axis=1)
    mu = (endog + 0.5) / 2
    clean = np.clip(mu, _EPS, 1.0 - _EPS)
    lin_pred = np.log(clean / (1.0 - clean))
    previous, dev = np.full(rows, np.inf), _deviance(endog, trials, mu)
    params = np.zeros((rows, 2))
    active = np.ones(rows, dtype=bool)
    failed = np.zeros(rows, dtype=bool)
    for _ in range(maxiter):
        p = np.clip(mu, _EPS, 1.0 - _EPS)
        deriv = 1.0 / (p * (1 - p))
        w = trials * (1.0 / (deriv**2 * (p * (1 - p) * 1)))
        z = lin_pred + deriv * (endog - mu)
        bad = ~(np.isfinite(w).all(axis=1) & np.isfinite(z).all(axis=1))
        failed |= active & bad
        active &= ~bad
        wz = w * z
        before_w = np.where(after, 0.0, w).sum(axis=1)
        level = np.where(after, 0.0, wz).sum(axis=1) / before_w
        with np.errstate(divide="ignore", invalid="ignore"):
            level_after = np.where(after, wz, 0.0).sum(axis=1) / np.where(after, w, 0.0).sum(axis=1)
        step = np.where(has_step, level_after - level, 0.0)
        new_lin = level[:, None] + np.where(after, step[:, None], 0.0)
        new_mu = 1.0 / (1.0 + np.exp(-new_lin))
        new_dev = _deviance(endog, trials, new_mu)
        upd = active[:, None]
        lin_pred = np.where(upd, new_lin, lin_pred)
        mu = np.where(upd, new_mu, mu)
        params = np.where(upd, np.column_stack([level, step]), params)
        previous, dev = np.where(active, dev, previous), np.where(active, new_dev, dev)
        active &= ~(np.abs(dev - previous) <= tol)
        if not active.any():
            break
    return params, failed


def _fits(jobs: Sequence[tuple[Prepared, FloatArray, bool]]) -> list[Fit | None]:
    """``_fit(s.y, s.n, x, s.kind, drop_last)`` of every job (None where the fit diverged), the
    constant-and-step binomial ones together (:func:`_group_irls`)."""
    out: list[Fit | None] = [None] * len(jobs)
    grouped: list[tuple[int, NDArray[np.bool_]]] = []
    for i, (s, x, drop_last) in enumerate(jobs):
        groups = _grouped(s, x)
        if groups is not None:
            grouped.append((i, groups))
            continue
        try:
            out[i] = _fit(s.y, s.n, x, s.kind, drop_last)
        except np.linalg.LinAlgError:
            out[i] = None
    if not grouped:
        return out
    with np.errstate(all="ignore"):  # near-separation only makes a coefficient large
        params, failed = _group_irls(
            [jobs[i][0].y for i, _ in grouped], [jobs[i][0].n for i, _ in grouped],
            [g for _, g in grouped],
        )
        for row, (i, _) in enumerate(grouped):
            s, x, drop_last = jobs[i]
            if failed[row]:
                continue
            coef = params[row, : x.shape[1]].copy()
            base = coef.copy()
            if drop_last:
                base[-1] = 0.0
            fitted = 1.0 / (1.0 + np.exp(-(x @ coef)))
            out[i] = (fitted * s.n, s.n / (1 + np.exp(-(x @ base))), coef)
    return out


def model_scans(
    series: Sequence[ScanInput],
    *,
    min_side: int = 3,
    simulations: int = 999,
    stop_above: float | None = None,
) -> list[ModelScan | None]:
    """:func:`~voronka.audit.stats.glm_scan.model_scan` of each series (its own ``seed``), the
    fits of all of them batched: the same results as one call per series.

    ``stop_above``: a series' null draws stop once its p-value is sure to be above this level;
    its ``p_value`` is then the smallest it could have been (above the level), every other
    number the same. For a caller that reports only p-values (and FDR q-values, which are
    never below the p-value) at or below the level: a p-value above it cannot change any
    q-value at or below it (Benjamini–Hochberg takes the minimum over larger p-values of
    ``m·p₍ⱼ₎/j ≥ p₍ⱼ₎``, and the ranks of the smaller ones stay)."""
    ready: dict[int, Prepared] = {}
    for i, s in enumerate(series):
        one = prepared(s.successes, s.trials, s.periods, s.kind, min_side)
        if one is not None:
            ready[i] = one
    nulls = _fits([(s, s.x, False) for s in ready.values()])
    splits = {
        i: observed(ready[i], fit[0], min_side)
        for i, fit in zip(ready, nulls, strict=True)
        if fit is not None
    }
    steps = _fits([(ready[i], split.step_design(ready[i].x), True) for i, split in splits.items()])
    jobs = {
        i: partial(concluded, ready[i], split, fit, simulations, series[i].seed, stop_above)
        for (i, split), fit in zip(splits.items(), steps, strict=True)
        if fit is not None
    }
    out: list[ModelScan | None] = [None] * len(series)
    for i, scan in zip(jobs, run_all(list(jobs.values()), "voronka-scan"), strict=True):
        out[i] = scan
    return out
