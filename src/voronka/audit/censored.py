"""Censoring-aware conversions per step (and segment), and what one more deal at a stage is worth.

Conversion of the step k → k+1 is the Aalen–Johansen cumulative incidence of moving on
(:func:`voronka.audit.stats.competing.aalen_johansen`) over every deal that reached k, open deals
censored at their age; deals open longer than the step's settled horizon (p99 of the time to move
on) count as lost. The value of a deal reaching stage j is ``P(won | reached j) × mean won amount``
on the same population (funnel, or the segment), with ``P(won | reached j)`` the product of the
censoring-aware conversions from j to the won stage.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from voronka.audit.maturity import MaturityReport
from voronka.audit.stats.competing import CumulativeIncidence, aalen_johansen
from voronka.engine import EventLog, deal_counts, step_outcomes


@dataclass(frozen=True)
class StepRates:
    """Censoring-aware conversion of every step for one population.

    Attributes:
        steps: one :class:`CumulativeIncidence` per step of the line (index = stage index).
        mean_amount: mean won amount (None without amounts).
        amount_sd: standard deviation of the won amounts.
        amount_n: won deals with an amount.
    """

    steps: tuple[CumulativeIncidence, ...]
    mean_amount: float | None
    amount_sd: float
    amount_n: int

    def p_won(self, stage_index: int) -> float | None:
        """``P(won | reached stage_index)``: product of the conversions from it on."""
        p = 1.0
        for step in self.steps[stage_index:]:
            if step.conversion is None:
                return None
            p *= step.conversion
        return p

    def value(self, stage_index: int) -> float | None:
        """What a deal reaching ``stage_index`` is worth: ``P(won | reached) × mean won amount``."""
        p = self.p_won(stage_index)
        return None if p is None or self.mean_amount is None else p * self.mean_amount

    def value_draws(self, stage_index: int, rng: np.random.Generator, size: int) -> np.ndarray:
        """Posterior draws of :meth:`value`: each conversion ~ Beta at its effective sample size
        (Jeffreys), the mean amount ~ Normal(mean, sd/√n)."""
        if self.mean_amount is None:
            return np.full(size, np.nan)
        out = np.full(size, max(self.mean_amount, 0.0))
        if self.amount_n > 1:
            out = out + rng.normal(0.0, self.amount_sd / np.sqrt(self.amount_n), size)
        for step in self.steps[stage_index:]:
            out = out * conversion_draws(step, rng, size)
        return out


def conversion_draws(step: CumulativeIncidence, rng: np.random.Generator, size: int) -> np.ndarray:
    """Draws of a step's conversion: Beta(c·n + ½, (1 − c)·n + ½) at its effective size n."""
    if step.conversion is None:
        return np.full(size, np.nan)
    n = step.n_effective
    return rng.beta(step.conversion * n + 0.5, (1 - step.conversion) * n + 0.5, size)


def _amounts(
    counts: pd.DataFrame, key: Hashable | None, column: str | None
) -> tuple[float | None, float, int]:
    if "amount_n" not in counts:
        return None, 0.0, 0
    won = counts[counts["outcome"] == "won"]
    if column is not None:
        mask = np.array([(None if v is None else str(v)) == key for v in won[column]], dtype=bool)
        won = won.loc[mask]
    n = int(won["amount_n"].sum())
    if n == 0:
        return None, 0.0, 0
    mean = float(won["amount_sum"].sum() / n)
    var = max(float(won["amount_sumsq"].sum() / n - mean**2), 0.0)
    return mean, float(np.sqrt(var)), n


def step_rates(
    log: EventLog,
    maturity: MaturityReport,
    *,
    by: str | None = None,
    alongside: Sequence[str] = (),
) -> dict[object, StepRates]:
    """Population → its :class:`StepRates`: ``{None: …}`` funnel-wide, or one per value of
    ``by`` (None for blank). Computed once per log, settled horizons and ``by`` (several sections
    read the same rates; the result is immutable).

    ``alongside``: breakdowns the caller will ask next (the leaks' ``source`` and ``manager``
    after the funnel-wide rates): their counts come from the same engine queries."""
    settled = tuple(s.settled_days for s in maturity.stages)
    return dict(
        log.cached(("step_rates", settled, by), lambda: _step_rates(log, settled, by, alongside))
    )


def _step_rates(
    log: EventLog, settled: tuple[float | None, ...], by: str | None, alongside: Sequence[str]
) -> dict[object, StepRates]:
    others = [b for b in alongside if b != by]
    frame = step_outcomes(log, by=by, alongside=others)
    counts = deal_counts(
        log, [by] if by is not None else [], alongside=[[b] for b in others]
    )
    groups = [(None, frame)] if by is None else _by_segment(frame)
    out: dict[object, StepRates] = {}
    for key, rows in groups:
        by_stage = {int(k): r for k, r in rows.groupby("stage_index", sort=False)}
        steps = []
        for k in range(len(settled)):
            r = by_stage.get(k, rows.iloc[:0])
            steps.append(
                aalen_johansen(r["age"], r["moved"], r["lost"], r["open"], settled=settled[k])
            )
        mean, sd, n = _amounts(counts, key, by)
        out[key] = StepRates(tuple(steps), mean, sd, n)
    return out


def _by_segment(frame: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    labels = frame["segment"].map(lambda v: "\x00" if v is None else str(v))
    return [
        (None if label == "\x00" else label, rows) for label, rows in frame.groupby(labels, sort=False)
    ]
