"""Comparing two periods' funnels: the change of each step's conversion and whether it is beyond
noise, and the change of the headline counts.

A step's conversion in a period is ``reached[k+1] / reached[k]`` (as in the funnel section). Two
periods are compared with the difference of two independent proportions, its 95% interval by
Newcombe's hybrid score method (the difference of two Wilson intervals; statsmodels
``confint_proportions_2indep(method="newcomb")``) and the two-sided score test p-value
(``test_proportions_2indep(method="score")``); a change is *beyond noise* when the interval
excludes zero. Counts (deals, won) are shown with their change only: a count has no denominator
to test against here.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

from voronka.audit.funnel_result import FunnelReport

CONFIDENCE = 0.95


@dataclass(frozen=True)
class StepChange:
    """One step's conversion in two periods.

    Attributes:
        stage: the step's first stage id (conversion from it to the next stage).
        current_reached: deals that reached the stage in the current period.
        current_moved: of them, deals that reached the next stage.
        previous_reached: the same in the period compared with.
        previous_moved: the same in the period compared with.
        current: current conversion (None without deals).
        previous: previous conversion (None without deals).
        change: ``current − previous`` in fractions (None when either is missing).
        change_low: low end of the 95% interval of ``change`` (Newcombe).
        change_high: high end of it.
        p_value: two-sided score test of equal conversions.
        beyond_noise: whether the interval excludes zero.
    """

    stage: str
    current_reached: int
    current_moved: int
    previous_reached: int
    previous_moved: int
    current: float | None
    previous: float | None
    change: float | None
    change_low: float | None
    change_high: float | None
    p_value: float | None
    beyond_noise: bool


@dataclass(frozen=True)
class CountChange:
    """A headline count in two periods.

    Attributes:
        name: ``deals``, ``won``, ``lost`` or ``open``.
        current: the count now.
        previous: the count in the period compared with.
        change: ``current / previous − 1`` (None when ``previous`` is 0).
    """

    name: str
    current: int
    previous: int
    change: float | None


@dataclass(frozen=True)
class PeriodComparison:
    """Two periods' funnels side by side.

    Attributes:
        kind: ``previous`` (the period of the same length just before) or ``year`` (the same
            dates a year earlier).
        current_from: first day of the current period.
        current_to: last day of it.
        previous_from: first day of the period compared with.
        previous_to: last day of it.
        counts: the headline counts.
        steps: every step of the line.
    """

    kind: str
    current_from: dt.date
    current_to: dt.date
    previous_from: dt.date
    previous_to: dt.date
    counts: tuple[CountChange, ...]
    steps: tuple[StepChange, ...]


def _year_earlier(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def previous_period(start: dt.date, end: dt.date, kind: str = "previous") -> tuple[dt.date, dt.date]:
    """The period to compare ``[start, end]`` (days inclusive) with: ``previous`` — the same number
    of days ending the day before ``start``; ``year`` — the same dates a year earlier."""
    if end < start:
        raise ValueError("the period ends before it starts")
    if kind == "year":
        return _year_earlier(start), _year_earlier(end)
    if kind != "previous":
        raise ValueError(f"unknown comparison {kind!r}; expected previous or year")
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), start - dt.timedelta(days=1)


def compare_steps(
    stage: str, current: tuple[int, int], previous: tuple[int, int]
) -> StepChange:
    """The change of one step's conversion: ``current`` and ``previous`` are
    ``(moved, reached)``."""
    (m1, n1), (m0, n0) = current, previous
    rate1 = m1 / n1 if n1 else None
    rate0 = m0 / n0 if n0 else None
    if rate1 is None or rate0 is None:
        return StepChange(stage, n1, m1, n0, m0, rate1, rate0, None, None, None, None, False)
    # statsmodels also computes the odds ratio, which divides by zero at a rate of 0 or 1.
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = confint_proportions_2indep(
            m1, n1, m0, n0, method="newcomb", compare="diff", alpha=1 - CONFIDENCE
        )
        test = test_proportions_2indep(m1, n1, m0, n0, method="score", compare="diff")
    p_value = float(test.pvalue)
    low, high = max(-1.0, float(low)), min(1.0, float(high))  # rounding past ±1
    return StepChange(
        stage, n1, m1, n0, m0, rate1, rate0, rate1 - rate0, low, high,
        p_value if p_value == p_value else None,
        bool(low > 0 or high < 0),
    )


def compare_funnels(
    current: FunnelReport,
    previous: FunnelReport,
    *,
    kind: str,
    current_period: tuple[dt.date, dt.date],
    previous_period: tuple[dt.date, dt.date],
) -> PeriodComparison:
    """The :class:`PeriodComparison` of two funnel sections of the same funnel."""
    before = {s.id: s.reached for s in previous.stages}
    steps = []
    line = current.stages
    for k in range(len(line) - 1):
        sid, nxt = line[k].id, line[k + 1].id
        steps.append(
            compare_steps(
                sid,
                (line[k + 1].reached, line[k].reached),
                (before.get(nxt, 0), before.get(sid, 0)),
            )
        )
    counts = tuple(
        CountChange(
            name,
            getattr(current, name),
            getattr(previous, name),
            getattr(current, name) / getattr(previous, name) - 1 if getattr(previous, name) else None,
        )
        for name in ("deals", "won", "lost", "open")
    )
    return PeriodComparison(
        kind, current_period[0], current_period[1], previous_period[0], previous_period[1],
        counts, tuple(steps),
    )
