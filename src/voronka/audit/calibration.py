"""Is the forecast honest? Coverage with its interval, a proper score, and conformal widening.

The rolling backtest (:func:`voronka.audit.forecast.build_forecast`) gives, for each past month,
the forecast made from the month's middle with only the data known then, and the wins that
followed. From those rows:

* **coverage** of the 80 % range, with its Wilson 95 % interval (Brown, Cai & DasGupta 2001): a
  forecast whose interval lies wholly below 80 % is not calibrated, whatever its point estimate;
* the **Brier score** of the plan probability (Gneiting & Raftery 2007, a strictly proper score),
  beside the Brier score of a naive forecaster that expects last month's wins again (Poisson
  around them) — the forecast must beat it to be worth its machinery;
* a **conformal widening** (split conformal; Angelopoulos & Bates 2021, "A gentle introduction to
  conformal prediction"): each past month's miss is scored on the scale of its own range,
  ``r = (actual − p50) / (p90 − p50)`` above the median, ``(p50 − actual) / (p50 − p10)`` below
  (half a deal added to each half-width: counts are discrete); the ``⌈0.8 (n + 1)⌉``-th smallest
  ``r`` is the factor by which the range must be stretched around its median for 80 % of such
  months to fall inside. The forecast is stretched only when that factor exceeds 1 (the model
  under-covered), never narrowed, and says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from voronka.audit.stats import dist
from voronka.audit.stats.intervals import wilson_interval

LEVEL = 0.8
"""The nominal coverage of the range p10 … p90."""

MIN_MONTHS = 6
"""Fewest backtest months before the range is widened from them."""

HALF_DEAL = 0.5
"""Added to each half-width of a range before scoring a miss against it (counts are discrete)."""


@dataclass(frozen=True)
class Calibration:
    """How the forecast did in its backtest.

    Attributes:
        months: backtest months scored.
        inside: of them, months whose actual fell inside the 80 % range.
        coverage: ``inside / months``.
        coverage_low: lower end of the Wilson 95 % interval of the coverage.
        coverage_high: upper end.
        brier: mean squared error of the plan probability against "the plan was met".
        brier_naive: the same for the naive forecaster (last month's wins again, Poisson).
        widened_by: the conformal factor the current range was stretched by (1: not widened).
        verdict: ``calibrated`` (the interval reaches 80 %), ``under`` (it lies below 80 %: the
            range was too narrow), ``over`` (it lies above: too wide) or ``too_few`` (fewer
            than :data:`MIN_MONTHS` months).
    """

    months: int
    inside: int
    coverage: float
    coverage_low: float
    coverage_high: float
    brier: float | None = None
    brier_naive: float | None = None
    widened_by: float = 1.0
    verdict: str = "too_few"


def miss_scores(p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Each month's miss on the scale of its range (≤ 1: inside; see the module docstring)."""
    up = (actual - p50) / (p90 - p50 + HALF_DEAL)
    down = (p50 - actual) / (p50 - p10 + HALF_DEAL)
    return np.asarray(np.where(actual >= p50, up, down), dtype=np.float64)


def conformal_factor(scores: Sequence[float], level: float = LEVEL) -> float:
    """The split-conformal stretch: the ``⌈level (n + 1)⌉``-th smallest score, at least 1 (inf when
    that rank exceeds n; 1 with fewer than :data:`MIN_MONTHS` scores)."""
    n = len(scores)
    if n < MIN_MONTHS:
        return 1.0
    rank = math.ceil(level * (n + 1))
    if rank > n:
        return float(max(max(scores), 1.0))  # the largest miss seen: the most n months can say
    return float(max(sorted(scores)[rank - 1], 1.0))


def stretch(samples: np.ndarray, factor: float, floor: float = 0.0) -> np.ndarray:
    """``p50 + factor · (x − p50)`` for every simulated outcome (the range widened around its
    median), not below ``floor``: what the period has already won, which no outcome can fall
    short of (a widened range once read "511 won so far; most likely 508 to 528")."""
    if factor <= 1.0:
        return samples
    median = float(np.quantile(samples, 0.5, method="inverted_cdf"))
    return np.asarray(np.maximum(median + factor * (samples - median), floor), dtype=np.float64)


def naive_p_plan(last_month: int, plan: float) -> float:
    """P(wins ≥ plan) for the naive forecaster: this month's wins ~ Poisson(last month's)."""
    return dist.poisson_sf(math.ceil(plan) - 1, max(last_month, 1e-9))


def backtest_plan(plan: float | None, last_month: int) -> float:
    """The plan a backtest month is scored against: the user's plan when given, else last month's
    wins plus 10 % (a plan to grow), rounded up."""
    return float(plan) if plan is not None else float(math.ceil(1.1 * last_month))


def calibrate(
    p10: Sequence[float],
    p50: Sequence[float],
    p90: Sequence[float],
    actual: Sequence[float],
    p_plan: Sequence[float | None] = (),
    plan_met: Sequence[bool] = (),
    naive: Sequence[float] = (),
) -> Calibration | None:
    """The :class:`Calibration` of backtest rows (None without rows)."""
    n = len(actual)
    if n == 0:
        return None
    a10, a50, a90, a = (np.asarray(v, dtype=np.float64) for v in (p10, p50, p90, actual))
    inside = int(np.sum((a10 <= a) & (a <= a90)))
    low, high = wilson_interval(inside, n)
    scored = [i for i, p in enumerate(p_plan) if p is not None]
    brier = brier_naive = None
    if scored:
        met = np.array([plan_met[i] for i in scored], dtype=np.float64)
        probs = np.array([p_plan[i] for i in scored], dtype=np.float64)
        brier = float(np.mean((probs - met) ** 2))
        if naive:
            brier_naive = float(np.mean((np.asarray(naive)[scored] - met) ** 2))
    factor = conformal_factor(miss_scores(a10, a50, a90, a).tolist())
    if n < MIN_MONTHS:
        verdict = "too_few"
    elif high < LEVEL:
        verdict = "under"
    elif low > LEVEL:
        verdict = "over"
    else:
        verdict = "calibrated"
    return Calibration(
        months=n,
        inside=inside,
        coverage=inside / n,
        coverage_low=float(low),
        coverage_high=float(high),
        brier=brier,
        brier_naive=brier_naive,
        widened_by=factor,
        verdict=verdict,
    )
