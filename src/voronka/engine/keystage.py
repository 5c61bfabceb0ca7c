"""The aggregates of the key stage (entry cohorts × stage, how long a win takes).

A deal's **entry cohort** is the week (or month) its path began (its reach time of the first stage
of the line). Per cohort and stage: the deals of the cohort that reached the stage by ``as_of`` and,
of them, those won. The audit (``voronka.audit.key_stage``) reads only these counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from voronka.engine.flow import WIN_LEVELS, win_quantiles
from voronka.engine.ladder import climb, top_groups

if TYPE_CHECKING:
    from voronka.engine.log import EventLog

PERIODS = {"week": "W", "month": "M"}


def cohort_reach(log: EventLog, period: str = "week") -> pd.DataFrame:
    """Per ``cohort`` (date: Monday of the entry week, or the month's first day) × ``stage_index``:
    ``reached`` and ``won`` (of them, won). Only deals whose path begins at the first stage.

    Every deal with a stage of the line reached the first one, and reached exactly the stages up
    to its furthest (:mod:`voronka.engine.ladder`): one join of the deals' first-stage rows with
    the deal summary, grouped by cohort × furthest stage × outcome, then summed per stage."""
    reached = log.reached_at()
    starts = reached.filter(reached.stage_index == 0).select(
        "deal_id", cohort=reached.reached_at.truncate(PERIODS[period]).date()
    )
    deals = log.deal_summary().select("deal_id", "max_stage_index", "outcome")
    frame = log.frame(top_groups(starts.join(deals, "deal_id"), ["cohort"]))
    frame["cohort"] = pd.to_datetime(frame["cohort"]).dt.date
    frame = climb(frame, ["cohort"], log.require_funnel().won_index + 1)
    frame = frame[frame["reached"] > 0][["cohort", "stage_index", "reached", "won"]]
    return frame.sort_values(["cohort", "stage_index"]).reset_index(drop=True)


def days_to_win_quantiles(log: EventLog, levels: tuple[float, ...] = WIN_LEVELS) -> pd.DataFrame:
    """Per ``stage_index``: the quantiles (``q50``, ``q90`` …) of the days from reaching the stage
    to the win, over won deals, and ``won`` (how many)."""
    return win_quantiles(log, levels)
