"""Whether the data is long enough for a forecast.

The forecast learns how fast deals of each age are won or lost and how many new deals come each
week, then runs them a month ahead. Data that covers a few hours or days has seen no deal grow
old: every open deal then looks like the fresh ones that were won, and no week of arrivals is
complete (a web-shop sample of two and a half hours forecast every one of its 1,856 open
sessions won: "most likely 1,906 to 1,906"). Below :data:`MIN_HISTORY_DAYS` of deals the forecast
is left out and the data-quality notes say why.
"""

from __future__ import annotations

import datetime as dt

from voronka.audit.forecast_inputs import month_bounds
from voronka.engine import EventLog, lead_volume
from voronka.i18n import note

MIN_HISTORY_DAYS = 28.0
"""Days of deals (first creation to the data's end) a forecast needs: four complete weeks."""


def short_history_note(log: EventLog) -> str | None:
    """A ``data_quality`` note (``forecast.note.too_short``) when the deals cover fewer than
    :data:`MIN_HISTORY_DAYS` days; None when they cover enough (or no deal has a creation
    time, which the forecast handles itself)."""
    weekly = lead_volume(log, period="week")
    if weekly.empty:
        return None
    days = float(weekly["exposure_days"].sum())
    if days >= MIN_HISTORY_DAYS:
        return None
    return note("forecast.note.too_short", days=round(days, 1), needed=int(MIN_HISTORY_DAYS))


def filtered_history_note(log: EventLog, period_start: dt.date | None) -> str | None:
    """A ``data_quality`` note (``forecast.note.filtered_before``) when a filter kept only deals
    created before the forecast's period (``period_start``; None: the month of ``as_of``, as
    the forecast's default): the period's own new deals are filtered out, so a forecast would
    count none of them ("0 won, most likely 0 to 0"). None otherwise."""
    until = log.created_window[1]
    if period_start is None:
        period_start = month_bounds(log.as_of.date())[0]
    if until is None or until > dt.datetime.combine(period_start, dt.time()):
        return None
    last_day = (until - dt.timedelta(microseconds=1)).date()
    return note("forecast.note.filtered_before", until=last_day.isoformat(),
                start=period_start.isoformat())
