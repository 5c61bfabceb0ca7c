"""Stage cohorts for mature conversion, and per-segment deal counts for leaks and sources.

Every function takes an :class:`~voronka.engine.EventLog` with a funnel and returns a small
pandas frame: one row per [segment] × [period] × stage at most. The per deal × stage
``reached_at`` table of the log is joined to itself (stage k with stage k+1) on the backend; only
the grouped counts come back.

Mature conversion (docs/methods.md): a deal that reached stage k at ``reached_at`` is *mature*
for the step k → k+1 once ``as_of − reached_at ≥ horizon[k]``, the historic p90 of the days from
reaching k to reaching k+1 among deals that did. Recent deals are left out of the rate instead of
counting as failures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from voronka.engine import cubes, summary

if TYPE_CHECKING:
    from voronka.engine.log import EventLog

_PERIODS = {"week": "W", "month": "M"}


def _transitions(log: EventLog) -> ir.Table:
    """Per deal × stage k of the line (except the won stage) it reached: ``reached_at`` and
    ``next_at`` (when it reached k+1, null if it has not); a filter of the log's ``reached_at``
    table, which carries ``next_at``."""
    funnel = log._need_funnel()
    reached = log.reached_at()
    base = reached.filter(reached.stage_index < funnel.won_index)
    return base.select("deal_id", "stage_index", "reached_at", "next_at")


def stage_horizons(
    log: EventLog, *, quantile: float = 0.9, settled_quantile: float = 0.99
) -> pd.DataFrame:
    """Per stage of the line before the won stage: how long moving on to the next stage takes.

    Columns: ``stage_index``, ``stage_id``, ``moved`` (deals that reached the next stage),
    ``median_days`` and ``horizon_days`` (the ``quantile`` of the days from reaching the stage to
    reaching the next one, among those deals; NaN when none moved), ``settled_days`` (the same at
    ``settled_quantile``: by then almost every deal that will move on has). Every stage is present.
    """
    funnel = log._need_funnel()
    tr = _transitions(log)
    moved = tr.filter(tr.next_at.notnull())
    days = summary.days_between(moved.reached_at, moved.next_at)
    agg = moved.group_by("stage_index").agg(
        moved=moved.count(),
        median_days=days.quantile(0.5),
        horizon_days=days.quantile(quantile),
        settled_days=days.quantile(settled_quantile),
    )
    frame = log.frame(agg)
    out = pd.DataFrame(
        {
            "stage_index": np.arange(funnel.won_index, dtype="int64"),
            "stage_id": list(funnel.stage_ids[: funnel.won_index]),
        }
    )
    out = out.merge(frame, on="stage_index", how="left")
    out["moved"] = out["moved"].fillna(0).astype("int64")
    out["median_days"] = out["median_days"].astype("float64")
    for c in ("horizon_days", "settled_days"):
        out[c] = out[c].astype("float64")
    return out


def stage_cohorts(
    log: EventLog,
    horizons: Mapping[int, float],
    *,
    by: str | None = None,
    period: str | None = None,
) -> pd.DataFrame:
    """Raw and mature transition counts per [segment] × [period] × stage of the line.

    ``horizons`` maps a stage index to its maturity horizon in days (a missing or NaN horizon
    makes no deal mature for that stage). ``period`` (``week`` | ``month``) is the cohort of the
    deal's *entry into the stage* (Monday of the week, first of the month), as a ``period`` date
    column. ``by`` names a deal column; its values come back in ``segment``.

    Columns: [``segment``], [``period``], ``stage_index``, ``stage_id``, ``reached`` (deals that
    reached the stage), ``moved`` (of those, reached the next one), ``mature`` (reached it at least
    the horizon before ``as_of``), ``mature_moved`` (mature and moved on, ever),
    ``moved_in_horizon`` (mature and moved on within the horizon), ``won`` / ``closed`` (deals
    that reached the stage and are won / won or lost). Only groups with deals are returned.
    """
    funnel = log._need_funnel()
    keys = [k for k, asked in (("segment", by), ("period", period)) if asked is not None]
    if cubes.covers(log, by, period):
        frame = cubes.cut(cubes.cohort_cube(log, horizons), by, period)
    else:
        if by is not None:
            log.segmented(by)  # an unknown column is a usage error
        flagged = cubes.flagged_transitions(
            log, horizons, {"segment": by} if by is not None else {}, period
        )
        frame = log.frame(
            flagged.group_by([*keys, "stage_index"]).agg(**cubes.count_aggregates(flagged))
        )
    return cubes.finish(frame, keys, funnel.stage_ids)


def deal_counts(log: EventLog, columns: Sequence[str] = ()) -> pd.DataFrame:
    """Deals per group of ``columns`` × furthest stage × outcome, with their won amounts.

    Columns: each of ``columns``, ``max_stage_index`` (the furthest stage of the line reached,
    -1 for none), ``outcome``, ``deals``, ``amount_n`` / ``amount_sum`` / ``amount_sumsq`` (count,
    sum and sum of squares of non-null amounts; zero when the log has no ``amount`` column).
    Everything a source's economics and reach need, in a few hundred rows.
    """
    table = log.deal_summary()
    known = set(log.deal_columns())
    missing = [c for c in columns if c not in known]
    if missing:
        raise KeyError(f"no deal column {missing[0]!r}")
    grouped = table.mutate(max_stage=table.max_stage_index.fill_null(-1).cast("int64"))
    amount_aggs: dict[str, ir.Value] = {}
    if "amount" in known:
        amount = grouped.amount.cast("float64")
        amount_aggs = {
            "amount_n": amount.count(),
            "amount_sum": amount.sum(),
            "amount_sumsq": (amount * amount).sum(),
        }
    expr = grouped.group_by([*columns, "max_stage", "outcome"]).agg(
        deals=grouped.count(), **amount_aggs
    )
    frame = log.frame(expr).rename(columns={"max_stage": "max_stage_index"})
    frame["deals"] = frame["deals"].astype("int64")
    for c in ("amount_n", "amount_sum", "amount_sumsq"):
        frame[c] = frame[c].fillna(0).astype("float64") if c in frame else 0.0
    frame["amount_n"] = frame["amount_n"].astype("int64")
    for c in columns:
        frame[c] = _nullable(frame[c])
    return frame.sort_values([*columns, "max_stage_index", "outcome"], key=_sort_key).reset_index(
        drop=True
    )


def _nullable(values: pd.Series) -> pd.Series:
    """A key column as ``object`` with ``None`` for null."""
    return pd.Series(
        [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in values],
        index=values.index,
        dtype=object,
    )


def _sort_key(values: pd.Series) -> pd.Series:
    """Sort key that puts None last and compares mixed values as text where needed."""
    if values.dtype == object:
        return pd.Series(
            [(v is None, "" if v is None else str(v)) for v in values], index=values.index
        )
    return values


def lead_volume(log: EventLog, *, by: str | None = None, period: str = "week") -> pd.DataFrame:
    """Deals created per [segment] × period, every period of the data present (zeros kept).

    Columns: [``segment``], ``period`` (Monday of the week or first of the month, a date),
    ``leads``, ``exposure_days`` (days of the period between the first deal's creation and
    ``as_of``: the first and the last period are usually partial). Periods with no exposure are
    left out.
    """
    if period not in _PERIODS:
        raise ValueError(f"unknown period {period!r}: week or month")
    table = log.segmented(by, period)
    keys = ["segment"] if by is not None else []
    counts = log.frame(table.group_by([*keys, "period"]).agg(leads=table.count()))
    first = log.frame(table.aggregate(first=table.created_at.min()))["first"].iloc[0]
    if counts.empty or first is None or pd.isna(first):
        return pd.DataFrame(columns=[*keys, "period", "leads", "exposure_days"])
    start = pd.Timestamp(first)
    end = pd.Timestamp(log.as_of)
    freq = "W-MON" if period == "week" else "MS"
    first_period = start.normalize() - (
        pd.Timedelta(days=start.day_of_week)
        if period == "week"
        else pd.Timedelta(days=start.day - 1)
    )
    starts = pd.date_range(first_period, end, freq=freq)
    nxt = starts + (pd.DateOffset(weeks=1) if period == "week" else pd.DateOffset(months=1))
    exposure = (
        np.minimum(nxt.to_numpy(), end.to_numpy()) - np.maximum(starts.to_numpy(), start.to_numpy())
    ) / np.timedelta64(1, "D")
    grid = pd.DataFrame({"period": [d.date() for d in starts], "exposure_days": exposure})
    grid = grid[grid["exposure_days"] > 0]
    if keys:
        counts["segment"] = _nullable(counts["segment"])
        segments = pd.DataFrame({"segment": pd.unique(counts["segment"])})
        grid = segments.merge(grid, how="cross")
    out = grid.merge(counts, on=[*keys, "period"], how="left")
    out["leads"] = out["leads"].fillna(0).astype("int64")
    out = out.sort_values([*keys, "period"], key=_sort_key).reset_index(drop=True)
    return out[[*keys, "period", "leads", "exposure_days"]]
