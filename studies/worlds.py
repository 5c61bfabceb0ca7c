"""Generated funnel histories with a known truth, for the simulation studies of issue 13.

A world is a five-stage funnel (lead → qualified → meeting → proposal → won). Leads arrive per
day with growth, a yearly season, a weekday pattern and week-to-week overdispersion (a Gamma
factor per week: negative-binomial counts). Each step converts with a probability that drifts
(a random walk on the logit, one step a month, by the deal's creation month) and, for a planted
key stage, swings from week to week upstream of it while staying steady downstream. Times in stage
are gamma; failing deals are lost some days later, or (3 %) never closed. Everything after
``as_of`` is invisible, as in a CRM export taken then. Deals carry ``closed_at``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from voronka.funnel import Funnel, Stage

STAGES = ("lead", "qualified", "meeting", "proposal", "won")
WEEKDAY = np.array([1.2, 1.2, 1.15, 1.1, 1.0, 0.35, 0.25])


@dataclass(frozen=True)
class World:
    """The parameters of one world (see the module docstring)."""

    months: int = 38
    start: dt.date = dt.date(2022, 1, 1)
    leads_per_day: float = 10.0
    growth: float = 1.3  # lead volume factor per year
    season: float = 0.2  # amplitude of the yearly season
    phase: float = 0.0  # in years
    week_shape: float = 25.0  # Gamma shape of the weekly volume factor (overdispersion)
    conversion: tuple[float, ...] = (0.55, 0.5, 0.6, 0.55)
    move_days: tuple[float, ...] = (2.0, 5.0, 7.0, 9.0)
    drift_sd: tuple[float, ...] = (0.06, 0.06, 0.06, 0.06)  # per month, logit scale
    swing_sd: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)  # per week, logit scale
    stall: float = 0.03
    seed: int = 0
    stage_ids: tuple[str, ...] = field(default=STAGES)

    @property
    def as_of(self) -> dt.datetime:
        year = self.start.year + (self.start.month - 1 + self.months) // 12
        month = (self.start.month - 1 + self.months) % 12 + 1
        return dt.datetime(year, month, 1) - dt.timedelta(days=14)  # mid-month export

    def funnel(self) -> Funnel:
        return Funnel(
            name="world",
            stages=tuple(Stage(id=s, name=s) for s in self.stage_ids),
            won_stage=self.stage_ids[-1],
        )


def planted_key(key: int, seed: int, *, swing: float = 0.6, months: int = 20) -> World:
    """A world whose key stage is ``key`` (1 … 3): the steps into stages ≤ key swing from week to
    week (logit sd ``swing``), the steps after it are steady."""
    swing_sd = tuple(swing if j < key else 0.0 for j in range(4))
    drift = tuple(0.04 if j < key else 0.0 for j in range(4))
    return World(months=months, seed=seed, swing_sd=swing_sd, drift_sd=drift, growth=1.2)


def random_world(seed: int, months: int = 38) -> World:
    """A world with random growth, season and drift (for the forecast study)."""
    rng = np.random.default_rng(10_000 + seed)
    return World(
        months=months,
        seed=seed,
        leads_per_day=float(rng.uniform(6, 14)),
        growth=float(rng.uniform(0.85, 1.7)),
        season=float(rng.uniform(0.1, 0.3)),
        phase=float(rng.uniform(0, 1)),
        week_shape=float(rng.uniform(10, 40)),
        conversion=tuple(float(x) for x in rng.uniform(0.4, 0.7, size=4)),
        drift_sd=tuple(float(x) for x in rng.uniform(0.03, 0.1, size=4)),
    )


def _us(moment: dt.datetime) -> np.int64:
    return np.int64(int((moment - dt.datetime(1970, 1, 1)).total_seconds()) * 1_000_000)


def generate(world: World) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(events, deals)`` of ``world`` as the canonical tables (stage names = stage ids)."""
    rng = np.random.default_rng(world.seed)
    start = dt.datetime.combine(world.start, dt.time())
    as_of = world.as_of
    n_days = (as_of - start).days + 1
    day = np.arange(n_days)
    years = day / 365.25
    weeks = day // 7
    week_factor = rng.gamma(world.week_shape, 1 / world.week_shape, size=weeks.max() + 1)
    weekday = np.array([(world.start + dt.timedelta(days=int(d))).weekday() for d in day])
    rate = (
        world.leads_per_day
        * world.growth**years
        * (1 + world.season * np.sin(2 * np.pi * (years + world.phase)))
        * WEEKDAY[weekday]
        / WEEKDAY.mean()
        * week_factor[weeks]
    )
    counts = rng.poisson(rate)
    created = np.repeat(day, counts) + rng.random(counts.sum())  # days since start
    n = created.shape[0]
    month = (created // 30.44).astype(int)
    week = (created // 7).astype(int)
    steps = len(world.conversion)
    drift = np.cumsum(
        rng.normal(0, 1, size=(month.max() + 1, steps)) * np.array(world.drift_sd), axis=0
    )
    swing = rng.normal(0, 1, size=(week.max() + 1, steps)) * np.array(world.swing_sd)
    p = expit(logit(np.array(world.conversion))[None, :] + drift[month] + swing[week])
    passed = rng.random((n, steps)) < p
    final = np.cumprod(passed, axis=1).sum(axis=1)  # last stage index reached
    means = np.array(world.move_days)
    stay = rng.gamma(2.0, means / 2.0, size=(n, steps))
    times = np.empty((n, steps + 1))
    times[:, 0] = created
    times[:, 1:] = created[:, None] + np.cumsum(stay, axis=1)
    horizon = (as_of - start).total_seconds() / 86_400
    entered_last = times[np.arange(n), final]
    lost_at = entered_last + rng.gamma(1.5, 1.5 * means[np.minimum(final, steps - 1)] / 1.5)
    failed = final < steps
    stalled = failed & (rng.random(n) < world.stall)
    won = (final == steps) & (entered_last < horizon)
    lost = failed & ~stalled & (lost_at < horizon)
    visible = (np.arange(steps + 1)[None, :] <= final[:, None]) & (times < horizon)
    deal_idx, stage_idx = np.nonzero(visible)
    us0 = _us(start)

    def stamp(days: np.ndarray) -> pd.Series:
        return pd.to_datetime(us0 + (days * 86_400e6).astype(np.int64), unit="us")

    ids = np.array([f"D{world.seed}-{i}" for i in range(n)], dtype=object)
    events = pd.DataFrame(
        {
            "deal_id": ids[deal_idx],
            "stage": np.array(world.stage_ids, dtype=object)[stage_idx],
            "entered_at": stamp(times[deal_idx, stage_idx]),
        }
    )
    closed = np.where(won, entered_last, np.where(lost, lost_at, np.nan))
    deals = pd.DataFrame(
        {
            "deal_id": ids,
            "created_at": stamp(created),
            "status": np.where(won, "won", np.where(lost, "lost", "open")).astype(object),
            "closed_at": stamp(np.nan_to_num(closed, nan=0.0)).where(~np.isnan(closed)),
            "amount": np.round(np.exp(rng.normal(11.0, 0.6, size=n)), 0),
        }
    )
    return events.sort_values(["deal_id", "entered_at"]).reset_index(drop=True), deals
