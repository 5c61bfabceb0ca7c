"""The implementations the speed work of issue 11 replaced, kept as test oracles (the scan's
statistic updated with the method, computed the direct way): the vectorised code must give the
same numbers on many generated inputs."""

from __future__ import annotations

import warnings
from datetime import date

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from voronka.audit.stats import glm_scan


def mixture_quantile(q: float, p_real: float, mu: float, mu_sd: float, post_mean: float,
                     post_sd: float) -> float:
    """The scalar bisection of ``shrink_gaps``'s interval (scipy.stats' frozen normal CDFs): the
    mixture ``(1 − p)·N(μ, mu_sd²) + p·N(post_mean, post_sd²)``."""
    def cdf(v: float) -> float:
        return ((1 - p_real) * float(stats.norm.cdf(v, mu, mu_sd))
                + p_real * float(stats.norm.cdf(v, post_mean, post_sd)))

    lo = min(mu - 10 * mu_sd, post_mean - 10 * post_sd) - 1e-9
    hi = max(mu + 10 * mu_sd, post_mean + 10 * post_sd) + 1e-9
    for _ in range(60):
        mid = (lo + hi) / 2
        if cdf(mid) < q:
            lo = mid
        else:
            hi = mid
    return hi


def glm_fit(y: np.ndarray, n: np.ndarray, x: np.ndarray, kind: str,
            drop_last: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``glm_scan._fit`` through statsmodels' GLM (Poisson with log exposure offset, or binomial)."""
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "volume":
            res = sm.GLM(y, x, family=sm.families.Poisson(), offset=np.log(n)).fit()
        else:
            res = sm.GLM(np.column_stack([y, n - y]), x, family=sm.families.Binomial()).fit()
    params = np.asarray(res.params, dtype=float)
    fitted = np.asarray(res.fittedvalues, dtype=float)
    base = params.copy()
    if drop_last:
        base[-1] = 0.0
    eta = x @ base
    with np.errstate(over="ignore"):  # as the scan sees it: a huge coefficient, a 0 level
        if kind == "volume":
            without = np.exp(eta) * n
        else:
            fitted = fitted * n
            without = n / (1 + np.exp(-eta))
    return fitted, without, params


def model_scan_direct(
    successes: ArrayLike,
    trials: ArrayLike,
    periods: list[date],
    *,
    kind: str,
    min_side: int = 3,
    simulations: int = 999,
    seed: int = 0,
) -> glm_scan.ModelScan | None:
    """``glm_scan.model_scan`` computed directly: statsmodels fits, the explicit projection
    matrix, the (T × S) simulated product and, per split, the dispersion of the model with the
    step as the null model's Pearson χ² less the split's score statistic.

    Scan a ``volume`` (counts, exposure), ``conversion`` (successes, trials) or ``share``
    (a part's counts of a total: binomial, like a conversion) series; None
    when it is too short (fewer than ``2·min_side`` periods or more parameters than periods/2)."""
    y = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    keep = n > 0
    y, n = y[keep], n[keep]
    kept = [p for p, k in zip(periods, keep, strict=True) if k]
    if len(y) < 2 * min_side:
        return None
    days = np.array([p.toordinal() for p in kept], dtype=float)
    x, seasonal = glm_scan._design(days, kind)
    if x.shape[1] * 2 > len(y) or y.sum() == 0 or (kind != "volume" and (y == n).all()):
        return None
    mu, _, _ = glm_fit(y, n, x, kind)  # expected successes / counts per period
    if kind == "volume":
        w = mu
    else:
        p = mu / n
        w = n * p * (1 - p)
    w = np.maximum(w, 1e-9)
    resid = y - mu
    dof = max(len(y) - x.shape[1], 1)
    phi = max(1.0, float(np.sum(resid**2 / w) / dof))
    t_len = len(y)
    splits = np.arange(min_side, t_len - min_side + 1)
    c = (np.arange(t_len)[None, :] >= splits[:, None]).astype(float)  # (S, T)
    xtwx_inv = np.linalg.pinv(x.T @ (w[:, None] * x))
    proj = np.eye(t_len) - (w[:, None] * x) @ xtwx_inv @ x.T  # r = proj · e, e ~ N(0, φW)
    cw = c @ proj  # score of each split as a linear map of e
    var = np.maximum(np.einsum("st,t,st->s", cw, w, cw), 1e-12)
    dof_step = max(t_len - x.shape[1] - 1, 1)

    def studentised(scores: np.ndarray, pearson: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        phi_step = np.maximum(1.0, (pearson[:, None] - scores**2 / var) / dof_step)
        return scores / np.sqrt(phi_step * var), phi_step

    z_all, phi_all = studentised((c @ resid)[None, :], np.array([np.sum(resid**2 / w)]))
    z = z_all[0]
    best = int(np.argmax(np.abs(z)))
    stat = float(abs(z[best]))
    index = int(splits[best])
    step = c[best][:, None]
    fitted, counterfactual, params = glm_fit(y, n, np.column_stack([x, step]), kind, drop_last=True)
    # lag-one autocorrelation of the step model's Pearson residuals, by its definition
    var_fit = fitted if kind == "volume" else fitted * (1 - fitted / n)
    pearson_resid = (y - fitted) / np.sqrt(np.maximum(var_fit, 1e-9))
    rho = 0.0
    if np.sum(pearson_resid**2) > 0:
        rho = float(np.clip(np.dot(pearson_resid[1:], pearson_resid[:-1])
                            / np.dot(pearson_resid, pearson_resid), 0.0, 0.9))
    # stationary AR(1) correlation matrix, applied to the same normals through its recursion
    rng = np.random.default_rng(seed)
    exceed, total = 0, 0
    for size in (simulations, 20 * (simulations + 1) - 1):
        # A second, larger batch only when the first leaves the statistic in the far tail.
        normals = rng.standard_normal((size, t_len))
        # e_t = ρ e_{t−1} + √(1 − ρ²) z_t as a matrix: e = z Lᵀ, L lower-triangular
        lower = np.zeros((t_len, t_len))
        for t in range(t_len):
            lower[t, 0] = rho**t
            lower[t, 1:t + 1] = np.sqrt(1 - rho**2) * rho ** (t - np.arange(1, t + 1))
        e = (normals @ lower.T) * np.sqrt(phi * w)[None, :]
        r = e @ proj.T
        sims = np.abs(studentised(e @ cw.T, np.sum(r**2 / w, axis=1))[0]).max(axis=1)
        exceed += int(np.sum(sims >= stat))
        total += size
        if exceed >= 5:
            break
    p_value = float((1 + exceed) / (total + 1))
    if exceed == 0:
        # Beyond the simulation's resolution: the Bonferroni bound over the splits (valid).
        deflated = stat * np.sqrt((1 - rho) / (1 + rho))
        p_value = min(p_value, float(len(splits) * 2 * stats.t.sf(deflated, dof_step)))
    after_null = counterfactual[index:].sum() / n[index:].sum()
    after_full = fitted[index:].sum() / n[index:].sum()
    expected = np.full(len(periods), np.nan)
    fitted_all = np.full(len(periods), np.nan)
    expected[keep] = mu / n
    fitted_all[keep] = fitted / n
    original_index = int(np.flatnonzero(keep)[index])
    with np.errstate(over="ignore"):
        ratio = float(np.exp(params[-1]))
    return glm_scan.ModelScan(
        index=original_index,
        statistic=stat,
        p_value=p_value,
        before=float(after_null),
        after=float(after_full),
        dispersion=float(phi_all[0, best]),
        expected=expected,
        fitted=fitted_all,
        seasonal=seasonal,
        ratio=ratio,
        autocorrelation=rho,
    )
