"""The ``leaks`` section: stages (and segments) that lose deals, ranked by money lost.

Two kinds of leak, in one list sorted most costly first:

* **funnel level** — per step k → k+1: the mature deals that stopped at k (or, with a benchmark,
  the shortfall against it), each worth ``P(won | reached k+1) × average won amount`` (the
  probability as the product of the mature conversions from k+1 on);
  ``significant`` when the mature conversion is below the benchmark beyond chance (one-sided
  exact binomial test, Benjamini–Hochberg across the stages with a benchmark).
* **segment level** — per breakdown column (``source``, ``manager`` …), value and step: the
  segment's conversion, shrunk toward the pooled rate by an empirical-Bayes beta-binomial prior,
  against the rest of the funnel; the shortfall ``(rest − shrunk) × n`` in deals and money;
  ``significant`` under BH FDR 5% across every segment × step tested (one-sided Fisher test).

Every rate is the *mature* conversion (:mod:`voronka.audit.maturity`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from voronka.audit.common import Segment
from voronka.audit.maturity import MaturityReport, build_maturity
from voronka.audit.stats import (
    benjamini_hochberg,
    fit_beta_prior,
    segment_vs_rest_pvalue,
    shrink,
    wilson_interval,
)
from voronka.engine import EventLog, deal_counts, stage_cohorts
from voronka.funnel import Funnel, Stage

FDR_LEVEL = 0.05
"""False discovery rate at which a leak is called significant."""

DEFAULT_BY = ("source", "manager")
"""Breakdowns used when the user names none (those present in the data)."""


@dataclass(frozen=True)
class Leak:
    """A stage (optionally within a segment) that converts worse than it should.

    Attributes:
        stage: stage id.
        next_stage: id of the stage after it.
        segment: None for the funnel as a whole, else the slice.
        conversion: the (mature) conversion observed.
        expected: the conversion expected (benchmark, or the rest of the funnel for a segment).
        lost_deals: deals lost at the stage (or the shortfall against ``expected``).
        lost_revenue: ``lost_deals`` × P(won | reached next stage) × average won amount.
        significant: below ``expected`` beyond chance (FDR-controlled for segments).
        n: mature deals that reached the stage (in the segment): the rate's denominator.
        moved: of those, deals that reached the next stage.
        conversion_ci: Wilson 95% interval of ``conversion``.
        shrunk_conversion: segment leaks: the empirical-Bayes (shrunk) conversion that the
            shortfall is computed from; None for funnel-level leaks.
        shrunk_ci: 95% posterior interval of ``shrunk_conversion``.
        raw_conversion: conversion over every deal that reached the stage, young ones included.
        p_value: one-sided p-value of "converts below ``expected``" (None when not tested).
        q_value: Benjamini–Hochberg adjusted ``p_value``.
        key_task: the stage's key task (funnel file, in the audit's language), when known.
        hint: message key (``leaks.hint.*``) of what to check at such a stage.
        value_per_deal: the money one more deal reaching the next stage is worth.
    """

    stage: str
    next_stage: str
    segment: Segment | None
    conversion: float | None
    expected: float | None
    lost_deals: float
    lost_revenue: float | None
    significant: bool
    n: int = 0
    moved: int = 0
    conversion_ci: tuple[float, float] | None = None
    shrunk_conversion: float | None = None
    shrunk_ci: tuple[float, float] | None = None
    raw_conversion: float | None = None
    p_value: float | None = None
    q_value: float | None = None
    key_task: str | None = None
    hint: str | None = None
    value_per_deal: float | None = None


# Keywords (in stage id, names and key task; lower case, ru stems and en words) → hint key.
# Order matters: the first rule that matches wins ("meeting held" is about what follows it).
_HINT_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("after_meeting", ("meeting_held", "held", "состоял", "проведен", "проведён")),
    ("meeting", ("meeting", "встреч", "demo", "демо", "presentation", "презентац")),
    ("proposal", ("proposal", "offer", "quote", "предложен", "кп", "design", "макет", "проект")),
    ("payment", ("invoice", "contract", "payment", "prepay", "счет", "счёт", "договор", "оплат")),
    ("fulfilment", ("production", "deliver", "work", "производ", "реализ", "отгруз", "работ")),
    (
        "calls",
        (
            "new",
            "request",
            "lead",
            "qualif",
            "contact",
            "call",
            "нов",
            "заявк",
            "лид",
            "квалиф",
            "звон",
            "контакт",
        ),
    ),
)


_REFERENCE_HINTS = {
    "new_request": "calls",
    "qualified": "calls",
    "meeting_scheduled": "meeting",
    "meeting_held": "after_meeting",
    "sent_to_work": "proposal",
    "design_approved": "payment",
    "invoice_sent": "payment",
    "prepayment_received": "fulfilment",
    "in_production": "fulfilment",
    "delivered": "payment",
}
"""Hints for the stages of the method's reference funnel, by stage id (from their key tasks)."""


def stage_hint(stage: Stage) -> str:
    """The message key of what to check when ``stage`` converts badly (``leaks.hint.<kind>``).

    The reference funnel's stages have fixed hints; other stages are judged by keywords in
    their id and names first, then their aliases and key task: a calling stage points at call recordings
    and the script, a meeting stage at no-shows and reminders, a proposal stage at the proposal.
    """
    if stage.id in _REFERENCE_HINTS:
        return f"leaks.hint.{_REFERENCE_HINTS[stage.id]}"
    text = " ".join(
        [
            stage.id,
            stage.name,
            *stage.aliases,
            *stage.names.values(),
            stage.key_task or "",
            *stage.key_tasks.values(),
        ]
    ).lower()
    head = " ".join([stage.id, stage.name, *stage.names.values()]).lower()
    for kind, words in _HINT_RULES:
        if any(w in head for w in words):
            return f"leaks.hint.{kind}"
    for kind, words in _HINT_RULES:
        if any(w in text for w in words):
            return f"leaks.hint.{kind}"
    return "leaks.hint.generic"


def _stage_values(log: EventLog, funnel: Funnel, maturity: MaturityReport) -> list[float | None]:
    """Money per deal reaching each stage of the line: P(won | reached it) × mean won amount.

    P(won | reached stage j) is the product of the mature conversions from j to the won stage
    (the raw conversion where a step has no mature deal), so open deals neither count as won nor
    as lost. The mean won amount is over won deals with an amount.
    """
    counts = deal_counts(log)
    won_rows = counts[counts["outcome"] == "won"]
    amount_n = int(won_rows["amount_n"].sum())
    if not amount_n:
        return [None] * (funnel.won_index + 1)
    mean_amount = float(won_rows["amount_sum"].sum() / amount_n)
    values: list[float | None] = [mean_amount]
    p_won: float | None = 1.0
    for step in reversed(maturity.stages):
        rate = step.conversion if step.conversion is not None else step.raw_conversion
        p_won = None if p_won is None or rate is None else p_won * rate
        values.append(None if p_won is None else p_won * mean_amount)
    return values[::-1]


def _ci(x: int, n: int) -> tuple[float, float] | None:
    return wilson_interval(x, n) if n > 0 else None


def _funnel_leaks(
    funnel: Funnel,
    maturity: MaturityReport,
    values: list[float | None],
    lang: str,
) -> list[Leak]:
    leaks: list[Leak] = []
    p_values: list[float] = []
    for k, m in enumerate(maturity.stages):
        stage = funnel.stages[k]
        expected = stage.benchmark
        n, moved = m.mature, m.mature_moved
        p = float("nan")
        if expected is None:
            lost = float(n - moved)
        else:
            lost = max(0.0, expected * n - moved)
            if n > 0:
                p = float(stats.binom.cdf(moved, n, expected))
        p_values.append(p)
        value = values[k + 1]
        leaks.append(
            Leak(
                stage=m.stage,
                next_stage=m.next_stage,
                segment=None,
                conversion=m.conversion,
                expected=expected,
                lost_deals=lost,
                lost_revenue=None if value is None else lost * value,
                significant=False,
                n=n,
                moved=moved,
                conversion_ci=_ci(moved, n),
                raw_conversion=m.raw_conversion,
                key_task=stage.key_task_in(lang),
                hint=stage_hint(stage),
                value_per_deal=value,
            )
        )
    q = benjamini_hochberg(p_values)
    out = []
    for leak, p, qv in zip(leaks, p_values, q, strict=True):
        tested = bool(np.isfinite(p))
        out.append(
            replace(
                leak,
                p_value=float(p) if tested else None,
                q_value=float(qv) if tested else None,
                significant=tested
                and qv <= FDR_LEVEL
                and leak.conversion is not None
                and leak.expected is not None
                and leak.conversion < leak.expected,
            )
        )
    return out


def _segment_candidates(
    log: EventLog,
    funnel: Funnel,
    maturity: MaturityReport,
    by: str,
    values: list[float | None],
    lang: str,
) -> tuple[list[Leak], list[float]]:
    """Every segment × step of one breakdown with its one-sided p-value (before BH)."""
    frame = stage_cohorts(log, maturity.horizons(), by=by)
    leaks: list[Leak] = []
    p_values: list[float] = []
    for k, m in enumerate(maturity.stages):
        rows = frame[frame["stage_index"] == k]
        rows = rows[rows["mature"] > 0]
        if len(rows) < 2:
            continue
        x = rows["mature_moved"].to_numpy(dtype=float)
        n = rows["mature"].to_numpy(dtype=float)
        total_x, total_n = x.sum(), n.sum()
        rest_x, rest_n = total_x - x, total_n - n
        named = np.array([s is not None for s in rows["segment"]])
        prior = fit_beta_prior(x[named], n[named]) if named.any() else fit_beta_prior(x, n)
        shrunk = shrink(x, n, prior)
        p = segment_vs_rest_pvalue(x, n, rest_x, rest_n, alternative="less")
        stage = funnel.stages[k]
        value = values[k + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = np.where(rest_n > 0, rest_x / rest_n, np.nan)
        for i, segment in enumerate(rows["segment"]):
            if not np.isfinite(p[i]):
                continue
            shortfall = max(0.0, float((expected[i] - shrunk.rate[i]) * n[i]))
            leaks.append(
                Leak(
                    stage=m.stage,
                    next_stage=m.next_stage,
                    segment=Segment(by=by, value=None if segment is None else str(segment)),
                    conversion=float(x[i] / n[i]),
                    expected=float(expected[i]),
                    lost_deals=shortfall,
                    lost_revenue=None if value is None else shortfall * value,
                    significant=False,
                    n=int(n[i]),
                    moved=int(x[i]),
                    conversion_ci=_ci(int(x[i]), int(n[i])),
                    shrunk_conversion=float(shrunk.rate[i]),
                    shrunk_ci=(float(shrunk.low[i]), float(shrunk.high[i])),
                    p_value=float(p[i]),
                    key_task=stage.key_task_in(lang),
                    hint=stage_hint(stage),
                    value_per_deal=value,
                )
            )
            p_values.append(float(p[i]))
    return leaks, p_values


def _cost(leak: Leak) -> tuple[float, float]:
    money = leak.lost_revenue if leak.lost_revenue is not None else -1.0
    return (-money, -leak.lost_deals)


def default_breakdowns(log: EventLog) -> tuple[str, ...]:
    """``source`` and ``manager``, those of them the log has as segment columns."""
    present = set(log.segment_columns())
    return tuple(c for c in DEFAULT_BY if c in present)


def build_leaks(
    log: EventLog,
    *,
    by: Sequence[str] | None = None,
    maturity: MaturityReport | None = None,
    lang: str | None = None,
) -> tuple[Leak, ...]:
    """The leaks section of ``log`` (a log with its funnel): funnel-level and segment leaks.

    ``by``: breakdown columns (None: :func:`default_breakdowns`). ``maturity``: a precomputed
    :func:`~voronka.audit.maturity.build_maturity` (computed when None). ``lang`` picks the key
    task's language (default: the funnel's). Segment steps where the segment's shrunk conversion
    is not below the rest are tested (they count in the FDR) but not listed.
    """
    funnel = log.funnel
    if funnel is None:
        raise ValueError("build_leaks needs a log with a funnel")
    lang = lang or funnel.language
    maturity = maturity or build_maturity(log)
    values = _stage_values(log, funnel, maturity)
    leaks = _funnel_leaks(funnel, maturity, values, lang)
    breakdowns = default_breakdowns(log) if by is None else tuple(by)
    segment_leaks: list[Leak] = []
    p_values: list[float] = []
    for column in breakdowns:
        found, ps = _segment_candidates(log, funnel, maturity, column, values, lang)
        segment_leaks.extend(found)
        p_values.extend(ps)
    q = benjamini_hochberg(p_values)
    for leak, qv in zip(segment_leaks, q, strict=True):
        below = (
            leak.shrunk_conversion is not None
            and leak.expected is not None
            and leak.shrunk_conversion < leak.expected
        )
        if not below and not qv <= FDR_LEVEL:
            continue
        leaks.append(replace(leak, q_value=float(qv), significant=bool(qv <= FDR_LEVEL)))
    return tuple(sorted(leaks, key=_cost))
