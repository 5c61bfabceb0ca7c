"""How many new leads to expect: a negative-binomial model with trend and yearly season.

Lead volume grows, has seasons and is noisier than Poisson (a trade show, a campaign, a quiet
August). The weekly lead counts of up to two years before ``as_of`` are fitted with a
negative-binomial regression (NB2, maximum likelihood; Hilbe, *Negative Binomial Regression*,
2011; McCullagh & Nelder on overdispersion)

    log E[leads_w] = β₀ + β₁·t_w [+ β₂·sin(2π t_w) + β₃·cos(2π t_w)],   Var = μ + α μ²,

``t`` in years, the trend only with at least 26 weeks of data and the yearly harmonic with 40
(before that the season cannot be told from the trend). The forecast's expected leads over the coming days is the model's
mean there; its uncertainty has two parts the Monte Carlo draws per simulation: the coefficients'
(log-normal, from their covariance by the delta method) and the week-to-week overdispersion
(a Gamma factor with variance ``α Σμ_w² / (Σμ_w)²``). With fewer than :data:`MIN_WEEKS` weeks the
recent rate is used as it is (Poisson, the old behaviour).
"""

from __future__ import annotations

import datetime as dt
import threading
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

MIN_WEEKS = 8
"""Fewest complete weeks for the model (fewer: the recent rate, Poisson)."""

TREND_WEEKS = 26
"""Fewest weeks before a trend is fitted (fewer: the level alone)."""

SEASON_WEEKS = 40
"""Fewest weeks before the yearly harmonic is fitted."""

MAX_WEEKS = 104
"""Most weeks fitted (two years)."""


@dataclass(frozen=True)
class LeadOutlook:
    """The expected leads of a future window, and their uncertainty.

    Attributes:
        expected: expected leads in the window.
        log_sd: standard deviation of the log of the expected leads (the coefficients' part).
        dispersion: variance of the mean-one Gamma factor of the window's leads (overdispersion).
        weeks: weeks the model was fitted on (0: no model, the recent rate as it is).
        trend: yearly growth factor of the fitted trend (``exp β₁``), None without a model.
        seasonal: whether the yearly harmonic was fitted.
        alpha: the NB2 overdispersion ``α`` (0: Poisson).
    """

    expected: float
    log_sd: float = 0.0
    dispersion: float = 0.0
    weeks: int = 0
    trend: float | None = None
    seasonal: bool = False
    alpha: float = 0.0


def weekly_counts(daily: pd.DataFrame, as_of: dt.datetime) -> pd.DataFrame:
    """Leads per complete 7-day block ending at ``as_of``'s date (``end``: block end, ``leads``),
    oldest first, from ``daily`` (``day``, ``deals``; days without leads absent)."""
    if daily.empty:
        return pd.DataFrame({"end": [], "leads": []})
    per_day = daily.groupby("day")["deals"].sum()
    first = min(per_day.index)
    last = as_of.date()
    n_weeks = min((last - first).days // 7, MAX_WEEKS)
    ends = [last - dt.timedelta(days=7 * i) for i in range(n_weeks, 0, -1)]
    days = np.array([(d - last).days for d in per_day.index])
    values = per_day.to_numpy(dtype=float)
    leads = []
    for end in ends:
        offset = (end - last).days
        leads.append(float(values[(days >= offset - 7) & (days < offset)].sum()))
    return pd.DataFrame({"end": ends, "leads": leads})


def _design(t: np.ndarray, seasonal: bool, trend: bool = True) -> np.ndarray:
    cols = [np.ones_like(t), *([t] if trend else [])]
    if seasonal:
        cols += [np.sin(2 * np.pi * t), np.cos(2 * np.pi * t)]
    return np.column_stack(cols)


def _nb2_negloglik(params: np.ndarray, y: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative NB2 log-likelihood of ``(β, log α)`` and its gradient (Cameron & Trivedi,
    *Regression Analysis of Count Data*, §3.3)."""
    beta, alpha = params[:-1], float(np.exp(params[-1]))
    eta = np.clip(x @ beta, -30, 30)
    mu = np.exp(eta)
    r = 1.0 / alpha
    ll = (
        special.gammaln(y + r) - special.gammaln(r) - special.gammaln(y + 1)
        + r * np.log(r / (r + mu)) + y * np.log(mu / (r + mu))
    )
    d_eta = (y - mu) / (1.0 + alpha * mu)
    d_r = special.digamma(y + r) - special.digamma(r) + np.log(r / (r + mu)) + (mu - y) / (r + mu)
    grad_beta = x.T @ d_eta
    grad_log_alpha = float(np.sum(d_r)) * (-r)  # dr/dlogα = −r
    return -float(ll.sum()), -np.append(grad_beta, grad_log_alpha)


_FIT_LOCK = threading.Lock()
"""One lead-model fit at a time (see :func:`_fit`)."""


def _fit(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """NB2 maximum likelihood: coefficients, their covariance (the inverse Fisher information
    ``(Xᵀ W X)⁻¹``, ``W = μ / (1 + α μ)``) and ``α``; equals ``statsmodels``' ``NegativeBinomial``
    (test). Written on scipy: statsmodels' regression modules take seconds to import."""
    start = np.zeros(x.shape[1] + 1)
    start[0] = np.log(max(float(y.mean()), 1e-3))
    start[-1] = np.log(0.05)
    with _FIT_LOCK, warnings.catch_warnings():
        # Leads with no overdispersion drive log α towards −∞ (the Poisson limit), where BFGS's
        # line search may stop short and warn; the point it stops at is that limit's fit (and a
        # user would read the warning as a fault). catch_warnings is not thread-safe in Python
        # 3.11 (one thread leaving it restores the filters while another still fits: the warning
        # reached the CLI's stderr in some 100k audits), so the forecast's worker threads fit one
        # at a time (a few ms each). The tests ignore the message too.
        warnings.filterwarnings("ignore", "The line search algorithm did not converge")
        fit = optimize.minimize(_nb2_negloglik, start, args=(y, x), jac=True, method="BFGS")
    beta, alpha = fit.x[:-1], float(np.exp(fit.x[-1]))
    if not np.all(np.isfinite(fit.x)) or alpha > 1e3:  # pragma: no cover - degenerate series
        beta, alpha = start[:-1], 0.0
    mu = np.exp(np.clip(x @ beta, -30, 30))
    weight = mu / (1.0 + alpha * mu)
    info = x.T @ (x * weight[:, None])
    return beta, np.linalg.pinv(info), alpha


def lead_outlook(
    daily: pd.DataFrame, as_of: dt.datetime, future_days: np.ndarray, weights: np.ndarray
) -> LeadOutlook | None:
    """The expected leads over a future window, None with too little history.

    Args:
        daily: leads per ``day`` (``deals``) before ``as_of``'s date.
        as_of: the moment of the forecast.
        future_days: the days from ``as_of`` (fractional) at which the window's intervals start.
        weights: the length in days of each interval (their sum is the window's length).
    """
    weeks = weekly_counts(daily, as_of)
    if len(weeks) < MIN_WEEKS or weeks["leads"].sum() <= 0:
        return None
    y = weeks["leads"].to_numpy(dtype=float)
    # t in years, 0 at as_of; each block's middle.
    t = (np.arange(len(y)) - len(y) + 0.5) * 7 / 365.25
    seasonal = len(y) >= SEASON_WEEKS
    trend = len(y) >= TREND_WEEKS
    beta, cov, alpha = _fit(y, _design(t, seasonal, trend))
    t_future = (future_days + weights / 2) / 365.25
    xf = _design(t_future, seasonal, trend)
    per_day = np.exp(xf @ beta) / 7.0  # the model's leads per day at each interval
    mu = per_day * weights
    expected = float(mu.sum())
    if not np.isfinite(expected) or expected**2 <= 0:
        # A trend fitted on a short, old window can extrapolate to nothing (underflow) or to
        # overflow by the forecast's window: the model then has no outlook to give.
        return None
    gradient = (mu[:, None] * xf).sum(axis=0) / expected  # d log(Σμ) / dβ
    log_var = float(gradient @ cov @ gradient)
    # Overdispersion: weekly Gamma factors of variance α, over the window's weeks.
    weekly = np.bincount((future_days // 7).astype(int), weights=mu)
    dispersion = alpha * float(np.sum(weekly**2)) / expected**2
    return LeadOutlook(
        expected=expected,
        log_sd=float(np.sqrt(max(log_var, 0.0))),
        dispersion=dispersion,
        weeks=len(y),
        trend=float(np.exp(beta[1])) if trend else None,
        seasonal=seasonal,
        alpha=alpha,
    )
