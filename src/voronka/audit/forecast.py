"""The ``forecast`` section: the probability of meeting the plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Forecast:
    """Plan probability from a Monte Carlo of open deals and future leads.

    Attributes:
        plan: won deals wanted in the period.
        period_start: first day of the plan period.
        period_end: last day of the plan period.
        won_so_far: deals won in the period up to ``as_of``.
        expected: expected won deals by the period's end.
        p10: 10th percentile of won deals.
        p90: 90th percentile of won deals.
        p_plan: probability of at least ``plan`` won deals.
    """

    plan: float | None
    period_start: date
    period_end: date
    won_so_far: int
    expected: float
    p10: float
    p90: float
    p_plan: float | None
