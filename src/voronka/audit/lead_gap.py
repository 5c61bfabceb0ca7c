"""New deals that stop well before the data's end: a cut export, or leads no longer reaching the CRM.

Read as they are, the weeks without a new deal would make the anomaly scan report a collapse of
lead volume (and a rise or fall of each source measured over weeks the data does not cover). When
the run is long and the rate before it makes such a run implausible by chance — at that rate it
would have held at least :data:`MIN_EXPECTED` new deals (Poisson: the chance of none is
``e^-10``, about 5 in 100,000) — the lead volumes end where the new deals do (:func:`lead_stop`),
as they end with a filter's period of creation, and the data-quality notes say so
(:func:`lead_gap_note`), so that the first screen does not blame the market for an export's cut.
"""

from __future__ import annotations

import datetime as dt

from voronka.engine import EventLog, last_lead_at, lead_volume
from voronka.i18n import note

MIN_GAP_DAYS = 7.0
"""The shortest time without a new deal at the end of the data that is noted: a week (the BPIC
2012 loan log has none in its last 13 days, against about 590 a week before)."""

MIN_EXPECTED = 10.0
"""New deals the run would have held at the rate before it, at least."""


def lead_stop(log: EventLog) -> dt.datetime | None:
    """When new deals stopped reaching the data: the latest creation time, when at least
    :data:`MIN_GAP_DAYS` follow it to the data's end (or a filter's period of creation) and the
    rate before it would have brought :data:`MIN_EXPECTED` deals in them; None otherwise. The
    lead volumes the anomaly scan reads end there: the weeks after it are not covered by the
    data, as the weeks after a filter's period are not."""
    last = last_lead_at(log)
    if last is None:
        return None
    end = _data_end(log)
    gap_days = (end - last).total_seconds() / 86400
    if gap_days < MIN_GAP_DAYS:
        return None
    weekly = lead_volume(log, period="week", until=last)
    exposure = float(weekly["exposure_days"].sum())
    if exposure <= 0 or float(weekly["leads"].sum()) / exposure * gap_days < MIN_EXPECTED:
        return None
    return last


def lead_gap_note(log: EventLog, stop: dt.datetime | None) -> str | None:
    """A ``data_quality`` note (``quality.note.leads_stop``) for new deals that stopped at
    ``stop`` (:func:`lead_stop`); None without a stop."""
    if stop is None:
        return None
    weekly = lead_volume(log, period="week", until=stop)
    per_day = float(weekly["leads"].sum()) / float(weekly["exposure_days"].sum())
    end = _data_end(log)
    week = stop.date() - dt.timedelta(days=stop.weekday())
    return note("quality.note.leads_stop", week=week.isoformat(),
                days=round((end - stop).total_seconds() / 86400),
                as_of=end.date().isoformat(), per_week=round(per_day * 7, 1))


def _data_end(log: EventLog) -> dt.datetime:
    """Where the data's new deals could end: ``as_of``, or a filter's period of creation."""
    until = log.created_window[1]
    return log.as_of if until is None else min(log.as_of, until)
