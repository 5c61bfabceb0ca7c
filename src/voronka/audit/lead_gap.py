"""New deals that stop well before the data's end: a cut export, or leads no longer reaching the CRM.

The anomaly scan reads the weeks without a new deal as a collapse of lead volume, which they are
in the data; this note says what such a run of empty weeks at the end most often is, so that the
first screen does not blame the market for an export's cut. It is raised only when the run is
long and the weeks before it make an empty run that long implausible by chance: at the rate of the
weeks with deals, the run would have held at least :data:`MIN_EXPECTED` new deals (Poisson: the
chance of none is ``e^-10``, about 5 in 100,000).
"""

from __future__ import annotations

from voronka.engine import EventLog, lead_volume
from voronka.i18n import note

MIN_GAP_DAYS = 7.0
"""The shortest run of days without a new deal at the end of the data that is noted: a whole
calendar week (the BPIC 2012 loan log has none in its last 9.6 days, against 640 a week before;
a New Year's break ending just before the export leaves a part of a week, not a whole one)."""

MIN_EXPECTED = 10.0
"""New deals the run would have held at the rate before it, at least."""


def lead_gap_note(log: EventLog) -> str | None:
    """A ``data_quality`` note (``quality.note.leads_stop``) when no deal was created over the
    last weeks of the data though deals kept coming before; None otherwise."""
    weekly = lead_volume(log, period="week")
    if weekly.empty:
        return None
    with_leads = weekly[weekly["leads"] > 0]
    if with_leads.empty:
        return None
    last = max(with_leads["period"])
    before = weekly[weekly["period"] <= last]
    gap_days = float(weekly.loc[weekly["period"] > last, "exposure_days"].sum())
    exposure = float(before["exposure_days"].sum())
    if gap_days < MIN_GAP_DAYS or exposure <= 0:
        return None
    per_day = float(before["leads"].sum()) / exposure
    if per_day * gap_days < MIN_EXPECTED:
        return None
    return note("quality.note.leads_stop", week=last.isoformat(), days=round(gap_days),
                as_of=log.as_of.date().isoformat(), per_week=round(per_day * 7, 1))
