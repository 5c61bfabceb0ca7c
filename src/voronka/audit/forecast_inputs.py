"""What the forecast's Monte Carlo starts from besides the rates (:mod:`voronka.audit.forecast`):
the expected new leads of each day to the period's end, the largest open deals followed one by
one, and the calendar of the plan period.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from voronka.audit.arrivals import LeadOutlook, lead_outlook
from voronka.audit.hazards import FloatArray, OpenCells
from voronka.audit.simulate import Arrivals, BigDeals

DAY = dt.timedelta(days=1)

PATTERN_DAYS = 56
"""Whole days before ``as_of`` the weekday pattern of new leads is read from."""


def big_deals(largest: pd.DataFrame | None, cells: OpenCells, edges: FloatArray) -> tuple[
    BigDeals | None, OpenCells
]:
    """The largest open deals (engine: ``stage_index``, ``days``, ``amount``) as :class:`BigDeals`,
    and the open cells without them (each taken out of its stage × days bucket)."""
    if largest is None or largest.empty:
        return None, cells
    stage = largest["stage_index"].to_numpy(dtype=np.int64)
    age = largest["days"].to_numpy(dtype=np.float64)
    bucket_of_cell = np.searchsorted(edges, cells.age, side="right") - 1
    count = cells.count.copy()
    keep = np.zeros(stage.shape[0], dtype=bool)
    for i, (k, a) in enumerate(zip(stage, age, strict=True)):
        b = np.searchsorted(edges, a, side="right") - 1
        hit = np.flatnonzero((cells.stage == k) & (bucket_of_cell == b) & (count > 0))
        if hit.size:  # a deal of the histogram: follow it alone instead
            count[hit[0]] -= 1
            keep[i] = True
    if not keep.any():
        return None, cells
    big = BigDeals(stage=stage[keep], age=age[keep],
                   amount=largest["amount"].to_numpy(dtype=np.float64)[keep])
    return big, OpenCells(stage=cells.stage, age=cells.age, count=count)


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the calendar month containing ``day``."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _days(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 86_400.0


def future_arrivals(
    arrivals: pd.DataFrame,
    *,
    arrival_days: int,
    as_of: dt.datetime,
    until: dt.datetime,
    n_stages: int,
    outlook: bool = False,
) -> tuple[Arrivals, LeadOutlook | None]:
    """Expected new leads per calendar day from ``as_of`` to ``until`` (weekday pattern kept).

    The rate for weekday *w* is the leads that arrived on weekday *w* in the window divided by the
    number of weekday-*w* days in it (the window is the last ``min(arrival_days, 56)`` whole days
    before ``as_of``'s date). A part-day at ``as_of`` gets its fraction of the day's rate. With
    ``outlook``, the level comes from the lead model of :mod:`voronka.audit.arrivals` fitted on all
    the ``arrival_days`` (trend, season, overdispersion), the pattern from the recent weeks.
    """
    history = arrivals
    arrival_days = min(arrival_days, PATTERN_DAYS)
    first_day = as_of.date() - dt.timedelta(days=arrival_days)
    if len(arrivals):
        arrivals = arrivals[arrivals["day"] >= first_day]
    window = [first_day + dt.timedelta(days=i) for i in range(arrival_days)]
    days_per_weekday = np.bincount([d.weekday() for d in window], minlength=7)
    leads_per_weekday = np.zeros(7)
    entry = np.zeros(n_stages)
    total = 0.0
    if len(arrivals):
        weekday = np.array([d.weekday() for d in arrivals["day"]], dtype=np.int64)
        deals = arrivals["deals"].to_numpy(dtype=np.float64)
        np.add.at(leads_per_weekday, weekday, deals)
        stage = np.clip(arrivals["stage_index"].to_numpy(dtype=np.int64), 0, n_stages - 1)
        np.add.at(entry, stage, deals)
        total = float(deals.sum())
    rate = leads_per_weekday / np.maximum(days_per_weekday, 1)
    starts: list[float] = []
    lengths: list[float] = []
    means: list[float] = []
    moment = as_of
    while moment < until:
        next_midnight = min(_midnight(moment.date()) + DAY, until)
        length = _days(next_midnight - moment)
        starts.append(_days(moment - as_of))
        lengths.append(length)
        means.append(rate[moment.weekday()] * length)
        moment = next_midnight
    if entry.sum() == 0:
        entry[0] = 1.0
    out = Arrivals(
        starts=np.array(starts),
        lengths=np.array(lengths),
        means=np.array(means),
        entry_probs=entry / entry.sum(),
        rate_shape=total,
    )
    model = lead_outlook(history, as_of, out.starts, out.lengths) if outlook and starts else None
    if model is None or out.means.sum() <= 0:
        return out, None
    scaled = out.means * (model.expected / out.means.sum())
    return dataclasses.replace(
        out, means=scaled, rate_shape=0.0, log_sd=model.log_sd, dispersion=model.dispersion
    ), model
