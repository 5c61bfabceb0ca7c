"""Conversion with deals still open: the Aalen–Johansen cumulative incidence of "moved on".

A deal that reached stage k either moves on to k+1, is lost, or is still open (censored at its
age). The Aalen–Johansen estimator (Aalen & Johansen 1978; for discrete time, the life-table
form in Kalbfleisch & Prentice 2002, §8.2) gives the cumulative incidence of moving on,
``F₁(t) = Σ_{s ≤ t} S(s−) · d₁(s) / r(s)``, with ``S`` the probability of still being in the stage
(neither event) and ``r(s)`` the deals at risk at age ``s``. Young open deals contribute to the
ages they have lived through instead of counting as failures (raw rate) or being dropped
(mature cohorts).

A deal can stay open for ever (never closed in the CRM). So that such deals are not all taken
for late movers, a deal still open ``settled`` days or more after reaching the stage (the p99 of
the time to move on) counts as lost at that age.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from voronka.audit.stats.intervals import wilson_interval


@dataclass(frozen=True)
class CumulativeIncidence:
    """The estimated share of deals that (will) move on, with its uncertainty.

    Attributes:
        conversion: ``F₁(∞)``: the censoring-aware conversion (None when no deal).
        ci: 95% Wilson interval at the effective sample size.
        n: deals that reached the stage.
        n_effective: deals whose outcome is known plus, for each open one, the share of the
            eventual outcomes that happen by its age (what the estimate is "worth" in deals).
        immature: deals still open and younger than the settled horizon (censored).
        moved: deals that moved on so far.
    """

    conversion: float | None
    ci: tuple[float, float] | None
    n: int
    n_effective: float
    immature: int
    moved: int = 0


def aalen_johansen(
    ages: ArrayLike,
    moved: ArrayLike,
    lost: ArrayLike,
    open_: ArrayLike,
    *,
    settled: float | None = None,
) -> CumulativeIncidence:
    """Cumulative incidence of moving on from counts per whole-day age.

    ``ages[i]``: age in days; ``moved``/``lost``: deals that moved on / were lost at that age;
    ``open_``: deals open at that age now (censored). Within a day, events come first and a
    censored deal counts as half a deal at risk (the actuarial adjustment). Open deals at or
    beyond ``settled`` days count as lost (see the module docstring). Equals ``moved / (moved +
    lost)`` without censoring (tested), and the Aalen–Johansen estimate of
    ``lifelines.AalenJohansenFitter`` on the same data up to the within-day convention.
    """
    a = np.asarray(ages, dtype=float)
    d1 = np.asarray(moved, dtype=float).copy()
    d2 = np.asarray(lost, dtype=float).copy()
    c = np.asarray(open_, dtype=float).copy()
    n = int(round(d1.sum() + d2.sum() + c.sum()))
    moved_so_far = int(round(d1.sum()))
    if n == 0:
        return CumulativeIncidence(None, None, 0, 0.0, 0)
    if settled is not None and np.isfinite(settled):
        late = a >= settled
        d2[late] += c[late]
        c[late] = 0.0
    order = np.argsort(a, kind="stable")
    d1, d2, c = d1[order], d2[order], c[order]
    total = d1 + d2 + c
    at_risk = np.cumsum(total[::-1])[::-1] - c / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        h1 = np.where(at_risk > 0, d1 / at_risk, 0.0)
        h = np.where(at_risk > 0, (d1 + d2) / at_risk, 0.0)
    h = np.clip(h, 0.0, 1.0)
    survival_before = np.concatenate([[1.0], np.cumprod(1.0 - h)[:-1]])
    cif = float(np.sum(survival_before * h1))
    resolved = 1.0 - np.cumprod(1.0 - h)  # share of eventual outcomes resolved by each age
    final = resolved[-1] if resolved[-1] > 0 else 1.0
    n_eff = float(d1.sum() + d2.sum() + np.sum(c * np.clip(resolved / final, 0.0, 1.0)))
    ci = wilson_interval(cif * n_eff, n_eff) if n_eff > 0 else None
    return CumulativeIncidence(
        conversion=cif,
        ci=None if ci is None else (float(ci[0]), float(ci[1])),
        n=n,
        n_effective=n_eff,
        immature=int(round(c.sum())),
        moved=moved_so_far,
    )
