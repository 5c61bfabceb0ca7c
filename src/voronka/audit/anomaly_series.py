"""The series the anomaly scan reads, and the funnel-wide conversion series charted with it.

* :func:`conversion_series`: for every step k → k+1, funnel-wide or per segment of a breakdown,
  the deals *settled* for the step per period of entry into stage k and those that moved on
  (weekly, or monthly of whole weeks when a series is thin); see :mod:`voronka.audit.anomalies`.
* :func:`volume_series`: leads per period, funnel-wide or per source, each source with its
  reference (the other sources weighted by steadiness, :mod:`voronka.audit.stats.reference`).
* :func:`build_conversion_series`: the funnel-wide conversion series as the report draws them,
  with Wilson intervals and exact binomial p-chart limits per period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from voronka.audit.common import Segment
from voronka.audit.maturity import MaturityReport, build_maturity
from voronka.audit.stats import dist, wilson_interval
from voronka.audit.stats.reference import reference_counts
from voronka.engine import EventLog, lead_volume, stage_cohorts


@dataclass(frozen=True)
class Series:
    kind: str
    stage: str
    next_stage: str | None
    segment: Segment | None
    period: str
    periods: list[date]
    successes: np.ndarray  # conversion: settled deals that moved on; volume: leads
    trials: np.ndarray  # conversion: settled deals; volume: exposure days
    reference: np.ndarray | None = None  # volume per source: its reference, R_t (stats.reference)


def _groups(frame: pd.DataFrame, by: str | None) -> dict[str | None, pd.DataFrame]:
    """Rows of ``frame`` per segment value (as text; None for blank), or one group for all."""
    if by is None:
        return {None: frame}
    if not len(frame):
        return {}
    labels = frame["segment"].map(_text).fillna("\x00")
    return {
        (None if label == "\x00" else str(label)): rows
        for label, rows in frame.groupby(labels, sort=False)
    }


COUNTS = ["mature", "mature_moved"]


def _month_sums(
    months: list[date], mature: np.ndarray, moved: np.ndarray
) -> tuple[list[date], np.ndarray, np.ndarray]:
    """Weekly counts summed by month (each week in the month of its Monday), oldest first."""
    keys = np.array([m.toordinal() for m in months], dtype=np.int64)
    unique, inverse = np.unique(keys, return_inverse=True)
    firsts = np.unique(inverse, return_index=True)[1]
    trials = np.bincount(inverse, weights=mature, minlength=len(unique)).astype(np.int64)
    successes = np.bincount(inverse, weights=moved, minlength=len(unique)).astype(np.int64)
    return [months[i] for i in firsts], successes, trials


def conversion_series(
    maturity: MaturityReport,
    weekly: pd.DataFrame,
    by: str | None,
    min_per_period: float,
    min_trials: int,
) -> list[Series]:
    """The settled-conversion series of one breakdown (``by``) or funnel-wide (None).

    ``weekly``: the engine's weekly stage cohorts with settled horizons (a ``segment`` column
    when ``by`` is given). Per step, the segments come in the order they first appear in
    ``weekly``; a series thinner than ``min_per_period`` settled deals a week is monthly, made
    of whole weeks (each in the month of its Monday)."""
    weekly = weekly[weekly["mature"] > 0]
    stage = weekly["stage_index"].to_numpy(dtype=np.int64)
    mature = weekly["mature"].to_numpy(dtype=np.int64)
    moved = weekly["mature_moved"].to_numpy(dtype=np.int64)
    dates: list[date] = list(weekly["period"])
    days = np.array([d.toordinal() for d in dates], dtype=np.int64)
    if by is None:
        names: list[str | None] = [None]
        codes = np.zeros(len(dates), dtype=np.int64)
    else:
        index: dict[str | None, int] = {}
        codes = np.array(
            [index.setdefault(_text(v), len(index)) for v in weekly["segment"]], dtype=np.int64
        )
        names = list(index)
    out: list[Series] = []
    for k, step in enumerate(maturity.stages):
        at_stage = np.flatnonzero(stage == k)
        found, first = np.unique(codes[at_stage], return_index=True)
        for code in found[np.argsort(first)]:
            rows = at_stage[codes[at_stage] == code]
            rows = rows[np.argsort(days[rows], kind="stable")]
            total = int(mature[rows].sum())
            if total < min_trials:
                continue
            weeks_spanned = (days[rows[-1]] - days[rows[0]]) / 7 + 1
            periods = [dates[i] for i in rows]
            period, successes, trials = "week", moved[rows], mature[rows]
            if total / weeks_spanned < min_per_period:
                period = "month"
                months = [d.replace(day=1) for d in periods]
                periods, successes, trials = _month_sums(months, trials, successes)
            out.append(
                Series(
                    kind="conversion",
                    stage=step.stage,
                    next_stage=step.next_stage,
                    segment=None if by is None else Segment(by, names[code]),
                    period=period,
                    periods=periods,
                    successes=successes,
                    trials=trials,
                )
            )
    return out


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _references(frame: pd.DataFrame) -> dict[str | None, dict[date, float]]:
    """Each source's reference per period (:func:`~voronka.audit.stats.reference.reference_counts`:
    the other sources' leads, each weighted by its steadiness), blank source included as one."""
    texts = [_text(v) for v in frame["segment"]]
    labels = ["\x00" if v is None else v for v in texts]
    columns = sorted(set(labels))
    periods = sorted(set(frame["period"]))
    col = {c: j for j, c in enumerate(columns)}
    row = {p: i for i, p in enumerate(periods)}
    table = np.zeros((len(periods), len(columns)))
    np.add.at(
        table,
        ([row[p] for p in frame["period"]], [col[c] for c in labels]),
        frame["leads"].to_numpy(dtype=float),
    )
    reference = reference_counts(table)
    return {
        (None if label == "\x00" else str(label)): dict(zip(periods, reference[:, j], strict=True))
        for j, label in enumerate(columns)
    }


def funnel_wide(frame: pd.DataFrame) -> pd.DataFrame:
    """Leads per period summed over the segments of a ``lead_volume`` frame (its grid has every
    period for every segment, the same exposure): equal to ``lead_volume`` without ``by``."""
    out = (
        frame.groupby("period", sort=True)
        .agg(leads=("leads", "sum"), exposure_days=("exposure_days", "first"))
        .reset_index()
    )
    out["leads"] = out["leads"].astype("int64")
    return out[["period", "leads", "exposure_days"]]


def volume_series(
    log: EventLog,
    by: str | None,
    min_per_period: float,
    tables: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    until: datetime | None = None,
) -> list[Series]:
    """Lead-volume series funnel-wide (``by`` None) or per segment of ``by``; ``tables``: the
    weekly and monthly ``lead_volume`` frames when already read, else read to ``until``."""
    first_stage = log.funnel.stage_ids[0] if log.funnel else ""
    if tables is None:
        tables = (lead_volume(log, by=by, period="week", until=until),
                  lead_volume(log, by=by, period="month", until=until))
    weekly, monthly = tables
    monthly_groups = _groups(monthly, by)
    references: dict[str, dict[str | None, dict[date, float]]] = {}  # per period, when needed
    out: list[Series] = []
    for value, rows in _groups(weekly, by).items():
        if by is not None and value is None:
            continue
        per_week = rows["leads"].sum() / max(rows["exposure_days"].sum() / 7, 1e-9)
        period, chosen = "week", rows
        if per_week < min_per_period:
            period, chosen = "month", monthly_groups.get(value, monthly.iloc[:0])
        periods = list(chosen["period"])
        reference = None
        if by is not None:
            if period not in references:
                references[period] = _references(weekly if period == "week" else monthly)
            own = references[period].get(value, {})
            reference = np.array([own.get(p, 0.0) for p in periods], dtype=float)
        out.append(
            Series(
                kind="volume",
                stage=first_stage,
                next_stage=None,
                segment=None if by is None else Segment(by, value),
                period=period,
                periods=periods,
                successes=chosen["leads"].to_numpy(dtype=np.int64),
                trials=chosen["exposure_days"].to_numpy(dtype=float),
                reference=reference,
            )
        )
    return out


ALARM_SIGMAS = 3.0
"""Width of the p-chart's "alarm" limits, in standard deviations (tail 0.135% a side)."""


def p_chart_limits(
    successes: np.ndarray, trials: np.ndarray, *, sigmas: float = ALARM_SIGMAS
) -> tuple[float, np.ndarray, np.ndarray]:
    """Exact binomial p-chart: the centre line and each period's lower and upper limits.

    With the centre ``p̄ = Σx / Σn`` and ``α = Φ(−sigmas)`` (0.00135 for 3σ), the limits of a
    period with ``n`` trials are the binomial quantiles ``F⁻¹(α; n, p̄) / n`` and
    ``F⁻¹(1 − α; n, p̄) / n``: a period's rate falls outside them with probability at most ``α``
    on each side when the process is stable. They widen for small ``n`` instead of using one fixed
    threshold, and, unlike ``p̄ ± 3·sqrt(p̄(1−p̄)/n)``, stay inside [0, 1].

    Reference: SAS/QC ``PCHART`` documentation (exact binomial limits); Spiegelhalter (2005),
    "Funnel plots for comparing institutional performance". Periods with ``n = 0`` get NaN.
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    total = n.sum()
    centre = float(x.sum() / total) if total > 0 else float("nan")
    alpha = float(dist.norm_cdf(-sigmas))
    with np.errstate(divide="ignore", invalid="ignore"):
        low = dist.binom_ppf(alpha, n, centre) / n
        high = dist.binom_ppf(1 - alpha, n, centre) / n
    empty = n <= 0
    return centre, np.where(empty, np.nan, low), np.where(empty, np.nan, high)


@dataclass(frozen=True)
class ConversionSeries:
    """Funnel-wide settled conversion of one step k → k+1, period by period (for a chart).

    The same series the anomaly scan reads (module docstring): deals counted in the period they
    entered ``stage``, only those settled for the step.

    Attributes:
        stage: stage id (k).
        next_stage: the next stage's id (k+1).
        period: ``week`` or ``month``.
        periods: first day of each period (Monday / first of the month), oldest first.
        trials: settled deals that entered ``stage`` in the period.
        successes: of those, deals that reached ``next_stage``.
        rate: ``successes / trials`` per period (a fraction).
        ci_low: lower bound of the Wilson 95% interval of ``rate``.
        ci_high: upper bound of the same.
        centre: the pooled rate of the whole series (the p-chart's centre line).
        limit_low: the period's lower p-chart limit (exact binomial, 3σ; see
            :func:`p_chart_limits`).
        limit_high: the period's upper p-chart limit.
        out_of_limits: whether the period's rate lies outside its limits.
    """

    stage: str
    next_stage: str
    period: str
    periods: tuple[date, ...]
    trials: tuple[int, ...]
    successes: tuple[int, ...]
    rate: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    centre: float
    limit_low: tuple[float, ...]
    limit_high: tuple[float, ...]
    out_of_limits: tuple[bool, ...]


def _conversion_record(s: Series) -> ConversionSeries:
    x, n = s.successes, s.trials
    ci_low, ci_high = wilson_interval(x, n)
    centre, low, high = p_chart_limits(x, n)
    rate = x / n
    return ConversionSeries(
        stage=s.stage,
        next_stage=s.next_stage or "",
        period=s.period,
        periods=tuple(s.periods),
        trials=tuple(int(v) for v in n),
        successes=tuple(int(v) for v in x),
        rate=tuple(float(v) for v in rate),
        ci_low=tuple(float(v) for v in ci_low),
        ci_high=tuple(float(v) for v in ci_high),
        centre=centre,
        limit_low=tuple(float(v) for v in low),
        limit_high=tuple(float(v) for v in high),
        out_of_limits=tuple(
            bool(r < lo or r > hi) for r, lo, hi in zip(rate, low, high, strict=True)
        ),
    )


def build_conversion_series(
    log: EventLog,
    *,
    maturity: MaturityReport | None = None,
    min_per_period: float = 10.0,
    min_trials: int = 40,
) -> tuple[ConversionSeries, ...]:
    """Funnel-wide settled conversion per period for every step of ``log``'s funnel, in funnel
    order: the series :func:`build_anomalies` scans (same cohorts, same week-or-month choice,
    same ``min_trials``; steps with fewer settled deals are left out)."""
    if log.funnel is None:
        raise ValueError("build_conversion_series needs a log with a funnel")
    maturity = maturity or build_maturity(log)
    weekly = stage_cohorts(log, maturity.horizons(settled=True), period="week")
    series = conversion_series(maturity, weekly, None, min_per_period, min_trials)
    return tuple(_conversion_record(s) for s in series if len(s.periods) > 0)
