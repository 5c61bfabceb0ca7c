"""The ``pileups`` section: stages where open deals accumulate (Little's law).

Residence time by Little's law: in a steady state, the average number of deals in a stage equals
the rate at which they leave it times the average time they spend there (L = λW), so
``residence_days = open / weekly_throughput × 7``. A stage is **flagged** as a pile-up when it
holds at least :data:`MIN_OPEN` open deals and either nobody left it in the 13 weeks before
``as_of`` (residence unbounded), or its residence is more than :data:`FLAG_RATIO` times the
median residence of the funnel's stages before the won stage and at least :data:`MIN_RESIDENCE_DAYS`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median

import pandas as pd

from voronka.audit.statuses import StatusVerdict
from voronka.engine import EventLog, open_ages, stage_throughput
from voronka.funnel import Funnel

FLAG_RATIO = 2.0
"""A stage's residence above this multiple of the funnel's median residence is a pile-up."""

MIN_OPEN = 5
"""Fewer open deals than this never make a pile-up (a handful of deals is noise)."""

MIN_RESIDENCE_DAYS = 14.0
"""A residence shorter than two weeks is not a pile-up, however it compares."""


@dataclass(frozen=True)
class Pileup:
    """Accumulation in one stage.

    Attributes:
        stage: stage id.
        open: open deals in the stage.
        weekly_throughput: deals leaving it per week over the last 13 weeks.
        residence_days: open / throughput, in days (None when nobody left it in 13 weeks).
        left_13w: deals that left the stage in the 13 weeks before ``as_of``.
        age_quantiles_days: days in stage of its open deals: ``p25``, ``median``, ``p75``,
            ``p90``, ``max`` (empty without open deals).
        age_buckets: open deals per age bucket (``0-7``, ``7-30``, ``30-90``, ``90+`` days).
        ratio_to_median: ``residence_days`` over the funnel's median residence (None when either
            is undefined).
        flagged: the stage is a pile-up by the rule in the module docstring.
        process_name: the stage's name was judged a process (the usual cause of a pile-up).
    """

    stage: str
    open: int
    weekly_throughput: float
    residence_days: float | None
    left_13w: int = 0
    age_quantiles_days: Mapping[str, float] = field(default_factory=dict)
    age_buckets: Mapping[str, int] = field(default_factory=dict)
    ratio_to_median: float | None = None
    flagged: bool = False
    process_name: bool = False


def residence_days(open_deals: int, weekly_throughput: float) -> float | None:
    """Little's law: ``W = L / λ`` with λ in deals per week, in days; 0 for an empty stage,
    None when deals are waiting and none left (no finite estimate)."""
    if open_deals == 0:
        return 0.0
    if weekly_throughput <= 0:
        return None
    return open_deals / weekly_throughput * 7.0


_BUCKETS = {"age_0_7": "0-7", "age_7_30": "7-30", "age_30_90": "30-90", "age_90_plus": "90+"}
_QUANTILES = {
    "p25_days": "p25",
    "median_days": "median",
    "p75_days": "p75",
    "p90_days": "p90",
    "max_days": "max",
}


def pileups_from_aggregates(
    funnel: Funnel,
    throughput: pd.DataFrame,
    ages: pd.DataFrame,
    statuses: Sequence[StatusVerdict] = (),
) -> tuple[Pileup, ...]:
    """Pile-ups from the engine's ``stage_throughput`` and ``open_ages`` frames (pure)."""
    process = {s.stage for s in statuses if s.verdict == "process"}
    merged = throughput.merge(ages, on=["stage_id", "stage_index"])
    rows = []
    for r in merged.itertuples(index=False):
        res = residence_days(int(r.open), float(r.weekly_throughput))
        rows.append((r, res))
    typical = [res for r, res in rows if res is not None and int(r.stage_index) < funnel.won_index]
    typical_res = median(typical) if typical else None
    out: list[Pileup] = []
    for r, res in rows:
        ratio = res / typical_res if res is not None and typical_res else None
        before_won = int(r.stage_index) < funnel.won_index
        flagged = (
            before_won
            and int(r.open) >= MIN_OPEN
            and (
                res is None
                or (ratio is not None and ratio > FLAG_RATIO and res >= MIN_RESIDENCE_DAYS)
            )
        )
        quantiles = {
            label: float(getattr(r, col))
            for col, label in _QUANTILES.items()
            if not math.isnan(float(getattr(r, col)))
        }
        out.append(
            Pileup(
                stage=str(r.stage_id),
                open=int(r.open),
                weekly_throughput=float(r.weekly_throughput),
                residence_days=res,
                left_13w=int(r.left),
                age_quantiles_days=quantiles,
                age_buckets={label: int(getattr(r, col)) for col, label in _BUCKETS.items()},
                ratio_to_median=ratio,
                flagged=bool(flagged),
                process_name=str(r.stage_id) in process,
            )
        )
    return tuple(out)


def build_pileups(log: EventLog, statuses: Sequence[StatusVerdict] = ()) -> tuple[Pileup, ...]:
    """The ``pileups`` section for every stage of the log's funnel, in funnel order."""
    funnel = log.funnel
    if funnel is None:
        raise RuntimeError("this needs a funnel: build the log with one or call with_funnel")
    return pileups_from_aggregates(
        funnel, stage_throughput(log), open_ages(log), statuses
    )
