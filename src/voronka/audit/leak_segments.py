"""Segment rows of the leaks table: each segment against its peers on its own mix of leads.

For every breakdown (``manager``, ``source`` …) and step, mature deals are counted per segment ×
stratum (:func:`voronka.engine.outcomes.stratified_cohorts`): the quarter the deals reached the
step, and for breakdowns other than ``source`` also the source. The segment's gap to its peers
within strata is tested (Mantel–Haenszel) and shrunk across the breakdown's segments
(:mod:`voronka.audit.stats.adjusted`). The row's ``expected`` is the peers' rate on the segment's
mix, ``conversion`` the shrunk rate ``expected + shrunk gap``. Benjamini–Hochberg runs over every
segment × step tested; a row that is not significant carries no money.

The ``cause``: a segment whose raw gap (against everyone else, no strata) is more than twice its
adjusted gap was mostly given worse leads (``lead_quality``); otherwise the gap remains among
comparable leads (``execution``). Sources are judged by their leads (``lead_quality``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from voronka.audit.censored import StepRates, step_rates
from voronka.audit.common import Segment
from voronka.audit.leak_hints import stage_hint
from voronka.audit.leaks import DRAWS, FDR_LEVEL, Leak
from voronka.audit.maturity import MaturityReport
from voronka.audit.stats import benjamini_hochberg
from voronka.audit.stats.adjusted import StratifiedGap, shrink_gaps, stratified_gap
from voronka.engine import EventLog, step_outcomes, stratified_cohorts
from voronka.funnel import Funnel


def _label(value: object) -> str | None:
    return None if value is None else str(value)


def _strata(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A stratum number per row of ``frame`` (stratified_cohorts rows of the ``column``
    breakdown): rows with the same values of every column but ``column``, the step and the
    counts share one."""
    strata = [c for c in frame.columns
              if c not in (column, "stage_index", "mature", "mature_moved")]
    key = ["|".join(str(v) for v in values)
           for values in zip(*(frame[c] for c in strata), strict=True)]
    codes, _ = pd.factorize(pd.Series(key, dtype=object))
    return np.asarray(codes)


def _gaps(
    frame: pd.DataFrame, column: str, k: int, strata: np.ndarray | None = None
) -> list[tuple[str | None, StratifiedGap]]:
    """Each segment of ``column`` at step ``k`` against its peers within strata (``strata``:
    :func:`_strata` of ``frame``, computed when not given)."""
    if strata is None:
        strata = _strata(frame, column)
    at = (frame["stage_index"] == k).to_numpy()
    if not at.any():
        return []
    rows = frame[at]
    stratum, _ = pd.factorize(strata[at])
    moved = rows["mature_moved"].to_numpy(float)
    mature = rows["mature"].to_numpy(float)
    # Whole-deal counts: these sums are exact in any order.
    total_moved = np.bincount(stratum, weights=moved)[stratum]
    total_mature = np.bincount(stratum, weights=mature)[stratum]
    labels = np.array(["\x00" if v is None else str(v) for v in rows[column]], dtype=object)
    codes, uniques = pd.factorize(labels, sort=True)
    out: list[tuple[str | None, StratifiedGap]] = []
    for i, label in enumerate(uniques):
        if label == "\x00":
            continue
        seg = np.flatnonzero(codes == i)  # the segment's rows, in the frame's order
        x, n = moved[seg], mature[seg]
        gap = stratified_gap(x, n, total_moved[seg] - x, total_mature[seg] - n)
        if gap is not None and gap.n > 0:
            out.append((str(label), gap))
    return out


def _reached(rates: StepRates | None, k: int) -> int:
    return 0 if rates is None else rates.steps[k].n


def strata_columns(log: EventLog, breakdowns: Sequence[str]) -> list[list[str]]:
    """Per breakdown, the columns its mature deals are counted by: itself, and ``source`` as a
    stratum for breakdowns other than ``source`` (when the log has a source column)."""
    present = set(log.segment_columns())
    return [
        [column] if column == "source" or "source" not in present else [column, "source"]
        for column in breakdowns
    ]


def segment_rows(
    log: EventLog,
    funnel: Funnel,
    maturity: MaturityReport,
    breakdowns: Sequence[str],
    lang: str,
) -> list[Leak]:
    """Every segment × step tested, with q-values; money only on the significant rows."""
    rng = np.random.default_rng(1)
    rows: list[Leak] = []
    p_values: list[float] = []
    draws: list[np.ndarray | None] = []
    every = strata_columns(log, breakdowns)
    if breakdowns:  # the breakdowns' step outcomes (read by step_rates below) in one query
        step_outcomes(log, by=breakdowns[0], alongside=breakdowns[1:])
    for column, columns in zip(breakdowns, every, strict=True):
        frame = stratified_cohorts(log, maturity.horizons(), columns, alongside=every)
        rates = step_rates(log, maturity, by=column)
        strata = _strata(frame, column)
        for k, m in enumerate(maturity.stages):
            gaps = _gaps(frame, column, k, strata)
            if len(gaps) < 2:
                continue
            shrunk = shrink_gaps([g.gap for _, g in gaps], [g.se for _, g in gaps])
            stage = funnel.stages[k]
            for i, (label, g) in enumerate(gaps):
                seg_rates = rates.get(label)
                n = _reached(seg_rates, k)
                expected = float(np.clip(g.expected / g.n, 1e-6, 1 - 1e-6))
                conv = float(np.clip(expected + shrunk.gap[i], 0.0, 1.0))
                low = float(np.clip(expected + shrunk.low[i], 0.0, 1.0))
                high = float(np.clip(expected + shrunk.high[i], 0.0, 1.0))
                value = seg_rates.value(k + 1) if seg_rates is not None else None
                cause = "lead_quality"
                if column != "source" and not (g.raw_gap < 0 and g.gap > g.raw_gap / 2):
                    cause = "execution"
                step = seg_rates.steps[k] if seg_rates is not None else None
                rows.append(
                    Leak(
                        stage=m.stage, next_stage=m.next_stage, segment=Segment(column, label),
                        conversion=conv, expected=expected,
                        lost_deals=n * max(0.0, expected - conv), lost_revenue=None,
                        significant=False, n=n,
                        moved=0 if seg_rates is None else _moved(seg_rates, k),
                        conversion_ci=(low, high), shrunk_conversion=conv, shrunk_ci=(low, high),
                        raw_conversion=g.observed / g.n, p_value=g.p_value,
                        key_task=stage.key_task_in(lang), hint=stage_hint(stage),
                        value_per_deal=value, target_source="peers", parent=m.stage,
                        dropped=n * (1 - conv),
                        dropped_revenue=None if value is None else n * (1 - conv) * value,
                        immature_share=(step.immature / step.n) if step and step.n else None,
                        cause=cause, raw_gap=g.raw_gap,
                    )
                )
                p_values.append(g.p_value)
                draws.append(_money_draws(rows[-1], shrunk.gap[i], shrunk.sd[i], seg_rates, k,
                                          rng))
    q = benjamini_hochberg(p_values)
    out = []
    for row, qv, money in zip(rows, q, draws, strict=True):
        significant = bool(qv <= FDR_LEVEL and row.lost_deals > 0)
        value = row.value_per_deal
        # Only a significant row shows its money: the others' draws advanced the generator
        # (the next rows' draws stay the same) but need no quantiles.
        lost, ci = None, None
        if significant and money is not None and value is not None:
            lost, ci = row.lost_deals * value, _interval(money)
        out.append(
            Leak(**{**row.__dict__, "q_value": float(qv), "significant": significant,
                    "lost_revenue": lost, "lost_revenue_ci": ci})
        )
    return out


def _moved(rates: StepRates, k: int) -> int:
    """Deals of the segment that reached k and then k+1 (the won stage too: its own step has no
    entry in ``rates``)."""
    return rates.steps[k].moved


def _money_draws(
    row: Leak, gap: float, sd: float, rates: StepRates | None, k: int, rng: np.random.Generator
) -> np.ndarray | None:
    """Draws of the row's lost revenue (gap ~ Normal(shrunk, posterior sd)); None without a
    value per deal."""
    if row.value_per_deal is None or rates is None:
        return None
    draws: np.ndarray = row.n * np.maximum(0.0, -rng.normal(gap, sd, DRAWS)) * rates.value_draws(
        k + 1, rng, DRAWS
    )
    return draws


def _interval(draws: np.ndarray) -> tuple[float, float]:
    """The 95% interval of ``draws``."""
    low, high = np.quantile(draws, [0.025, 0.975])
    return float(low), float(high)
