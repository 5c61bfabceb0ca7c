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

The funnel-wide conversion series themselves are returned too
(:func:`voronka.audit.anomaly_series.build_conversion_series`, one :class:`ConversionSeries` per step, with Wilson intervals and p-chart limits per period), so
that a report can draw conversion over time with the shifts marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

import numpy as np

from voronka.audit.anomaly_series import (
    COUNTS,
    ConversionSeries,
    Series,
    build_conversion_series,
    conversion_series,
    funnel_wide,
    p_chart_limits,
    volume_series,
)
from voronka.audit.censored import step_rates
from voronka.audit.common import Segment
from voronka.audit.leaks import FDR_LEVEL, default_breakdowns
from voronka.audit.maturity import MaturityReport, build_maturity
from voronka.audit.stats import benjamini_hochberg
from voronka.audit.stats.glm_batch import ScanInput, model_scans
from voronka.audit.stats.glm_scan import ModelScan
from voronka.engine import EventLog, lead_volume, stage_cohorts

__all__ = [
    "Anomaly",
    "ConversionSeries",
    "build_anomalies",
    "build_conversion_series",
    "p_chart_limits",
]

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


def _big_enough(s: Series, scan: ModelScan) -> bool:
    before, after = scan.before, scan.after
    if s.kind == "volume":
        return before > 0 and abs(after / before - 1) >= MIN_VOLUME_RELATIVE
    return abs(after - before) >= MIN_CONVERSION_POINTS and (
        before <= 0 or abs(after / before - 1) >= MIN_RELATIVE
    )


def _share_as_volume(scan: ModelScan, s: Series) -> ModelScan:
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
    level_after = float(
        np.nansum((s.reference * fitted_odds)[after]) / max(float(exposure[after].sum()), 1e-9)
    )
    return replace(
        scan,
        before=level_after / scan.ratio,
        after=level_after,
        expected=null_odds * per_day,
        fitted=fitted_odds * per_day,
    )


def _family_q_values(found: list[tuple[Series, ModelScan]]) -> list[float]:
    """Benjamini–Hochberg q-values within each family of series: conversion, lead volume.

    The two answer different questions (did a step's conversion change? did a source's leads?)
    and a run scans a hundred conversion series for a handful of volume ones: one correction
    across both would hold a source's volume to the conversions' threshold (Efron 2008,
    "Simultaneous inference: when should hypothesis testing problems be combined?")."""
    q = [float("nan")] * len(found)
    for kind in ("conversion", "volume"):
        members = [i for i, (s, _) in enumerate(found) if s.kind == kind]
        for i, value in zip(
            members, benjamini_hochberg([found[i][1].p_value for i in members]), strict=True
        ):
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
    leads_until: datetime | None = None,
) -> tuple[Anomaly, ...]:
    """The anomalies section of ``log``: significant shifts in conversion and lead volume.

    ``by``: breakdown columns (None: :func:`~voronka.audit.leaks.default_breakdowns`); volume
    series are scanned funnel-wide and per ``source`` when the log has one. ``simulations``
    draws per series for the scan's p-value (seeded from ``seed``). A conversion series needs
    ``min_trials`` settled deals in all; a series averaging fewer than ``min_per_period`` deals (or
    leads) a week is scanned by month. ``leads_until``: when new deals stopped reaching the data
    (:func:`voronka.audit.lead_gap.lead_stop`); the lead volumes end there. Sorted by money
    moved, then by q-value.
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
        overall = first.groupby(["period", "stage_index"], sort=True)[COUNTS].sum().reset_index()
    else:
        overall = stage_cohorts(log, horizons, period="week")
    series = conversion_series(maturity, overall, None, min_per_period, min_trials)
    for column in breakdowns:
        # Segments need more deals: a thin series has no power and only adds to the FDR's count.
        series.extend(
            conversion_series(
                maturity, weekly[column], column, min_per_period, SEGMENT_MIN_FACTOR * min_trials
            )
        )
    if "source" in log.segment_columns():
        # One engine query per period: the funnel-wide series is the sum over the sources.
        by_source = (
            lead_volume(log, by="source", period="week", until=leads_until),
            lead_volume(log, by="source", period="month", until=leads_until),
        )
        overall_volume = (funnel_wide(by_source[0]), funnel_wide(by_source[1]))
        series.extend(volume_series(log, None, min_per_period, overall_volume))
        series.extend(volume_series(log, "source", min_per_period, by_source))
    else:
        series.extend(volume_series(log, None, min_per_period, until=leads_until))
    # A source's leads are scanned against its reference (the other sources' leads): growth and
    # season are common and cancel; binomial given the period's leads and reference.
    scans = model_scans(
        [
            ScanInput(
                s.successes,
                s.trials if s.reference is None else s.successes + s.reference,
                s.periods,
                s.kind if s.reference is None else "share",
                seed + i,
            )
            for i, s in enumerate(series)
        ],
        simulations=simulations,
        # Only q ≤ FDR_LEVEL is reported, and q ≥ p: a series sure to be above stops drawing.
        stop_above=FDR_LEVEL,
    )
    found = [(s, scan) for s, scan in zip(series, scans, strict=True) if scan is not None]
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
        n_before = (
            s.successes[: scan.index].sum() if s.kind == "volume" else s.trials[: scan.index].sum()
        )
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
