"""Mature conversion: each stage's rate counting only deals that have had time to move on.

A deal that entered a stage yesterday has not "failed" to reach the next one; counting it as a
failure makes every rate fall whenever lead volume grows. For the step k → k+1 the *horizon* is
the historic p90 of the days from reaching k to reaching k+1 (among deals that did); a deal is
*mature* for the step once it reached k at least the horizon before ``as_of``. Two rates follow
(docs/methods.md):

* **mature conversion** — mature deals that reached k+1 (ever) / mature deals: the rate used by
  the leaks section and reported beside the raw one;
* **horizon conversion** — mature deals that reached k+1 *within the horizon* / mature deals:
  every cohort gets the same time (reported; it confounds a slower funnel, e.g. over public
  holidays, with a worse one).

The anomalies section compares periods, so it uses a longer *settled* horizon (the p99 of the
same times): deals that reached k that long ago have, almost all, moved on if they ever will, so
"reached k+1 ever" is final for them and comparable across periods, holidays included.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from voronka.audit.stats import wilson_interval
from voronka.engine import EventLog, stage_cohorts, stage_horizons

DEFAULT_QUANTILE = 0.9
"""The quantile of time-to-next-stage used as the maturity horizon."""

SETTLED_QUANTILE = 0.99
"""The quantile of time-to-next-stage after which a cohort's conversion is taken as final."""


@dataclass(frozen=True)
class StageMaturity:
    """Raw and mature conversion of one step k → k+1 of the funnel.

    Attributes:
        stage: stage id (k).
        next_stage: id of the next stage (k+1).
        reached: deals that reached the stage.
        moved: of those, deals that reached the next stage.
        raw_conversion: ``moved / reached`` (None when nothing reached): mixes in young deals.
        horizon_days: the maturity horizon (p90 days to reach the next stage); None when no
            deal ever moved on, and then no deal is mature.
        mature: deals that reached the stage at least ``horizon_days`` before ``as_of``.
        mature_moved: of those, deals that reached the next stage.
        conversion: mature conversion ``mature_moved / mature`` (None when nothing is mature).
        conversion_ci: Wilson 95% interval of ``conversion``.
        moved_in_horizon: mature deals that reached the next stage within the horizon.
        horizon_conversion: ``moved_in_horizon / mature``: the fixed-horizon rate.
        median_days: median days to reach the next stage (deals that did).
        settled_days: p99 of the days to reach the next stage: the anomalies' horizon.
    """

    stage: str
    next_stage: str
    reached: int
    moved: int
    raw_conversion: float | None
    horizon_days: float | None
    mature: int
    mature_moved: int
    conversion: float | None
    conversion_ci: tuple[float, float] | None
    moved_in_horizon: int = 0
    horizon_conversion: float | None = None
    median_days: float | None = None
    settled_days: float | None = None


@dataclass(frozen=True)
class MaturityReport:
    """Mature conversion for every step of the funnel's line.

    Attributes:
        stages: one entry per stage before the won stage, in funnel order.
        quantile: the quantile of time-to-next-stage used as the horizon.
    """

    stages: tuple[StageMaturity, ...]
    quantile: float = DEFAULT_QUANTILE

    def horizons(self, *, settled: bool = False) -> dict[int, float]:
        """Stage index → horizon days (``settled``: the p99 horizon), for the engine's cohort
        counts; stages without one are left out."""
        out: dict[int, float] = {}
        for i, s in enumerate(self.stages):
            days = s.settled_days if settled else s.horizon_days
            if days is not None:
                out[i] = days
        return out

    def stage(self, stage_id: str) -> StageMaturity:
        """The entry of ``stage_id``."""
        for s in self.stages:
            if s.stage == stage_id:
                return s
        raise KeyError(stage_id)


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den > 0 else None


def _optional(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def build_maturity(log: EventLog, *, quantile: float = DEFAULT_QUANTILE) -> MaturityReport:
    """Raw and mature conversion per stage of ``log``'s funnel (see the module docstring)."""
    funnel = log.funnel
    if funnel is None:
        raise ValueError("build_maturity needs a log with a funnel")
    horizons = stage_horizons(log, quantile=quantile)
    horizon_map = dict(zip(horizons["stage_index"], horizons["horizon_days"], strict=True))
    counts = stage_cohorts(log, horizon_map).set_index("stage_index")
    stages = []
    for row in horizons.itertuples(index=False):
        k = int(row.stage_index)
        c = counts.loc[k] if k in counts.index else pd.Series(0, index=counts.columns)
        mature, mature_moved = int(c["mature"]), int(c["mature_moved"])
        ci = wilson_interval(mature_moved, mature) if mature > 0 else None
        stages.append(
            StageMaturity(
                stage=funnel.stage_ids[k],
                next_stage=funnel.stage_ids[k + 1],
                reached=int(c["reached"]),
                moved=int(c["moved"]),
                raw_conversion=_ratio(c["moved"], c["reached"]),
                horizon_days=_optional(row.horizon_days),
                mature=mature,
                mature_moved=mature_moved,
                conversion=_ratio(mature_moved, mature),
                conversion_ci=ci,
                moved_in_horizon=int(c["moved_in_horizon"]),
                horizon_conversion=_ratio(c["moved_in_horizon"], mature),
                median_days=_optional(row.median_days),
                settled_days=_optional(row.settled_days),
            )
        )
    return MaturityReport(stages=tuple(stages), quantile=quantile)
