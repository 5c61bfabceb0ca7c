"""A change-point scan on what a trend + season + overdispersion model does not explain.

Real series grow, have seasons and wobble more than binomial/Poisson noise: a scan against a
constant level flags all of that. Here the null model is a GLM (:func:`_irls`: statsmodels' IRLS
in numpy, equal to ``statsmodels.api.GLM(...).fit()`` — tested) with an intercept,
a linear trend and, when the series spans at least 13 months, a yearly season: two harmonics
(sin, cos of 2π·h·day/365.25, h = 1, 2) and the share of the period in the New Year holidays
(31 December – 8 January) — for conversions, trend and season only from two years of data
(:data:`CONVERSION_SEASON_MIN_DAYS`): Poisson with a log link and the period's exposure as offset for volumes,
binomial with a logit link for conversions. Overdispersion is the quasi-likelihood scale
``φ = max(1, Pearson χ² / (T − p))`` (McCullagh & Nelder 1989, §4.5).

For a split τ the **score** of adding a step ``1[t ≥ τ]`` to the null model is
``U_τ = Σ_{t≥τ} (y_t − μ̂_t)`` with variance ``φ·V_τ``, ``V_τ = cᵀWc − cᵀWX(XᵀWX)⁻¹XᵀWc`` (``W``
the GLM weights: ``μ`` for Poisson, ``n p (1 − p)`` for binomial; ``U_τ²/V_τ`` is the GLM score
test of the step, statsmodels' ``score_test`` — tested). It is studentised with the dispersion of
the model *with* that step, ``z_τ = U_τ / √(φ_τ V_τ)``, ``φ_τ = max(1, (X² − U_τ²/V_τ)/(T − p − 1))``
(``X²`` the null model's Pearson χ²; one scoring step from the step model's Pearson χ², within a
few per cent of it — tested): the null model's φ counts a real step as noise and costs the scan
its power (a ±25 % step in a source of 20 leads a week raised φ to 1.5–2). The statistic is
``max_τ |z_τ|`` over splits leaving ``min_side`` periods on each side; its p-value is simulated
from the null distribution of the projected score vector — Gaussian errors with variance ``φ W``,
serially correlated as an AR(1) with ``ρ`` the lag-one autocorrelation of the step model's
Pearson residuals (what the model leaves over from one period to the next: a season it follows
only roughly, a drift; read on the step model so a real step does not count as autocorrelation,
Crainiceanu & Vogelsang 2007), the statistic recomputed on each draw the same way — with a second
batch twenty times larger when fewer than five draws exceed the statistic, which accounts for the
scan over splits (beyond the simulation's resolution, the Bonferroni bound ``S · 2 F_t(−|z|·
√((1 − ρ)/(1 + ρ)))`` over the ``S`` splits, Student's t with ``T − p − 1`` degrees of freedom).
The step's size is then fitted (one more GLM) and reported as the levels the model expects at the
series' end with and without it, and as the ratio ``exp(δ)`` of its coefficient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

FloatArray = NDArray[np.float64]

SEASON_MIN_DAYS = 395
"""A yearly harmonic enters the model once the series spans this many days (13 months)."""


@dataclass(frozen=True)
class ModelScan:
    """The most likely lasting shift not explained by trend, season and noise.

    Attributes:
        index: first period of the shift.
        statistic: ``max |z_τ|``.
        p_value: simulated p-value of the statistic under the null model (scanned with
            ``stop_above``: once sure to exceed it, the smallest value it could have taken).
        before: the level expected from ``index`` on without the shift (the model with the step,
            its step set to zero), averaged over those periods (a rate, or counts per exposure).
        after: the level the model with the step fits over the same periods.
        dispersion: ``φ_τ`` at the chosen split: the overdispersion of the model with the step.
        expected: the null model's fitted level per period (for the chart).
        fitted: the model with the step, per period.
        seasonal: whether the yearly harmonic was in the model.
        ratio: ``exp`` of the fitted step's coefficient: the rate ratio after/before (volume) or
            the odds ratio (conversion, share).
        autocorrelation: ``ρ``, the lag-one autocorrelation of the step model's Pearson
            residuals (0 when negative), with which the null draws are simulated.
    """

    index: int
    statistic: float
    p_value: float
    before: float
    after: float
    dispersion: float
    expected: FloatArray
    fitted: FloatArray
    seasonal: bool
    ratio: float
    autocorrelation: float


CONVERSION_SEASON_MIN_DAYS = 760
"""Conversion series get trend and season only over two years: a season fitted to fewer than
two cycles absorbs the very steps the scan looks for (measured: a ×0.75 step vanished)."""


def _new_year_share(days: FloatArray) -> FloatArray:
    """Share of each period's days in the New Year holidays (31 December – 8 January)."""
    step = int(np.median(np.diff(days))) if len(days) > 1 else 7
    ordinals = days.astype(np.int64)[:, None] + np.arange(step)[None, :]  # (T, step)
    calendar = (ordinals - date(1970, 1, 1).toordinal()).astype("datetime64[D]")
    first_of_month = calendar.astype("datetime64[M]")
    month = first_of_month.astype(np.int64) % 12 + 1
    day = (calendar - first_of_month.astype("datetime64[D]")).astype(np.int64) + 1
    holiday = ((month == 1) & (day <= 8)) | ((month == 12) & (day == 31))
    return np.asarray(holiday.sum(axis=1) / step, dtype=np.float64)


def _design(days: FloatArray, kind: str) -> tuple[FloatArray, bool]:
    span = float(days[-1] - days[0]) if len(days) else 0.0
    t = (days - days[0]) / max(span, 1.0)
    if kind in ("conversion", "share") and span < CONVERSION_SEASON_MIN_DAYS:
        return np.ones((len(days), 1)), False
    cols = [np.ones_like(t), t]
    seasonal = span >= SEASON_MIN_DAYS
    if seasonal:
        for harmonic in (1, 2):
            angle = 2 * np.pi * harmonic * days / 365.25
            cols += [np.sin(angle), np.cos(angle)]
        holiday = _new_year_share(days)
        if holiday.any():
            cols.append(holiday)
    return np.column_stack(cols), seasonal


_EPS = float(np.finfo(float).eps)


def _irls(
    y: FloatArray, n: FloatArray, x: FloatArray, kind: str, maxiter: int = 100, tol: float = 1e-8
) -> FloatArray:
    """Maximum-likelihood coefficients of the Poisson (log link, ``log n`` offset; ``volume``) or
    binomial (logit link, ``y`` of ``n``) GLM by iteratively reweighted least squares, step for
    step as ``statsmodels`` 0.14 ``GLM.fit()`` runs it (its start values, its clipping by machine
    epsilon, its stopping rule: the deviance changes by at most ``tol``, then a last weighted
    least-squares solve by pseudo-inverse) without its model objects (tested against it)."""
    if kind == "volume":
        offset = np.log(n)
        endog = y
        trials = np.ones_like(y)
        mu = (y + y.mean()) / 2.0
        lin_pred = np.log(np.clip(mu, _EPS, np.inf))
    else:
        offset = np.zeros_like(y)
        endog = y * 1.0 / n
        trials = n
        mu = (endog + 0.5) / 2
        clean = np.clip(mu, _EPS, 1.0 - _EPS)
        lin_pred = np.log(clean / (1.0 - clean))

    def deviance(mu: FloatArray) -> float:
        if kind == "volume":
            ratio = np.clip(endog / mu, _EPS, np.inf)
            return float(np.sum(2 * (endog * np.log(ratio) - (endog - mu))))
        ratio = np.clip(endog / (mu + 1e-20), _EPS, np.inf)
        other = np.clip((1.0 - endog) / (1.0 - mu + 1e-20), _EPS, np.inf)
        return float(np.sum(2 * trials * (endog * np.log(ratio) + (1 - endog) * np.log(other))))

    def weights_and_deriv(mu: FloatArray) -> tuple[FloatArray, FloatArray]:
        if kind == "volume":
            deriv = 1.0 / np.clip(mu, _EPS, np.inf)
            variance = np.power(np.fabs(mu), 1.0)
        else:
            p = np.clip(mu, _EPS, 1.0 - _EPS)
            deriv = 1.0 / (p * (1 - p))
            variance = p * (1 - p) * 1
        return trials * (1.0 / (deriv**2 * variance)), deriv

    dev = [np.inf, deviance(mu)]
    for _ in range(maxiter):
        w, deriv = weights_and_deriv(mu)
        z = lin_pred + deriv * (endog - mu) - offset
        half = np.sqrt(w)
        if not (np.isfinite(half).all() and np.isfinite(z).all()):
            # The fit diverged (an exp overflowed on a thin, near-separated series): no model.
            raise np.linalg.LinAlgError("the GLM fit diverged")
        params = np.linalg.lstsq(half[:, None] * x, half * z, rcond=-1)[0]
        lin_pred = x @ params + offset
        mu = np.exp(lin_pred) if kind == "volume" else 1.0 / (1.0 + np.exp(-lin_pred))
        dev.append(deviance(mu))
        if abs(dev[-1] - dev[-2]) <= tol:
            break
    return np.asarray(np.linalg.pinv(half[:, None] * x) @ (half * z), dtype=np.float64)


def _fit(
    y: FloatArray, n: FloatArray, x: FloatArray, kind: str, drop_last: bool = False
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Fitted expected successes (conversion) or counts (volume) per period; the same with
    the last column's coefficient set to zero (``drop_last``: the step removed); the
    coefficients."""
    with np.errstate(all="ignore"):
        # Near-separation (a rate at 0 or 1 somewhere) only makes a coefficient large.
        params = _irls(y, n, x, kind)
        base = params.copy()
        if drop_last:
            base[-1] = 0.0
        eta = x @ base
        if kind == "volume":
            return np.exp(x @ params + np.log(n)), np.exp(eta) * n, params
        fitted = 1.0 / (1.0 + np.exp(-(x @ params)))
        return fitted * n, n / (1 + np.exp(-eta)), params


def _lag_one(y: FloatArray, fitted: FloatArray, n: FloatArray, kind: str) -> float:
    """``ρ = max(0, Σ r_t r_{t−1} / Σ r_t²)`` of the Pearson residuals ``r`` of the model with the
    step: what the model leaves over from one period to the next (a season it does not fit, a
    slow drift). Read on the step model so that a real step does not count as autocorrelation
    (Crainiceanu & Vogelsang 2007: null residuals cost a change-point test its power)."""
    if kind == "volume":
        var = fitted
    else:
        p = fitted / n
        var = n * p * (1 - p)
    r = (y - fitted) / np.sqrt(np.maximum(var, 1e-9))
    denom = float(np.sum(r**2))
    if denom <= 0 or len(r) < 3:
        return 0.0
    return float(min(max(0.0, float(np.sum(r[1:] * r[:-1])) / denom), 0.9))


def _studentised(
    score: FloatArray, pearson: FloatArray | float, var: FloatArray, dof: int
) -> tuple[FloatArray, FloatArray]:
    """``z_τ = U_τ / √(φ_τ · V_τ)`` with the dispersion of the model *with* the step at τ,
    ``φ_τ = max(1, (X² − U_τ² / V_τ) / (T − p − 1))``, ``X²`` the null model's Pearson χ² and
    ``V_τ`` the score's variance at φ = 1 (one Fisher-scoring step: the Pearson χ² of the step
    model is the null model's less the score statistic; exact for a Gaussian linear model).
    ``score``: (…, S); ``pearson``: scalar or (…,). Returns z (…, S) and φ_τ (…, S)."""
    x2 = np.asarray(pearson, dtype=float)[..., None]
    phi = np.maximum(1.0, (x2 - score**2 / var) / dof)
    return score / np.sqrt(phi * var), phi


@dataclass(frozen=True)
class Prepared:
    """A series ready for the scan: its periods with trials (``keep``) and the null design."""

    y: FloatArray
    n: FloatArray
    keep: NDArray[np.bool_]
    x: FloatArray
    seasonal: bool
    kind: str


def prepared(
    successes: ArrayLike, trials: ArrayLike, periods: list[date], kind: str, min_side: int
) -> Prepared | None:
    """The series to scan, or None when it is too short or has nothing to model
    (:func:`model_scan`)."""
    y = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    keep = n > 0
    y, n = y[keep], n[keep]
    kept = [p for p, k in zip(periods, keep, strict=True) if k]
    if len(y) < 2 * min_side:
        return None
    days = np.array([p.toordinal() for p in kept], dtype=float)
    x, seasonal = _design(days, kind)
    if x.shape[1] * 2 > len(y) or y.sum() == 0 or (kind != "volume" and (y == n).all()):
        return None
    return Prepared(y, n, keep, x, seasonal, kind)


@dataclass(frozen=True)
class Split:
    """The scan's observed statistic on a series: the chosen split and what its null needs."""

    mu: FloatArray  # the null model's expected successes / counts per period
    w: FloatArray
    phi: float
    splits: NDArray[np.int64]
    var: FloatArray
    dof: int
    stat: float
    index: int
    dispersion: float
    xtwx_inv: NDArray[np.floating]

    def step_design(self, x: FloatArray) -> FloatArray:
        """The null design with the step ``1[t ≥ index]`` as its last column."""
        return np.column_stack([x, (np.arange(len(x)) >= self.index).astype(float)])


def observed(s: Prepared, mu: FloatArray, min_side: int) -> Split:
    """The studentised score of a step at every split (module docstring) given the null fit."""
    y, n, x = s.y, s.n, s.x
    if s.kind == "volume":
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
    wx = w[:, None] * x
    xtwx_inv = np.linalg.pinv(x.T @ wx)
    # The score of each split as a linear map of e (r = proj · e, proj = I − WX(XᵀWX)⁻¹Xᵀ,
    # e ~ N(0, φW)): cw = c · proj, with c · WX the sums of WX's rows from each split on.
    tail_wx = np.cumsum(wx[::-1], axis=0)[::-1][splits]  # (S, p)
    cw = c - tail_wx @ xtwx_inv @ x.T
    var = np.maximum(np.einsum("st,t,st->s", cw, w, cw), 1e-12)  # Var(U_τ) / φ
    dof_step = max(t_len - x.shape[1] - 1, 1)
    z, phi_step = _studentised(np.cumsum(resid[::-1])[::-1][splits], np.sum(resid**2 / w), var, dof_step)
    best = int(np.argmax(np.abs(z)))
    return Split(
        mu=mu, w=w, phi=phi, splits=splits, var=var, dof=dof_step, stat=float(abs(z[best])),
        index=int(splits[best]), dispersion=float(phi_step[best]), xtwx_inv=xtwx_inv,
    )


def _enough(level: float, draws: int) -> int:
    """The fewest exceedances in ``draws`` whose p-value ``(1 + e)/(draws + 1)`` is above
    ``level``."""
    e = max(int(level * (draws + 1)) - 2, 0)
    while (1 + e) / (draws + 1) <= level:
        e += 1
    return e


def concluded(
    s: Prepared,
    split: Split,
    step_fit: tuple[FloatArray, FloatArray, FloatArray],
    simulations: int,
    seed: int,
    stop_above: float | None = None,
) -> ModelScan:
    """The scan's p-value, simulated from its null (module docstring), and its result, given the
    fit of the model with the step (:func:`_fit` with ``drop_last``). ``stop_above``: stop
    drawing once the p-value is sure to exceed it (its value is then the smallest it could
    have taken, still above ``stop_above``; the draws made are the same)."""
    from voronka.audit.stats.glm_null import NullScores

    y, n, x, w = s.y, s.n, s.x, split.w
    fitted, counterfactual, params = step_fit
    stat, index, splits = split.stat, split.index, split.splits
    rho = _lag_one(y, fitted, n, s.kind)
    rng = np.random.default_rng(seed)
    null = NullScores(x, w, split.xtwx_inv, np.sqrt(split.phi * w), rho, splits, split.var, split.dof)
    exceed, total = 0, 0
    for size in (simulations, 20 * (simulations + 1) - 1):
        # A second, larger batch only when the first leaves the statistic in the far tail.
        enough = None if stop_above is None else _enough(stop_above, total + size) - exceed
        exceed += null.exceedances(rng, size, stat**2, enough)
        total += size
        if exceed >= 5:
            break
    p_value = float((1 + exceed) / (total + 1))
    if exceed == 0:
        # Beyond the simulation's resolution: the Bonferroni bound over the splits, each z_τ
        # bounded by Student's t with T − p − 1 degrees of freedom, its scale widened by the
        # AR(1) long-run factor (1 + ρ)/(1 − ρ) (valid).
        deflated = stat * np.sqrt((1 - rho) / (1 + rho))
        p_value = min(p_value, float(len(splits) * 2 * special.stdtr(split.dof, -deflated)))
    after_null = counterfactual[index:].sum() / n[index:].sum()
    after_full = fitted[index:].sum() / n[index:].sum()
    expected = np.full(len(s.keep), np.nan)
    fitted_all = np.full(len(s.keep), np.nan)
    expected[s.keep] = split.mu / n
    fitted_all[s.keep] = fitted / n
    original_index = int(np.flatnonzero(s.keep)[index])
    with np.errstate(over="ignore"):  # a near-separated step: an infinite odds ratio
        ratio = float(np.exp(params[-1]))
    return ModelScan(
        index=original_index,
        statistic=stat,
        p_value=p_value,
        before=float(after_null),
        after=float(after_full),
        dispersion=split.dispersion,
        expected=expected,
        fitted=fitted_all,
        seasonal=s.seasonal,
        ratio=ratio,
        autocorrelation=rho,
    )


def model_scan(
    successes: ArrayLike,
    trials: ArrayLike,
    periods: list[date],
    *,
    kind: str,
    min_side: int = 3,
    simulations: int = 999,
    seed: int = 0,
) -> ModelScan | None:
    """Scan a ``volume`` (counts, exposure), ``conversion`` (successes, trials) or ``share``
    (a part's counts of a total: binomial, like a conversion) series; None when it is too short
    (fewer than ``2·min_side`` periods or more parameters than periods/2) or its model cannot be
    fitted (the fit diverges: a thin filtered series; such a series is not tested). Many series
    at once: :func:`voronka.audit.stats.glm_batch.model_scans`, the same numbers."""
    from voronka.audit.stats.glm_batch import ScanInput, model_scans

    series = ScanInput(successes, trials, periods, kind, seed)
    return model_scans([series], min_side=min_side, simulations=simulations)[0]
