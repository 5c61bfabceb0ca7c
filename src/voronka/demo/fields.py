"""What a demo deal carries besides its way down the funnel: its amount, campaign and lost
reason, the meeting's time and place, and the campaigns' monthly ad spend.

Each function draws from the generator it is given, in the order :func:`voronka.demo.generate_demo`
calls it, so the same seed gives the same data.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from voronka.demo import clock
from voronka.demo.profile import LOST_REASONS, MEETING_PLACES, SOURCES, add_months

MEETING_FIELD_MISSING = (0.06, 0.05)  # meeting_at, meeting_place left empty


def amounts(rng: np.random.Generator, src: np.ndarray) -> np.ndarray:
    """Deal amounts (roubles, whole thousands, at least 5,000): lognormal around the median of
    each deal's source (``src``: source indexes)."""
    median = np.array([s.median_amount for s in SOURCES])[src]
    raw = median * np.exp(rng.normal(0.0, 0.7, size=len(src)))
    amounts: np.ndarray = np.maximum(np.round(raw, -3), 5_000.0)
    return amounts


def campaigns(rng: np.random.Generator, src: np.ndarray) -> np.ndarray:
    """Each deal's campaign, one of its source's campaigns alike (None: a source without any)."""
    out = np.full(len(src), None, dtype=object)
    for i, s in enumerate(SOURCES):
        if s.campaigns:
            rows = np.nonzero(src == i)[0]
            out[rows] = np.array(s.campaigns, dtype=object)[
                rng.integers(0, len(s.campaigns), len(rows))
            ]
    return out


def lost_reasons(rng: np.random.Generator, final: np.ndarray, lost: np.ndarray) -> np.ndarray:
    """The lost reason of each ``lost`` deal, drawn from the :data:`LOST_REASONS` of the stage it
    stopped at (``final``: the index of the last stage reached); None for the others."""
    group = np.where(final <= 1, 0, np.where(final <= 4, 1, 2))
    out = np.full(len(final), None, dtype=object)
    for g, table in enumerate(LOST_REASONS):
        rows = np.nonzero(lost & (group == g))[0]
        words = np.array([w for w, _ in table], dtype=object)
        out[rows] = words[rng.choice(len(words), size=len(rows), p=shares([p for _, p in table]))]
    unnamed = lost & (rng.random(len(final)) < 0.1)
    out[unnamed] = None
    return out


def meeting_fields(
    rng: np.random.Generator, scheduled_work: np.ndarray, reached: np.ndarray
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """``meeting_at`` (µs or NaT) and ``meeting_place`` of deals that reached the meeting stage,
    left empty for a few of them (entry-criteria violations). The meeting is set for a whole hour
    between 10:00 and 17:00, one to nine working days after it was scheduled."""
    n = len(reached)
    nat = np.iinfo(np.int64).min
    day = scheduled_work // clock.WORKDAY_US + rng.integers(1, 10, n)
    hour = rng.integers(10, 18, n)
    at = clock.to_wall(day * clock.WORKDAY_US + (hour - 9) * clock.US_PER_HOUR)
    no_at = reached & (rng.random(n) < MEETING_FIELD_MISSING[0])
    no_place = reached & (rng.random(n) < MEETING_FIELD_MISSING[1])
    meeting_at = np.where(reached & ~no_at, at, nat)
    places = np.array(MEETING_PLACES, dtype=object)[rng.integers(0, len(MEETING_PLACES), n)]
    meeting_place = places.copy()
    meeting_place[~reached | no_place] = None
    return meeting_at, meeting_place, (int(no_at.sum()), int(no_place.sum()))


def monthly_spend(
    rng: np.random.Generator,
    src: np.ndarray,
    campaign: np.ndarray,
    month_index: np.ndarray,
    start: date,
    months: int,
) -> pd.DataFrame:
    """Monthly spend per campaign: the campaign's leads × the source's cost per lead × noise."""
    rows: list[dict[str, Any]] = []
    for i, s in enumerate(SOURCES):
        if s.cost_per_lead is None:
            continue
        for camp in s.campaigns:
            mine = (src == i) & (campaign == camp)
            leads = np.bincount(month_index[mine], minlength=months)
            noise_factor = np.exp(rng.normal(0.0, 0.08, size=months))
            for m in range(months):
                if leads[m] == 0:
                    continue
                rows.append({
                    "source": s.name,
                    "campaign": camp,
                    "month": pd.Timestamp(add_months(start, m)),
                    "cost": float(round(leads[m] * s.cost_per_lead * noise_factor[m])),
                })
    frame = pd.DataFrame(rows, columns=["source", "campaign", "month", "cost"])
    return frame.sort_values(["month", "source", "campaign"], ignore_index=True)


def shares(weights: list[float]) -> np.ndarray:
    """``weights`` scaled to sum to one (the probabilities of a draw)."""
    arr: np.ndarray = np.asarray(weights, dtype=float)
    return arr / float(arr.sum())
