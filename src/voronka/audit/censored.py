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
    counts: pd.DataFrame, column: str | None
) -> dict[Hashable | None, tuple[float | None, float, int]]:
    """Per population (None funnel-wide, else each value of ``column`` as text, None for blank):
    mean, standard deviation and number of the won amounts; a population without any is left
    out."""
    if "amount_n" not in counts:
        return {}
    won = counts[counts["outcome"] == "won"]
    if column is None:
        groups: dict[Hashable | None, pd.DataFrame] = {None: won}
    else:
        labels = [None if v is None else str(v) for v in won[column]]
        positions: dict[Hashable | None, list[int]] = {}
        for i, label in enumerate(labels):
            positions.setdefault(label, []).append(i)
        groups = {label: won.iloc[rows] for label, rows in positions.items()}
    out: dict[Hashable | None, tuple[float | None, float, int]] = {}
    for key, rows in groups.items():
        n = int(rows["amount_n"].sum())
        if n == 0:
            continue
        mean = float(rows["amount_sum"].sum() / n)
        var = max(float(rows["amount_sumsq"].sum() / n - mean**2), 0.0)
        out[key] = (mean, float(np.sqrt(var)), n)
    return out


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
    amounts = _amounts(counts, by)
    # Each population's rows per step, in the frame's order (what the estimator is given).
    if by is None:
        codes, labels = np.zeros(len(frame), dtype=np.int64), [None]
    else:
        codes, uniques = pd.factorize(frame["segment"].map(_text_or_blank), sort=False)
        labels = [None if u == "\x00" else u for u in uniques]
    stage = frame["stage_index"].to_numpy()
    columns = [frame[c].to_numpy() for c in ("age", "moved", "lost", "open")]
    out: dict[object, StepRates] = {}
    for i, key in enumerate(labels):
        mine = np.flatnonzero(codes == i)
        at = stage[mine]
        steps = []
        for k in range(len(settled)):
            rows = mine[at == k]
            age, moved, lost, open_ = (c[rows] for c in columns)
            steps.append(aalen_johansen(age, moved, lost, open_, settled=settled[k]))
        mean, sd, n = amounts.get(key, (None, 0.0, 0))
        out[key] = StepRates(tuple(steps), mean, sd, n)
    return out


def _text_or_blank(value: object) -> str:
    return "\x00" if value is None else str(value)
