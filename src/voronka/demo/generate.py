"""The seeded, vectorised simulation of the demo company's CRM history.

Each deal is drawn once, whole: its creation moment (growth, seasonality, weekdays, sources), its
manager and amount, then its way down the funnel — at each stage a Bernoulli draw with a
stage-, source- and manager-specific probability decides whether it moves on, and a gamma draw
how long it stays. A deal that stops is lost some days later (or, for a few, never closed: they
stay open and get stuck). Everything later than ``as_of`` (the end of the period) is cut off,
which leaves the recent deals open mid-way. All of it is numpy on arrays of deals × stages, so a
million deals take seconds.

The fields a deal carries besides its way (amount, campaign, lost reason, meeting) and the ad
spend are drawn by :mod:`voronka.demo.fields`; the data-entry errors by :mod:`voronka.demo.noise`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from voronka.demo import clock, noise
from voronka.demo.clock import US_PER_MINUTE, WORKDAY_US
from voronka.demo.fields import (
    amounts,
    campaigns,
    lost_reasons,
    meeting_fields,
    monthly_spend,
    shares,
)
from voronka.demo.profile import (
    BASE_CONVERSION,
    EXHIBITION_MONTHS,
    GAMMA_SHAPE,
    LOST_EVENT_SHARE,
    LOST_STAGE_NAME,
    MANAGERS,
    MEAN_DAYS,
    PROCESS_STAGE_SLOWDOWN,
    PROCESS_STAGE_STALL_SHARE,
    SKILL_STAGES,
    SOURCES,
    STAGE_IDS,
    STALL_SHARE,
    DemoEffects,
    DemoTruth,
    add_months,
)
from voronka.funnel import Funnel, load_template

N_STEPS = len(STAGE_IDS) - 1  # transitions: stage k → k + 1
FIRST_DEAL_ID = 24_000_001  # CRMs number deals sequentially; this looks like an amoCRM id

SEASON = {1: 0.8, 2: 0.95, 3: 1.05, 4: 1.05, 5: 0.9, 6: 0.95, 7: 0.85, 8: 0.85, 9: 1.1,
          10: 1.15, 11: 1.15, 12: 1.0}
WEEKDAY = (1.15, 1.2, 1.15, 1.1, 0.95, 0.3, 0.2)  # Monday … Sunday
GROWTH = 1.5  # lead volume at the end of the period relative to its start
KEY_STAGE_CONVERSION = 0.985
KEY_STAGE_EARLY_FACTOR = 0.8
KEY_STAGE_NOISE = 0.25  # sd of the log of the month-to-month factor before the key stage
MAX_CONVERSION = 0.99


@dataclass(frozen=True)
class DemoData:
    """A generated CRM history of the demo company.

    Attributes:
        events: one row each time a deal entered a stage: ``deal_id`` (str), ``stage`` (the name
            as the CRM writes it, typos included), ``entered_at`` (datetime64, minute precision;
            NaT where the CRM wrote garbage) and ``entered_at_text`` (that garbage, else null).
            Sorted by time as an export would be; planted errors included.
        deals: one row a deal: ``deal_id``, ``created_at``, ``source``, ``campaign``, ``manager``,
            ``amount`` (roubles), ``status`` (``open``/``won``/``lost``), ``closed_at``,
            ``lost_reason``, ``meeting_at``, ``meeting_place``.
        spend: ad costs: ``source``, ``campaign``, ``month`` (datetime64, first day), ``cost``.
        funnel: the 11-stage reference funnel with limits, benchmarks and entry requirements
            (and the process names of :attr:`DemoEffects.process_stages`).
        as_of: the moment the data describes: the end of the period.
        truth: the parameters and planted effects and errors.
    """

    events: pd.DataFrame
    deals: pd.DataFrame
    spend: pd.DataFrame
    funnel: Funnel
    as_of: datetime
    truth: DemoTruth


def generate_demo(
    n_deals: int = 20_000,
    *,
    seed: int = 0,
    start: date = date(2025, 5, 1),
    months: int = 18,
    effects: DemoEffects | None = None,
    end_day: int | None = None,
) -> DemoData:
    """Generate the demo company's CRM history: ``n_deals`` deals created over ``months`` months.

    The same arguments always give the same data. ``effects=None`` plants the demo's story
    (:meth:`DemoEffects.default`); pass :meth:`DemoEffects.stable_funnel` for a funnel where
    nothing changes. Conversion effects apply to deals by their creation date. The period runs
    from the first day of ``start``'s month for ``months`` whole months; ``as_of`` is its end —
    or, with ``end_day``, day ``end_day`` of the last month (an export taken mid-month, so that the
    month's plan is still open).
    """
    if n_deals < 10:
        raise ValueError("n_deals must be at least 10")
    if months < 1:
        raise ValueError("months must be at least 1")
    if effects is None:
        effects = DemoEffects.default(start, months)
    effects.validate()
    rng = np.random.default_rng(seed)
    start = date(start.year, start.month, 1)
    end = add_months(start, months)
    if end_day is not None:
        # The export was taken mid-month: the last month is cut off after day ``end_day - 1``.
        last = add_months(start, months - 1)
        if not 2 <= end_day <= 28:
            raise ValueError("end_day must be between 2 and 28")
        end = last.replace(day=end_day)
    as_of_us = _us(end)

    created, src = _arrivals(rng, n_deals, start, end, effects)
    mgr = rng.choice(len(MANAGERS), size=n_deals, p=shares([m.share for m in MANAGERS]))
    amount = amounts(rng, src)
    campaign = campaigns(rng, src)
    month_index = _month_index(created, start)

    conversion, prob = _conversion(rng, effects, created, src, mgr, month_index, months)
    passed = rng.random((n_deals, N_STEPS)) < prob
    del prob
    final = np.cumprod(passed, axis=1).sum(axis=1)  # index of the last stage the deal reaches
    del passed

    mean_days = {
        s: MEAN_DAYS[s] * (PROCESS_STAGE_SLOWDOWN if s in effects.process_stages else 1.0)
        for s in STAGE_IDS[:-1]
    }
    means = np.array([mean_days[s] for s in STAGE_IDS[:-1]])
    # Days in stage run on the working clock (9:00–20:00 on business days), so that events fall
    # in office hours; exports show minutes, so every moment is whole minutes.
    stay = rng.gamma(GAMMA_SHAPE, means / GAMMA_SHAPE, size=(n_deals, N_STEPS)) * WORKDAY_US
    work = np.empty((n_deals, len(STAGE_IDS)), dtype=np.int64)
    work[:, 0] = clock.to_work(created)
    work[:, 1:] = work[:, :1] + np.cumsum(stay, axis=1).astype(np.int64)
    del stay
    work[:, 1:] -= work[:, 1:] % US_PER_MINUTE
    times = np.empty_like(work)
    times[:, 0] = created
    times[:, 1:] = clock.to_wall(work[:, 1:])

    # Deals that stop: lost some days after entering their last stage, or never closed (stalled).
    failed = final < N_STEPS
    last_idx = np.minimum(final, N_STEPS - 1)
    stall_share = np.array([
        PROCESS_STAGE_STALL_SHARE if s in effects.process_stages else STALL_SHARE
        for s in STAGE_IDS[:-1]
    ])
    stalled = failed & (rng.random(n_deals) < stall_share[last_idx])
    lost_mean = np.maximum(3.0, 2.0 * means)[last_idx]
    lost_work = work[np.arange(n_deals), final] + (
        rng.gamma(1.5, lost_mean / 1.5) * WORKDAY_US
    ).astype(np.int64)
    lost_at = clock.to_wall(lost_work - lost_work % US_PER_MINUTE)
    entered_last = times[np.arange(n_deals), final]

    won = (final == N_STEPS) & (entered_last < as_of_us)
    lost = failed & ~stalled & (lost_at < as_of_us)
    status = np.where(won, "won", np.where(lost, "lost", "open")).astype(object)
    closed_at = np.where(won, entered_last, np.where(lost, lost_at, np.iinfo(np.int64).min))

    stage_index = np.arange(len(STAGE_IDS))
    visible = (stage_index[None, :] <= final[:, None]) & (times < as_of_us)
    ev_deal, ev_stage = np.nonzero(visible)
    ev_time = times[ev_deal, ev_stage]
    lost_event = lost & (rng.random(n_deals) < LOST_EVENT_SHARE)
    lost_deals = np.nonzero(lost_event)[0]
    events = noise.EventArrays(
        deal=np.concatenate([ev_deal, lost_deals]),
        stage=np.concatenate([ev_stage, np.full(len(lost_deals), noise.LOST_CODE)]),
        time=np.concatenate([ev_time, lost_at[lost_deals]]),
    )
    visible_count = visible.sum(axis=1)
    reached_meeting = visible[:, STAGE_IDS.index("meeting_scheduled") :].any(axis=1)

    funnel = demo_funnel(effects)
    stage_names = tuple(s.name for s in funnel.stages)
    deal_ids = np.array([str(FIRST_DEAL_ID + i) for i in range(n_deals)], dtype=object)

    meeting_at, meeting_place, missing = meeting_fields(
        rng, work[:, STAGE_IDS.index("meeting_scheduled")], reached_meeting
    )
    del times, work
    events_frame, errors = noise.plant_and_frame(
        rng, events, visible_count, created, deal_ids, stage_names, LOST_STAGE_NAME,
        as_of_us, effects.data_errors, missing,
    )

    deals = pd.DataFrame({
        "deal_id": deal_ids,
        "created_at": _dt(created),
        "source": np.array([s.name for s in SOURCES], dtype=object)[src],
        "campaign": campaign,
        "manager": np.array([m.name for m in MANAGERS], dtype=object)[mgr],
        "amount": amount,
        "status": status,
        "closed_at": _dt(closed_at),
        "lost_reason": lost_reasons(rng, final, lost),
        "meeting_at": _dt(meeting_at),
        "meeting_place": meeting_place,
    })
    spend = monthly_spend(rng, src, campaign, month_index, start, months)

    stable = effects.stable
    truth = DemoTruth(
        seed=seed,
        n_deals=n_deals,
        start=start,
        months=months,
        as_of=datetime(end.year, end.month, end.day),
        effects=effects,
        stage_names=dict(zip(STAGE_IDS, stage_names, strict=True)),
        conversion=conversion,
        mean_days=mean_days,
        source_share={s.name: s.share for s in SOURCES},
        source_conversion={
            s.name: {k: (1.0 if stable else s.conversion.get(k, 1.0)) for k in BASE_CONVERSION}
            for s in SOURCES
        },
        source_median_amount={s.name: s.median_amount for s in SOURCES},
        source_cost_per_lead={s.name: s.cost_per_lead for s in SOURCES},
        manager_skill={m.name: (1.0 if stable else m.skill) for m in MANAGERS},
        errors=errors,
    )
    return DemoData(events_frame, deals, spend, funnel, truth.as_of, truth)


def demo_funnel(effects: DemoEffects | None = None) -> Funnel:
    """The demo's funnel: the reference template with limits, benchmarks, the meeting's entry
    requirements, and the process names of ``effects.process_stages``."""
    base = load_template("reference")
    limits = {"new_request": 3.0, "qualified": 7.0, "meeting_scheduled": 14.0,
              "invoice_sent": 14.0, "in_production": 30.0}
    benchmarks = {"new_request": 0.6, "qualified": 0.6, "meeting_scheduled": 0.8,
                  "invoice_sent": 0.75}
    renames = dict(effects.process_stages) if effects else {}
    stages = []
    for stage in base.stages:
        changes: dict[str, Any] = {
            "max_days": limits.get(stage.id), "benchmark": benchmarks.get(stage.id)
        }
        if stage.id == "meeting_scheduled":
            changes["requires"] = ("meeting_at", "meeting_place")
        if stage.id in renames:
            # The CRM calls the stage by its process name; the reference name stays an alias.
            changes["name"] = renames[stage.id]
            changes["aliases"] = (stage.name, *stage.aliases)
            changes["names"] = {}
        stages.append(replace(stage, **changes))
    return replace(
        base, name="Демо: производство на заказ", stages=tuple(stages), origin="file",
        template=None,
    )


# -- pieces ------------------------------------------------------------------------------------


def _arrivals(
    rng: np.random.Generator, n: int, start: date, end: date, effects: DemoEffects
) -> tuple[np.ndarray, np.ndarray]:
    """Creation moments (µs, sorted) and source indexes of ``n`` leads."""
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D"))
    n_days = len(days)
    month = days.astype("datetime64[M]").astype(int) % 12 + 1
    day_of_month = (days - days.astype("datetime64[M]")).astype(int) + 1
    weekday = (days.astype(int) + 3) % 7  # 1970-01-01 was a Thursday
    base = np.array(WEEKDAY)[weekday]
    shares = np.array([s.share for s in SOURCES])
    intensity = np.tile(shares, (n_days, 1)) * base[:, None]
    if not effects.stable:
        frac = np.arange(n_days) / n_days
        season = np.array([SEASON[m] for m in month]) * np.where(
            (month == 1) & (day_of_month <= 8), 0.25, 1.0
        )
        intensity *= (GROWTH**frac * season)[:, None]
        shows = np.isin(month, EXHIBITION_MONTHS)
        intensity[:, _source_index("Выставки")] *= np.where(shows, 3.0, 0.45)
    for shift in effects.volume_shifts:
        after = days >= np.datetime64(shift.start, "D")
        intensity[after, _source_index(shift.source)] *= shift.factor
    per_day = intensity.sum(axis=1)
    day = rng.choice(n_days, size=n, p=per_day / per_day.sum())
    cum = np.cumsum(intensity / per_day[:, None], axis=1)
    src = (rng.random(n)[:, None] > cum[day][:, :-1]).sum(axis=1)
    # Most leads arrive in working hours, some in the evening or at night (site forms).
    office = rng.random(n) < 0.85
    minutes = np.where(office, rng.integers(9 * 60, 19 * 60, n), rng.integers(0, 24 * 60, n))
    created = (days[day].astype("datetime64[us]").astype(np.int64) + minutes * US_PER_MINUTE)
    order = np.argsort(created, kind="stable")
    return created[order], src[order]


def _conversion(
    rng: np.random.Generator,
    effects: DemoEffects,
    created: np.ndarray,
    src: np.ndarray,
    mgr: np.ndarray,
    month_index: np.ndarray,
    months: int,
) -> tuple[dict[str, float], np.ndarray]:
    """Base conversions used, and the deals × transitions matrix of probabilities to move on."""
    base = dict(BASE_CONVERSION)
    steps = STAGE_IDS[:-1]
    key = effects.key_stage
    if key is not None:
        k = STAGE_IDS.index(key)
        base = {s: (KEY_STAGE_CONVERSION if i >= k else base[s] * KEY_STAGE_EARLY_FACTOR)
                for i, s in enumerate(steps)}
    prob = np.tile(np.array([base[s] for s in steps]), (len(created), 1))
    if not effects.stable:
        by_source = np.array([[s.conversion.get(st, 1.0) for st in steps] for s in SOURCES])
        prob *= by_source[src]
        skill = np.array([
            [m.skill if st in SKILL_STAGES else 1.0 for st in steps] for m in MANAGERS
        ])
        prob *= skill[mgr]
    if key is not None:
        k = STAGE_IDS.index(key)
        month_noise = np.ones((months, N_STEPS))
        month_noise[:, :k] = np.exp(rng.normal(0.0, KEY_STAGE_NOISE, size=(months, k)))
        prob *= month_noise[month_index]
    for leak in effects.manager_leaks:
        rows = mgr == _manager_index(leak.manager)
        prob[rows, steps.index(leak.stage)] *= leak.factor
    for shift in effects.conversion_shifts:
        rows = np.nonzero((src == _source_index(shift.source)) & (created >= _us(shift.start)))[0]
        cols = np.arange(N_STEPS) if shift.stage is None else np.array([steps.index(shift.stage)])
        prob[np.ix_(rows, cols)] *= shift.factor
    np.clip(prob, 0.0, MAX_CONVERSION, out=prob)
    return base, prob


def _month_index(created: np.ndarray, start: date) -> np.ndarray:
    month = created.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
    return (month - np.datetime64(start, "M").astype(np.int64)).astype(np.int64)


def _dt(us: np.ndarray) -> np.ndarray:
    """µs since the epoch (int64 minimum = missing) as datetime64[us] with NaT."""
    return np.asarray(us, dtype=np.int64).view("datetime64[us]")


def _us(day: date) -> int:
    return int(np.datetime64(day, "D").astype("datetime64[us]").astype(np.int64))


def _source_index(name: str) -> int:
    return [s.name for s in SOURCES].index(name)


def _manager_index(name: str) -> int:
    return [m.name for m in MANAGERS].index(name)
