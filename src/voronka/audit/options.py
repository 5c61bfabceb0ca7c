"""What the user asked of an audit, beyond the data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class AuditOptions:
    """Options of one audit run.

    Attributes:
        by: deal columns to break leaks and anomalies down by (None: ``source`` and ``manager`` where
            present).
        plan: won deals wanted in the plan period (None: no forecast unless ``plan_revenue``).
        plan_revenue: revenue wanted in the plan period.
        plan_from: first day of the plan period (None: first day of the month of ``as_of``).
        plan_until: last day of the plan period (None: last day of that month).
        language: language of people-facing text in the result (``ru`` or ``en``); None: the funnel's.
        seed: seed of every random computation (Monte Carlo), so a run is reproducible.
    """

    by: tuple[str, ...] | None = None
    plan: float | None = None
    plan_revenue: float | None = None
    plan_from: date | None = None
    plan_until: date | None = None
    language: str | None = None
    seed: int = 0
