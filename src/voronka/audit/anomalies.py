"""The ``anomalies`` section: lasting shifts, up or down, in a stage's conversion or a source's volume.

Series scanned (docs/methods.md):

* **conversion** — for every step k → k+1, funnel-wide and per segment of every breakdown: per
  period of entry into stage k, the deals *settled* for the step (that reached k longer ago than
  the p99 time to reach k+1) and those of them that reached k+1: a final rate, comparable across
  periods. Weekly, or monthly (whole weeks, by the month of their Monday) when the series
  averages fewer than ``min_per_period`` settled deals a week.
* **volume** — leads created per period, funnel-wide and per source, with the partial first and
  last periods weighted by their length.

Each series gets one scan for a lasting shift on what a null model with trend, yearly season (13+
months) and overdispersion does not explain (:func:`voronka.audit.stats.glm_scan.model_scan`);
Benjamini–Hochberg controls the false discovery rate across every series scanned. Only
significant shifts at least :data:`MIN_CONVERSION_POINTS` points and :data:`MIN_RELATIVE` of the
level (conversion) or :data:`MIN_VOLUME_RELATIVE` (volume) are reported, each with the money it
moved and its series for a chart.

The funnel-wide conversion series themselves are returned too (:func:`build_conversion_series`,
one :class:`ConversionSeries` per step, with Wilson intervals and p-chart limits per period), so
that a report can draw conversion over time with the shifts marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd

from voronka.audit.censored import step_rates
from voronka.audit.common import Segment
from voronka.audit.leaks import FDR_LEVEL, default_breakdowns
from voronka.audit.maturity import MaturityReport, build_maturity
from voronka.audit.stats import benjamini_hochberg, dist, wilson_interval
from voronka.audit.stats.glm_scan import ModelScan, model_scan
from voronka.audit.stats.reference import reference_counts
from voronka.engine import EventLog, lead_volume, stage_cohorts

DAYS_PER_PERIOD = {"week": 7.0, "month": 365.25 / 12}
"""Days in a period, to express volumes per week or per month."""

SEGMENT_MIN_FACTOR = 3
"""A segment's conversion series needs this many times ``min_trials`` settled deals."""

MIN_CONVERSION_POINTS = 0.02
"""Smallest conversion shift reported, in absolute terms (2 points)."""

MIN_RELATIVE = 0.10
"""Smallest conversion shift reported, relative to the expected level (10%)."""

MIN_VOLUME_RELATIVE = 0.15
"""Smallest lead-volume shift reported, relative to the expected level (15%)."""


@dataclass(frozen=True)
class Anomaly:
    """A detected shift in level.

    Attributes:
        stage: stage id (for a volume shift: the first stage).
        next_stage: the stage the conversion leads to (None for a volume shift).
        segment: None funnel-wide, else the slice.
        direction: ``up`` or ``down``.
        since: first period of the new level.
        before: level before the shift.
        after: level after the shift.
        q_value: Benjamini–Hochberg adjusted p-value across all series scanned.
        significant: ``q_value`` below the FDR level (5%).
        kind: ``conversion`` (levels are fractions) or ``volume`` (leads per ``period``).
        period: ``week`` or ``month``: the series' period.
        p_value: the scan's p-value before the FDR adjustment.
        n_before: settled deals (conversion) or leads (volume) before ``since``.
        n_after: the same from ``since`` on.
        money: revenue the shift moved so far: the change in deals (conversion: × deals after;
            volume: × leads after) × the value of a deal at the next stage (of a lead).
        periods: the series' periods (for the anomaly's chart).
        observed: the observed level per period (rate, or leads per ``period``).
        expected: the null model's level per period (trend and season, no shift).
        dispersion: the overdispersion ``φ_τ`` of the model with the step (at ``since``).
        seasonal: whether the null model had a yearly season.
    """

    stage: str
    next_stage: str | None
    segment: Segment | None
    direction: str
    since: date
    before: float
    after: float
    q_value: float
    significant: bool
    kind: str = "conversion"
    period: str = "week"
    p_value: float | None = None
    n_before: int = 0
    n_after: int = 0
    money: float | None = None
    periods: tuple[date, ...] = ()
    observed: tuple[float | None, ...] = ()
    expected: tuple[float | None, ...] = ()
    dispersion: float | None = None
    seasonal: bool = False


@dataclass(frozen=True)
class _Series:
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


_COUNTS = ["mature", "mature_moved"]


def _monthly(weekly: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Monthly cohorts made of whole weeks: each week counts in the month of its Monday."""
    months = weekly.assign(period=[d.replace(day=1) for d in weekly["period"]])
    return (
        months.groupby([*keys, "stage_index", "period"], dropna=False, sort=True)[_COUNTS]
        .sum()
        .reset_index()
    )


def _conversion_series(
    maturity: MaturityReport,
    weekly: pd.DataFrame,
    by: str | None,
    min_per_period: float,
    min_trials: int,
) -> list[_Series]:
    """The settled-conversion series of one breakdown (``by``) or funnel-wide (None).

    ``weekly``: the engine's weekly stage cohorts with settled horizons (a ``segment`` column
    when ``by`` is given)."""
    keys = ["segment"] if by is not None else []
    weekly = weekly[weekly["mature"] > 0]
    if keys:
        weekly = weekly.assign(segment=weekly["segment"].map(_text))
    monthly = _monthly(weekly, keys)
    out: list[_Series] = []
    for k, step in enumerate(maturity.stages):
        wk = weekly[weekly["stage_index"] == k]
        mo = monthly[monthly["stage_index"] == k]
        monthly_groups = _groups(mo, by)
        for value, rows in _groups(wk, by).items():
            if rows["mature"].sum() < min_trials:
                continue
            weeks_spanned = (rows["period"].max() - rows["period"].min()).days / 7 + 1
            period, chosen = "week", rows
            if rows["mature"].sum() / weeks_spanned < min_per_period:
                period, chosen = "month", monthly_groups.get(value, mo.iloc[:0])
            chosen = chosen.sort_values("period")
            out.append(
                _Series(
                    kind="conversion",
                    stage=step.stage,
                    next_stage=step.next_stage,
                    segment=None if by is None else Segment(by, value),
                    period=period,
                    periods=list(chosen["period"]),
                    successes=chosen["mature_moved"].to_numpy(dtype=np.int64),
                    trials=chosen["mature"].to_numpy(dtype=np.int64),
                )
            )
    return out


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _references(frame: pd.DataFrame) -> dict[str | None, pd.Series]:
    """Each source's reference per period (:func:`~voronka.audit.stats.reference.reference_counts`:
    the other sources' leads, each weighted by its steadiness), blank source included as one."""
    labels = frame["segment"].map(_text).fillna("\x00")
    table = frame.assign(segment=labels).pivot_table(
        index="period", columns="segment", values="leads", aggfunc="sum", fill_value=0
    )
    reference = reference_counts(table.to_numpy(dtype=float))
    return {
        (None if label == "\x00" else str(label)): pd.Series(reference[:, j], index=table.index)
        for j, label in enumerate(table.columns)
    }


def _funnel_wide(frame: pd.DataFrame) -> pd.DataFrame:
    """Leads per period summed over the segments of a ``lead_volume`` frame (its grid has every
    period for every segment, the same exposure): equal to ``lead_volume`` without ``by``."""
    out = frame.groupby("period", sort=True).agg(
        leads=("leads", "sum"), exposure_days=("exposure_days", "first")
    ).reset_index()
    out["leads"] = out["leads"].astype("int64")
    return out[["period", "leads", "exposure_days"]]


def _volume_series(
    log: EventLog, by: str | None, min_per_period: float,
    tables: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> list[_Series]:
    """Lead-volume series funnel-wide (``by`` None) or per segment of ``by``; ``tables``: the
    weekly and monthly ``lead_volume`` frames when already read."""
    first_stage = log.funnel.stage_ids[0] if log.funnel else ""
    if tables is None:
        tables = (lead_volume(log, by=by, period="week"), lead_volume(log, by=by, period="month"))
    weekly, monthly = tables
    monthly_groups = _groups(monthly, by)
    references = {}
    if by is not None:
        references = {"week": _references(weekly), "month": _references(monthly)}
    out: list[_Series] = []
    for value, rows in _groups(weekly, by).items():
        if by is not None and value is None:
            continue
        per_week = rows["leads"].sum() / max(rows["exposure_days"].sum() / 7, 1e-9)
        period, chosen = "week", rows
        if per_week < min_per_period:
            period, chosen = "month", monthly_groups.get(value, monthly.iloc[:0])
        out.append(
            _Series(
                kind="volume",
                stage=first_stage,
                next_stage=None,
                segment=None if by is None else Segment(by, value),
                period=period,
                periods=list(chosen["period"]),
                successes=chosen["leads"].to_numpy(dtype=np.int64),
                trials=chosen["exposure_days"].to_numpy(dtype=float),
                reference=None
                if by is None
                else references[period][value].reindex(list(chosen["period"])).fillna(0).to_numpy(float),
            )
        )
    return out


def _big_enough(s: _Series, scan: ModelScan) -> bool:
    before, after = scan.before, scan.after
    if s.kind == "volume":
        return before > 0 and abs(after / before - 1) >= MIN_VOLUME_RELATIVE
    return abs(after - before) >= MIN_CONVERSION_POINTS and (
        before <= 0 or abs(after / before - 1) >= MIN_RELATIVE
    )


def _share_as_volume(scan: ModelScan, s: _Series) -> ModelScan:
    """A source's scan (the odds of its leads against its reference, ``R_t``) in leads per day:
    the source's expected leads are ``R_t`` × the odds, with the step (``after``) and without it
    (``before`` = ``after`` / the fitted odds ratio; ``expected``: the null model's odds)."""
    assert s.reference is not None
    after = slice(scan.index, None)
    exposure = s.trials
    with np.errstate(divide="ignore", invalid="ignore"):
        fitted_odds = scan.fitted / (1.0 - scan.fitted)
        null_odds = scan.expected / (1.0 - scan.expected)
        per_day = np.where(exposure > 0, s.reference / exposure, np.nan)
    level_after = float(np.nansum((s.reference * fitted_odds)[after]) / max(float(exposure[after].sum()), 1e-9))
    return replace(
        scan,
        before=level_after / scan.ratio,
        after=level_after,
        expected=null_odds * per_day,
        fitted=fitted_odds * per_day,
    )


def _family_q_values(found: list[tuple[_Series, ModelScan]]) -> list[float]:
    """Benjamini–Hochberg q-values within each family of series: conversion, lead volume.

    The two answer different questions (did a step's conversion change? did a source's leads?)
    and a run scans a hundred conversion series for a handful of volume ones: one correction
    across both would hold a source's volume to the conversions' threshold (Efron 2008,
    "Simultaneous inference: when should hypothesis testing problems be combined?")."""
    q = [float("nan")] * len(found)
    for kind in ("conversion", "volume"):
        members = [i for i, (s, _) in enumerate(found) if s.kind == kind]
        for i, value in zip(members, benjamini_hochberg([found[i][1].p_value for i in members]),
                            strict=True):
            q[i] = float(value)
    return q


def _optional_levels(values: np.ndarray, scale: float) -> tuple[float | None, ...]:
    return tuple(None if not np.isfinite(v) else float(v * scale) for v in values)


def build_anomalies(
    log: EventLog,
    *,
    by: Sequence[str] | None = None,
    maturity: MaturityReport | None = None,
    simulations: int = 999,
    seed: int = 0,
    min_per_period: float = 10.0,
    min_trials: int = 40,
) -> tuple[Anomaly, ...]:
    """The anomalies section of ``log``: significant shifts in conversion and lead volume.

    ``by``: breakdown columns (None: :func:`~voronka.audit.leaks.default_breakdowns`); volume
    series are scanned funnel-wide and per ``source`` when the log has one. ``simulations``
    draws per series for the scan's p-value (seeded from ``seed``). A conversion series needs
    ``min_trials`` settled deals in all; a series averaging fewer than ``min_per_period`` deals (or
    leads) a week is scanned by month. Sorted by money moved, then by q-value.
    """
    if log.funnel is None:
        raise ValueError("build_anomalies needs a log with a funnel")
    maturity = maturity or build_maturity(log)
    rates = step_rates(log, maturity)[None]
    breakdowns = default_breakdowns(log) if by is None else tuple(by)
    horizons = maturity.horizons(settled=True)
    weekly = {c: stage_cohorts(log, horizons, by=c, period="week") for c in breakdowns}
    if breakdowns:
        # Funnel-wide = the sum over the segments of any breakdown (blank segment included).
        first = weekly[breakdowns[0]]
        overall = first.groupby(["period", "stage_index"], sort=True)[_COUNTS].sum().reset_index()
    else:
        overall = stage_cohorts(log, horizons, period="week")
    series = _conversion_series(maturity, overall, None, min_per_period, min_trials)
    for column in breakdowns:
        # Segments need more deals: a thin series has no power and only adds to the FDR's count.
        series.extend(
            _conversion_series(
                maturity, weekly[column], column, min_per_period, SEGMENT_MIN_FACTOR * min_trials
            )
        )
    if "source" in log.segment_columns():
        # One engine query per period: the funnel-wide series is the sum over the sources.
        by_source = (lead_volume(log, by="source", period="week"),
                     lead_volume(log, by="source", period="month"))
        funnel_wide = (_funnel_wide(by_source[0]), _funnel_wide(by_source[1]))
        series.extend(_volume_series(log, None, min_per_period, funnel_wide))
        series.extend(_volume_series(log, "source", min_per_period, by_source))
    else:
        series.extend(_volume_series(log, None, min_per_period))
    found: list[tuple[_Series, ModelScan]] = []
    for i, s in enumerate(series):
        # A source's leads are scanned against its reference (the other sources' leads): growth
        # and season are common and cancel; binomial given the period's leads and reference.
        share = s.reference is not None
        trials = s.successes + s.reference if s.reference is not None else s.trials
        scan = model_scan(s.successes, trials, s.periods,
                          kind="share" if share else s.kind, simulations=simulations, seed=seed + i)
        if scan is not None:
            found.append((s, scan))
    q_values = _family_q_values(found)
    stage_index = {st.stage: k for k, st in enumerate(maturity.stages)}
    out: list[Anomaly] = []
    for (s, scan), q in zip(found, q_values, strict=True):
        if s.reference is not None:
            scan = _share_as_volume(scan, s)
        if not q <= FDR_LEVEL or not _big_enough(s, scan):
            continue
        scale = DAYS_PER_PERIOD[s.period] if s.kind == "volume" else 1.0
        after = slice(scan.index, None)
        n_before = s.successes[: scan.index].sum() if s.kind == "volume" else s.trials[: scan.index].sum()
        n_after = s.successes[after].sum() if s.kind == "volume" else s.trials[after].sum()
        exposure_after = float(np.sum(s.trials[after]))
        # A lead is worth P(won | lead) × amount; a deal moving on, the value at the next stage.
        value = rates.value(0 if s.kind == "volume" else stage_index[s.stage] + 1)
        money = None if value is None else (scan.after - scan.before) * exposure_after * value
        with np.errstate(divide="ignore", invalid="ignore"):
            observed = np.where(s.trials > 0, s.successes / s.trials, np.nan)
        out.append(
            Anomaly(
                stage=s.stage,
                next_stage=s.next_stage,
                segment=s.segment,
                direction="up" if scan.after > scan.before else "down",
                since=s.periods[scan.index],
                before=scan.before * scale,
                after=scan.after * scale,
                q_value=float(q),
                significant=True,
                kind=s.kind,
                period=s.period,
                p_value=scan.p_value,
                n_before=int(n_before),
                n_after=int(n_after),
                money=money,
                periods=tuple(s.periods),
                observed=_optional_levels(observed, scale),
                expected=_optional_levels(scan.expected, scale),
                dispersion=scan.dispersion,
                seasonal=scan.seasonal,
            )
        )
    return tuple(sorted(out, key=lambda a: (-abs(a.money or 0.0), a.q_value)))


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


def _conversion_record(s: _Series) -> ConversionSeries:
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
    series = _conversion_series(maturity, weekly, None, min_per_period, min_trials)
    return tuple(_conversion_record(s) for s in series if len(s.periods) > 0)
