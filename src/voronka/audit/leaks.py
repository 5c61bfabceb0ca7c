"""The ``leaks`` section: one price for a leak, used by the table, the headline and every format.

For every step k → k+1 (docs/methods.md, "Leaks"):

* ``conversion`` — the censoring-aware conversion (:mod:`voronka.audit.censored`; the shrunk,
  adjusted one for a segment row); ``raw_conversion`` the naive moved / reached;
* ``expected`` — an attainable, stated target (``target_source``): the funnel file's
  ``benchmark``; else ``history``, the best rolling quarter of mature monthly cohorts, shrunk by a
  beta-binomial prior fitted to the months (``peers`` for a segment: its peers' rates on its own mix);
* ``lost_deals = n × max(0, expected − conversion)`` with ``n`` the deals that reached k;
* ``lost_revenue = lost_deals × value_per_deal``, the value of one more deal reaching k+1 on the
  same population, and ``lost_revenue_ci`` from the uncertainty of all three;
* ``dropped = n × (1 − conversion)`` deals that drop out at the step (the method's own view), with
  ``dropped_revenue`` at stake — shown beside the price, never mixed into it.

Stage rows come significant first, then most costly first (then by revenue dropped), so the
first row is the biggest leak the report's headline names; each is followed by its
segment rows (``parent`` = the stage id), which are slices of it and never added to it. Segment
rows are listed only when significant (:mod:`voronka.audit.leak_segments`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from voronka.audit.censored import StepRates, conversion_draws, step_rates
from voronka.audit.common import Segment
from voronka.audit.leak_hints import stage_hint
from voronka.audit.maturity import MaturityReport, build_maturity
from voronka.audit.stats import benjamini_hochberg, dist, fit_beta_prior
from voronka.engine import EventLog, stratified_cohorts
from voronka.funnel import Funnel

__all__ = ["DEFAULT_BY", "FDR_LEVEL", "Leak", "build_leaks", "default_breakdowns", "stage_hint"]

FDR_LEVEL = 0.05
"""False discovery rate at which a leak is called significant."""

DEFAULT_BY = ("source", "manager")
"""Breakdowns used when the user names none (those present in the data)."""

WINDOW_MONTHS = 3
"""Months in a rolling window of the ``history`` target."""

MIN_WINDOW_DEALS = 30
"""Mature deals a window needs to count for the ``history`` target."""

DRAWS = 2000
"""Posterior draws behind ``lost_revenue_ci``."""


@dataclass(frozen=True)
class Leak:
    """A step (optionally within a segment) priced against an attainable target.

    Attributes:
        stage: stage id (k).
        next_stage: id of the stage after it (k+1).
        segment: None for the stage row, else the slice.
        conversion: the estimate priced: censoring-aware (stage), shrunk and adjusted (segment).
        expected: the target rate, strictly between 0 and 1.
        lost_deals: ``n × max(0, expected − conversion)``.
        lost_revenue: ``lost_deals × value_per_deal`` (None without amounts, and for a segment
            row that is not significant).
        significant: below ``expected`` beyond chance (Benjamini–Hochberg, 5%).
        n: deals that reached the stage (in the segment).
        moved: of those, deals that reached the next stage so far.
        conversion_ci: 95% interval of ``conversion``.
        shrunk_conversion: segment rows: the shrunk conversion (= ``conversion``).
        shrunk_ci: segment rows: its 95% posterior interval.
        raw_conversion: ``moved / n``: young open deals counted as not converted.
        p_value: one-sided p-value of "converts below ``expected``".
        q_value: Benjamini–Hochberg adjusted ``p_value``.
        key_task: the stage's key task, when known.
        hint: message key (``leaks.hint.*``) of what to check at such a stage.
        value_per_deal: what one more deal reaching the next stage is worth on this population.
        target_source: ``benchmark``, ``history`` or ``peers``.
        lost_revenue_ci: 95% interval of ``lost_revenue``.
        parent: segment rows: the stage id of their stage row (None for a stage row).
        dropped: ``n × (1 − conversion)``: deals that drop out at the step.
        dropped_revenue: ``dropped × value_per_deal``: the revenue at stake in them.
        immature_share: share of ``n`` still open and younger than the settled horizon.
        cause: segment rows: ``lead_quality`` (the gap is mostly the mix of leads it was given)
            or ``execution`` (it remains among comparable leads).
        raw_gap: segment rows: its raw rate minus everyone else's, before adjustment.
        capped: segment rows: the significant rows of its breakdown together priced more than
            their stage row, so their price was scaled down to the stage's (``expected`` lowered
            toward ``conversion`` by the same factor; ``peers_expected`` keeps the peers' rate).
        peers_expected: segment rows: the peers' rate on the segment's mix (= ``expected``
            unless ``capped``).
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
    target_source: str | None = None
    lost_revenue_ci: tuple[float, float] | None = None
    parent: str | None = None
    dropped: float | None = None
    dropped_revenue: float | None = None
    immature_share: float | None = None
    cause: str | None = None
    raw_gap: float | None = None
    capped: bool = False
    peers_expected: float | None = None


@dataclass(frozen=True)
class _Target:
    rate: float
    source: str
    p_value: float
    alpha: float = 0.0  # Beta posterior of the target (history): for the interval
    beta: float = 0.0


def _history_target(monthly: np.ndarray, fallback: float) -> _Target:
    """Best rolling quarter of mature monthly cohorts (rows: x, n), shrunk; its one-sided p-value
    against the other months (Bonferroni over the windows)."""
    x, n = monthly[:, 0], monthly[:, 1]
    keep = n > 0
    x, n = x[keep], n[keep]
    if len(x) < WINDOW_MONTHS + 1:
        return _Target(fallback, "history", 1.0, fallback * 100, (1 - fallback) * 100)
    prior = fit_beta_prior(x, n)
    kernel = np.ones(WINDOW_MONTHS)
    wx = np.convolve(x, kernel, "valid")
    wn = np.convolve(n, kernel, "valid")
    ok = wn >= MIN_WINDOW_DEALS
    if not ok.any():
        return _Target(fallback, "history", 1.0, fallback * 100, (1 - fallback) * 100)
    # A window of three months carries three months' worth of prior weight (pooled months).
    a = prior.alpha * WINDOW_MONTHS
    b = prior.beta * WINDOW_MONTHS
    shrunk = np.where(ok, (wx + a) / (wn + a + b), -1.0)
    best = int(np.argmax(shrunk))
    rest_x, rest_n = x.sum() - wx[best], n.sum() - wn[best]
    p = 1.0
    if rest_n > 0:
        table = [[int(wx[best]), int(wn[best] - wx[best])], [int(rest_x), int(rest_n - rest_x)]]
        p = dist.fisher_exact(table, alternative="greater")
    p = min(1.0, p * int(ok.sum()))
    return _Target(float(shrunk[best]), "history", p, float(wx[best] + a),
                   float(wn[best] - wx[best] + b))


def _stage_rows(
    log: EventLog,
    funnel: Funnel,
    maturity: MaturityReport,
    rates: StepRates,
    lang: str,
    alongside: Sequence[Sequence[str]] = (),
) -> list[Leak]:
    # Mature deals per month of reaching the step (stratified_cohorts keeps only months with
    # one; _history_target drops the empty ones), in one query with the segment rows' strata.
    monthly = stratified_cohorts(
        log, maturity.horizons(), [], period="month", alongside=alongside
    ).rename(columns={"month": "period"})
    rng = np.random.default_rng(0)
    rows: list[Leak] = []
    p_values: list[float] = []
    for k, m in enumerate(maturity.stages):
        stage = funnel.stages[k]
        step = rates.steps[k]
        conv = step.conversion
        n = m.reached
        value = rates.value(k + 1)
        if conv is None or n == 0:
            rows.append(Leak(m.stage, m.next_stage, None, None, None, 0.0, None, False, n=n,
                             moved=m.moved, raw_conversion=m.raw_conversion,
                             key_task=stage.key_task_in(lang), hint=stage_hint(stage)))
            p_values.append(float("nan"))
            continue
        if stage.benchmark is not None and 0 < stage.benchmark < 1:
            ne = max(step.n_effective, 1.0)
            p = dist.binom_cdf(round(conv * ne), round(ne), stage.benchmark)
            target = _Target(stage.benchmark, "benchmark", p)
        else:
            months = monthly[monthly["stage_index"] == k].sort_values("period")
            counts = months[["mature_moved", "mature"]].to_numpy(dtype=float)
            target = _history_target(counts, conv)
        expected = float(np.clip(target.rate, 1e-6, 1 - 1e-6))
        lost = n * max(0.0, expected - conv)
        dropped = n * (1 - conv)
        ci = None
        if value is not None:
            draws_c = conversion_draws(step, rng, DRAWS)
            draws_t = (
                rng.beta(target.alpha, target.beta, DRAWS)
                if target.source == "history" and target.alpha > 0 and target.beta > 0
                else np.full(DRAWS, expected)
            )
            money = n * np.maximum(0.0, draws_t - draws_c) * rates.value_draws(k + 1, rng, DRAWS)
            ci = (float(np.quantile(money, 0.025)), float(np.quantile(money, 0.975)))
        rows.append(
            Leak(
                stage=m.stage, next_stage=m.next_stage, segment=None, conversion=conv,
                expected=expected, lost_deals=lost,
                lost_revenue=None if value is None else lost * value, significant=False,
                n=n, moved=m.moved, conversion_ci=step.ci, raw_conversion=m.raw_conversion,
                key_task=stage.key_task_in(lang), hint=stage_hint(stage), value_per_deal=value,
                target_source=target.source, lost_revenue_ci=ci, dropped=dropped,
                dropped_revenue=None if value is None else dropped * value,
                immature_share=step.immature / n if n else None,
            )
        )
        p_values.append(target.p_value)
    q = benjamini_hochberg(p_values)
    out = []
    for leak, p, qv in zip(rows, p_values, q, strict=True):
        tested = bool(np.isfinite(p))
        significant = (
            tested and qv <= FDR_LEVEL and leak.lost_deals > 0 and leak.conversion is not None
        )
        out.append(replace(leak, p_value=p if tested else None,
                           q_value=float(qv) if tested else None, significant=significant))
    return out


def stage_cost_key(leak: Leak) -> tuple[bool, float, float, float]:
    """Sort key of the rows: significant first, then lost revenue (lost deals without amounts),
    then revenue dropped."""
    money = leak.lost_revenue if leak.lost_revenue is not None else -1.0
    drop = leak.dropped_revenue if leak.dropped_revenue is not None else (leak.dropped or 0.0)
    return (not leak.significant, -money, -leak.lost_deals, -drop)


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
    all_segments: bool = False,
) -> tuple[Leak, ...]:
    """The leaks section of ``log`` (a log with its funnel): stage rows, each followed by its
    significant segment rows (``all_segments``: every segment row tested, money only on the
    significant ones).

    ``by``: breakdown columns (None: :func:`default_breakdowns`). ``maturity``: a precomputed
    :func:`~voronka.audit.maturity.build_maturity`. ``lang`` picks the key task's language.
    """
    from voronka.audit.leak_segments import segment_rows, strata_columns

    funnel = log.funnel
    if funnel is None:
        raise ValueError("build_leaks needs a log with a funnel")
    lang = lang or funnel.language
    maturity = maturity or build_maturity(log)
    rates = step_rates(log, maturity)[None]
    breakdowns = default_breakdowns(log) if by is None else tuple(by)
    strata = strata_columns(log, breakdowns)
    stage_rows = sorted(
        _stage_rows(log, funnel, maturity, rates, lang, alongside=strata), key=stage_cost_key
    )
    segments = segment_rows(log, funnel, maturity, breakdowns, lang)
    out: list[Leak] = []
    for row in stage_rows:
        out.append(row)
        mine = cap_to_parent(row, [s for s in segments if s.parent == row.stage])
        mine = [s for s in mine if all_segments or s.significant]
        out.extend(sorted(mine, key=stage_cost_key))
    return tuple(out)


def cap_to_parent(parent: Leak, children: Sequence[Leak]) -> list[Leak]:
    """``children`` (segment rows of ``parent``) with the significant ones of each breakdown
    priced at most what their stage row is: a breakdown partitions the stage's deals, so its
    segments together never lose more deals, nor more revenue, than the stage as a whole.

    When they would, every significant row of that breakdown is scaled by the same factor
    ``f = min(parent.lost_deals / Σ lost_deals, parent.lost_revenue / Σ lost_revenue)`` (< 1):
    ``lost_deals``, ``lost_revenue`` and its interval × f, and ``expected`` moved to
    ``conversion + f × (expected − conversion)`` so that the one price
    ``lost_deals = n × max(0, expected − conversion)`` still holds; ``capped`` says so and
    ``peers_expected`` keeps the peers' rate. Different breakdowns (source, manager) slice the
    same deals and are capped separately.
    """
    out = [replace(c, peers_expected=c.expected) for c in children]
    for by in sorted({c.segment.by for c in out if c.segment is not None}):
        idx = [i for i, c in enumerate(out)
               if c.segment is not None and c.segment.by == by and c.significant]
        deals = sum(out[i].lost_deals for i in idx)
        money = sum(out[i].lost_revenue or 0.0 for i in idx)
        factor = 1.0
        if deals > parent.lost_deals:
            factor = parent.lost_deals / deals
        if parent.lost_revenue is not None and money > parent.lost_revenue:
            factor = min(factor, parent.lost_revenue / money)
        if factor >= 1.0:
            continue
        for i in idx:
            c = out[i]
            if c.expected is None or c.conversion is None:  # not priced: nothing to scale
                continue
            expected = c.conversion + factor * (c.expected - c.conversion)
            ci = c.lost_revenue_ci
            out[i] = replace(
                c,
                expected=float(np.clip(expected, 1e-6, 1 - 1e-6)),
                lost_deals=c.lost_deals * factor,
                lost_revenue=None if c.lost_revenue is None else c.lost_revenue * factor,
                lost_revenue_ci=None if ci is None else (ci[0] * factor, ci[1] * factor),
                capped=True,
            )
    return out
