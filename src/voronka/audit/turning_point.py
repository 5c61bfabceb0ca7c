"""The key stage as the method defines it: the turning point that most fully determines the deals.

For every stage *k* of the line and every **mature** entry cohort *c* (old enough that its deals
have had time to be won: the cohort's end is at least the p90 of the days from the first stage to
a win before ``as_of``; open deals in it are not losses, they are simply not won), the wins the
cohort brings are predicted from its count at *k* times the historical downstream rate,

    Ŵ[c, k] = N[c, k] · r₋c[k],   r₋c[k] = Σ_{c'≠c} W[c'] / Σ_{c'≠c} N[c', k],

out of sample (leave-one-cohort-out: the cohort's own wins never set its rate). The **share of
the cohorts' variation in wins** the stage explains is the predictive R²

    R²[k] = 1 − Σ_c (W[c] − Ŵ[c, k])² / Σ_c (W[c] − W̄₋c)²,

with the cohort's own wins left out of the mean too (Allen's PRESS). Later stages explain more
(at the won stage, everything). The **turning point** is the intermediate stage that adds the most
over the stage before it, ``gain[k] = R²[k] − R²[k−1]``: before it the outcome is still open,
after it it is largely decided. Its uncertainty comes from a Bayesian bootstrap over the cohorts
(Rubin 1981; Dirichlet(1…1) weights on the cohorts' out-of-sample errors): the gains' 95 %
intervals and how often each stage is the best. Stages within noise of each other are both named;
"no clear key stage" when no gain's interval clears :data:`MIN_GAIN`.

Stages that are the won stage under another name (every deal reaching them is won, and as many
reach them as are won) are never candidates, nor is the first stage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from voronka.audit.stats import dist

MIN_COHORTS = 8
"""Fewest mature cohorts for the turning point (fewer: the audit says so)."""

STEADY_P = 0.05
"""A stage decides the wins when the test of overdispersion of its cohorts' wins around
count × downstream rate does not reject at this level (the rate is steady up to chance)."""

MIN_GAIN = 0.05
"""When no stage is steady: the smallest share of the excess variation a stage must remove (lower
end of its interval) to be named."""

CLEAR_SHARE = 0.8
"""... and the share of bootstrap draws in which it must remove the most to be named alone."""

BOOTSTRAP = 400
"""Bayesian-bootstrap draws."""

ALIAS_P_WON = 0.99
"""A stage whose reaching deals are won at least this often, and reached by no more than
:data:`ALIAS_EXCESS` × the won deals, is the won stage under another name."""

ALIAS_EXCESS = 1.01


@dataclass(frozen=True)
class StageShare:
    """One stage's explained share of the cohorts' wins.

    Attributes:
        stage_index: the stage.
        explained: out-of-sample share of the variation of the cohorts' wins explained by the
            count at the stage × the downstream rate (can be negative: worse than the mean).
        undecided: the share left unexplained beyond chance: ``(Σ errors² − Σ N r (1 − r)) /
            Σ (W − W̄)²`` (≈ 0: the downstream rate is steady, the count decides the wins).
        undecided_low: 2.5 % point over the bootstrap.
        undecided_high: 97.5 % point.
        gain: the undecided share the stage removes: ``undecided of the stage before −
            undecided`` (None for the first stage).
        gain_low: 2.5 % point of the gain over the bootstrap.
        gain_high: 97.5 % point.
        best_share: share of bootstrap draws in which the stage is the earliest to decide.
        candidate: whether the stage may be the key stage.
        rate: pooled downstream rate ``won / reached`` over the mature cohorts.
        rate_low: 10th percentile of the per-cohort downstream rate (cohorts with ≥ 5 deals at
            the stage).
        rate_high: 90th percentile.
        step_low: 10th percentile of the per-cohort conversion into the stage from the one before.
        step_high: 90th percentile.
    """

    stage_index: int
    explained: float
    undecided: float = 0.0
    undecided_low: float = 0.0
    undecided_high: float = 0.0
    steady_p: float = 0.0
    gain: float | None = None
    gain_low: float | None = None
    gain_high: float | None = None
    best_share: float = 0.0
    candidate: bool = False
    rate: float = 0.0
    rate_low: float | None = None
    rate_high: float | None = None
    step_low: float | None = None
    step_high: float | None = None


@dataclass(frozen=True)
class TurningPoint:
    """The outcome of the rule.

    Attributes:
        status: ``clear`` (one stage), ``close`` (two within noise: ``best`` and ``runner_up``),
            ``none`` (no stage stands out; ``reason`` says why), ``no_intermediate`` (a funnel of
            two stages, or only aliases of the won stage between them), ``too_few_cohorts``.
        best: the stage index chosen (None unless ``clear`` or ``close``).
        runner_up: the stage within noise of it (``close`` only).
        reason: for ``none``: ``volume`` (the number of leads already decides the wins) or
            ``noise`` (nothing explains the wins well).
        cohorts: mature cohorts used.
        period: ``week`` or ``month``.
        shares: every stage of the line but the won one.
    """

    status: str
    best: int | None
    runner_up: int | None
    reason: str | None
    cohorts: int
    period: str
    shares: tuple[StageShare, ...]


def _loo_errors(n: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-sample squared errors per cohort × stage, the chance part of them (binomial
    variance ``N r (1 − r)`` of a steady downstream rate), and the baseline's squared errors."""
    total_w = w.sum()
    total_n = n.sum(axis=0)
    other_n = total_n[None, :] - n
    rate = np.where(other_n > 0, (total_w - w)[:, None] / np.maximum(other_n, 1e-12), 0.0)
    rate = np.clip(rate, 0.0, 1.0)
    err = (w[:, None] - n * rate) ** 2
    chance = n * rate * (1.0 - rate)
    c = w.shape[0]
    base = (w - (total_w - w) / max(c - 1, 1)) ** 2
    return err, chance, base


def _quantiles(values: np.ndarray, mask: np.ndarray) -> tuple[float | None, float | None]:
    chosen = values[mask]
    if chosen.size < 3:
        return None, None
    lo, hi = np.quantile(chosen, [0.1, 0.9])
    return float(lo), float(hi)


def find_turning_point(
    cohorts: pd.DataFrame,
    won_index: int,
    *,
    mature_before: object,
    period: str = "week",
    seed: int = 0,
) -> TurningPoint:
    """The turning point from the engine's ``cohort_reach`` rows (``cohort``, ``stage_index``,
    ``reached``, ``won``); cohorts starting before ``mature_before`` (a date) are used."""
    n_line = won_index + 1
    frame = cohorts[(cohorts["cohort"] < mature_before) & (cohorts["stage_index"] <= won_index)]
    table = frame.pivot_table(
        index="cohort", columns="stage_index", values="reached", aggfunc="sum", fill_value=0
    ).reindex(columns=range(n_line), fill_value=0)
    table = table[table[0] > 0]
    n = table.to_numpy(dtype=np.float64)
    c = n.shape[0]
    empty = TurningPoint("too_few_cohorts", None, None, None, c, period, ())
    if won_index < 2:
        return TurningPoint("no_intermediate", None, None, None, c, period, ())
    if c < MIN_COHORTS:
        return empty
    w = n[:, won_index]
    err, chance, base = _loo_errors(n[:, :won_index], w)
    scale = max(float(base.sum()), 1e-12)
    r2 = 1.0 - err.sum(axis=0) / scale
    # Pearson dispersion of the wins given the count at k: 1 when the downstream rate is steady.
    z2 = err / np.maximum(chance, 0.25)
    dispersion = z2.mean(axis=0)
    steady_p = dist.chi2_sf(z2.sum(axis=0), max(c - 1, 1))
    undecided = dispersion - 1.0
    total_won = w.sum()
    candidates = np.zeros(won_index, dtype=bool)
    for k in range(1, won_index):
        reached = n[:, k].sum()
        alias = reached > 0 and total_won / reached >= ALIAS_P_WON and (
            reached <= ALIAS_EXCESS * total_won
        )
        candidates[k] = reached > 0 and not alias
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.ones(c), size=BOOTSTRAP)  # (B, C)
    und_boot = weights @ z2 - 1.0  # (B, K)
    und_low = np.quantile(und_boot, 0.025, axis=0)
    und_high = np.quantile(und_boot, 0.975, axis=0)
    # What stage k removes of the first stage's excess dispersion (share of it).
    excess0 = max(float(undecided[0]), 1e-9)
    gains_boot = -np.diff(und_boot, axis=1) / np.maximum(und_boot[:, :1], 1e-9)
    gains = -np.diff(undecided) / excess0
    masked = np.where(candidates[1:][None, :], gains_boot, -np.inf)
    first_draw = np.argmax(masked, axis=1) + 1
    shares: list[StageShare] = []
    for k in range(won_index):
        ok = n[:, k] >= 5
        rate_c = np.where(n[:, k] > 0, w / np.maximum(n[:, k], 1e-12), np.nan)
        step_c = (
            np.where(n[:, k - 1] > 0, n[:, k] / np.maximum(n[:, k - 1], 1e-12), np.nan)
            if k
            else None
        )
        rate_low, rate_high = _quantiles(rate_c, ok)
        step_low, step_high = (
            _quantiles(step_c, n[:, k - 1] >= 5) if step_c is not None else (None, None)
        )
        gain = gain_low = gain_high = None
        if k:
            gain = float(gains[k - 1])
            lo, hi = np.quantile(gains_boot[:, k - 1], [0.025, 0.975])
            gain_low, gain_high = float(lo), float(hi)
        shares.append(
            StageShare(
                stage_index=k,
                explained=float(r2[k]),
                undecided=float(undecided[k]),
                undecided_low=float(und_low[k]),
                undecided_high=float(und_high[k]),
                steady_p=float(steady_p[k]),
                gain=gain,
                gain_low=gain_low,
                gain_high=gain_high,
                best_share=float(np.mean(first_draw == k)) if candidates[k] else 0.0,
                candidate=bool(candidates[k]),
                rate=float(total_won / n[:, k].sum()) if n[:, k].sum() else 0.0,
                rate_low=rate_low,
                rate_high=rate_high,
                step_low=step_low,
                step_high=step_high,
            )
        )
    if not candidates.any():
        return TurningPoint("no_intermediate", None, None, None, c, period, tuple(shares))
    def steady(k: int) -> bool:
        return bool(steady_p[k] > STEADY_P)

    if steady(0):  # the number of leads already decides the wins, up to chance
        return TurningPoint("none", None, None, "volume", c, period, tuple(shares))
    chosen = [k for k in range(1, won_index) if candidates[k] and steady(k)]
    if chosen:  # the first stage from which the downstream rate is steady
        best = chosen[0]
        before = best - 1
        if before >= 1 and candidates[before] and steady_p[before] > STEADY_P / 5:
            return TurningPoint("close", best, before, None, c, period, tuple(shares))
        return TurningPoint("clear", best, None, None, c, period, tuple(shares))
    # Nothing is steady: the stage that removes the most of the excess variation.
    ranked = sorted((sh for sh in shares if sh.candidate), key=lambda sh: -(sh.gain or 0.0))
    top = ranked[0]
    if top.gain_low is None or top.gain_low <= MIN_GAIN:
        return TurningPoint("none", None, None, "noise", c, period, tuple(shares))
    if top.best_share >= CLEAR_SHARE or len(ranked) == 1:
        return TurningPoint("clear", top.stage_index, None, None, c, period, tuple(shares))
    return TurningPoint(
        "close", top.stage_index, ranked[1].stage_index, None, c, period, tuple(shares)
    )
