"""A working-time clock, so that the demo's managers work 9:00–20:00 on Russian business days.

Durations in the simulation are drawn in *working days* (11 working hours each) on a clock that
stops at night, at weekends and on public holidays; :func:`to_wall` maps that clock back to
calendar time. The map is monotone, so the order of a deal's events is kept.
"""

from __future__ import annotations

from functools import cache

import numpy as np

US_PER_MINUTE = 60_000_000
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR
DAY_START_US = 9 * US_PER_HOUR
WORKDAY_US = 11 * US_PER_HOUR
"""One working day on the clock: 9:00 to 20:00."""

_EPOCH = np.datetime64("2000-01-10", "D")  # a Monday, a business day
_HOLIDAYS = ("01-01", "01-02", "01-03", "01-04", "01-05", "01-06", "01-07", "01-08",
             "02-23", "03-08", "05-01", "05-09", "06-12", "11-04")


@cache
def _calendar() -> np.busdaycalendar:
    days = [np.datetime64(f"{y}-{md}") for y in range(1990, 2101) for md in _HOLIDAYS]
    return np.busdaycalendar(holidays=days)


def to_work(wall_us: np.ndarray) -> np.ndarray:
    """Calendar moments (µs since the epoch) → the working clock (µs of working time since a
    fixed Monday). A moment outside working time maps to the start of the next working day."""
    wall = np.asarray(wall_us, dtype=np.int64)
    day_us = wall - wall % US_PER_DAY
    day = day_us.astype("datetime64[us]").astype("datetime64[D]")
    cal = _calendar()
    before = np.busday_count(_EPOCH, day, busdaycal=cal).astype(np.int64)
    within = np.clip(wall - day_us - DAY_START_US, 0, WORKDAY_US)
    return before * WORKDAY_US + np.where(np.is_busday(day, busdaycal=cal), within, 0)


def to_wall(work_us: np.ndarray) -> np.ndarray:
    """The working clock → calendar moments (µs since the epoch); inverse of :func:`to_work`
    within working time."""
    work = np.asarray(work_us, dtype=np.int64)
    index = work // WORKDAY_US
    lo, hi = int(index.min(initial=0)), int(index.max(initial=0))
    # busday_offset is slow element by element; look the few thousand distinct days up instead.
    table = np.busday_offset(_EPOCH, np.arange(lo, hi + 1), roll="forward", busdaycal=_calendar())
    day_us = table.astype("datetime64[us]").astype(np.int64)[index - lo]
    return day_us + DAY_START_US + work % WORKDAY_US
