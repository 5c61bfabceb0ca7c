"""Funnel aggregates: reach, outcomes and time in stage, per segment and period.

Each function runs one to three grouped queries on the materialised per-deal tables and finishes
the (small) result in pandas: cumulative sums over at most a few dozen stages per group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from voronka.engine import summary
from voronka.engine.frames import split_quantiles

if TYPE_CHECKING:
    from voronka.engine.log import EventLog


def _keys(by: str | None, period: str | None) -> list[str]:
    return [k for k, asked in (("segment", by), ("period", period)) if asked is not None]


def _groups(frame: pd.DataFrame, keys: list[str]) -> list[tuple[object, ...]]:
    """The distinct key tuples of ``frame`` in a stable order (None last)."""
    if not keys:
        return [()]
    seen = {tuple(row) for row in frame[keys].itertuples(index=False, name=None)}
    return sorted(seen, key=lambda g: tuple((v is None, "" if v is None else v) for v in g))


def _stage_grid(log: EventLog, keys: list[str], groups: list[tuple[object, ...]]) -> pd.DataFrame:
    funnel = log._need_funnel()
    rows = [(*g, stage.id, i) for g in groups for i, stage in enumerate(funnel.stages)]
    columns: dict[str, pd.Series] = {}
    for j, k in enumerate(keys):
        columns[k] = pd.Series([r[j] for r in rows], dtype=object)
    columns["stage_id"] = pd.Series([r[-2] for r in rows], dtype=object)
    columns["stage_index"] = pd.Series([r[-1] for r in rows], dtype="int64")
    return pd.DataFrame(columns, index=pd.RangeIndex(len(rows)))


def _merge_counts(
    grid: pd.DataFrame,
    counts: pd.DataFrame,
    keys: list[str],
    column: str,
    source: str | None = None,
) -> pd.DataFrame:
    """``grid`` with ``counts[source]`` as ``column``, joined on keys + stage_index (0 where
    absent); ``source`` defaults to ``column``."""
    source = source or column
    if counts.empty:
        grid[column] = 0
        return grid
    lookup = {
        _key(row[:-1]): int(row[-1])
        for row in counts[[*keys, "stage_index", source]].itertuples(index=False, name=None)
    }
    grid[column] = [
        lookup.get(_key(row), 0)
        for row in grid[[*keys, "stage_index"]].itertuples(index=False, name=None)
    ]
    grid[column] = grid[column].astype("int64")
    return grid


def reach(log: EventLog, by: str | None = None, period: str | None = None) -> pd.DataFrame:
    """See :meth:`voronka.engine.EventLog.reach`.

    ``reached[k]`` for a stage of the line is the number of deals whose furthest stage of the
    line is ``k`` or later (a suffix sum over the deals' ``max_stage_index``); for a stage after
    the won stage (outside the line) it is the number of deals that entered it.
    """
    funnel = log._need_funnel()
    won_index = funnel.won_index
    keys = _keys(by, period)
    table = log.segmented(by, period)
    furthest = log.frame(table.group_by([*keys, "max_stage_index"]).agg(n=table.count()))
    closed = table.filter(table.outcome != "won")
    here = log.frame(
        closed.group_by([*keys, "outcome", "current_stage_index"]).agg(n=closed.count())
    )
    furthest = _normalize_keys(furthest, keys)
    groups = _groups(furthest, keys)
    grid = _stage_grid(log, keys, groups)

    # Suffix sums: deals whose furthest stage of the line is at or after k.
    at_index: dict[tuple[object, ...], int] = {}
    for row in furthest[[*keys, "max_stage_index", "n"]].itertuples(index=False, name=None):
        if not _is_null(row[-2]):
            at_index[(*row[:-2], int(row[-2]))] = int(row[-1])
    reached_rows = []
    for group in groups:
        running = 0
        for k in range(won_index, -1, -1):
            running += at_index.get((*group, k), 0)
            reached_rows.append((*group, k, running))
    reached = pd.DataFrame(reached_rows, columns=[*keys, "stage_index", "reached"])
    grid = _merge_counts(grid, reached, keys, "reached")

    if len(funnel.stages) > won_index + 1:
        stages = log.deal_stages()
        seg = table.select("deal_id", *keys)
        beyond = stages.filter(stages.stage_index > won_index).join(seg, "deal_id")
        entered = log.frame(beyond.group_by([*keys, "stage_index"]).agg(entered=beyond.count()))
        entered = _normalize_keys(entered, keys)
        post = grid["stage_index"] > won_index
        extra = _merge_counts(grid[post].copy(), entered, keys, "entered")
        grid.loc[post, "reached"] = extra["entered"].to_numpy()

    here = here[here["current_stage_index"].notna()].copy()
    here["stage_index"] = here["current_stage_index"].astype("int64")
    here = _normalize_keys(here, keys)
    grid = _merge_counts(grid, here[here["outcome"] == "open"], keys, "open_here", "n")
    grid = _merge_counts(grid, here[here["outcome"] == "lost"], keys, "lost_here", "n")
    return grid.reset_index(drop=True)


def outcomes(log: EventLog, by: str | None = None, period: str | None = None) -> pd.DataFrame:
    """See :meth:`voronka.engine.EventLog.outcomes`."""
    keys = _keys(by, period)
    table = log.segmented(by, period)
    agg = (
        table.group_by(keys).agg(
            deals=table.count(),
            won=(table.outcome == "won").cast("int64").sum(),
            lost=(table.outcome == "lost").cast("int64").sum(),
            open=(table.outcome == "open").cast("int64").sum(),
        )
        if keys
        else table.aggregate(
            deals=table.count(),
            won=(table.outcome == "won").cast("int64").sum(),
            lost=(table.outcome == "lost").cast("int64").sum(),
            open=(table.outcome == "open").cast("int64").sum(),
        )
    )
    frame = _normalize_keys(log.frame(agg), keys)
    for c in ("deals", "won", "lost", "open"):
        frame[c] = frame[c].fillna(0).astype("int64")
    if keys:
        order = _groups(frame, keys)
        position = {g: i for i, g in enumerate(order)}
        frame["_pos"] = [position[tuple(r)] for r in frame[keys].itertuples(index=False, name=None)]
        frame = frame.sort_values("_pos").drop(columns="_pos")
    return frame[[*keys, "deals", "won", "lost", "open"]].reset_index(drop=True)


def time_in_stage(log: EventLog, by: str | None = None) -> pd.DataFrame:
    """See :meth:`voronka.engine.EventLog.time_in_stage`.

    Per deal and stage, the time from its first entry into the stage to its next event of another
    stage (lost events count as leaving); deals that never left are not counted. ``median_days``
    and ``p90_days`` are exact quantiles with linear interpolation (pandas' default, DuckDB's
    ``percentile_cont``, Spark's ``percentile``).
    """
    funnel = log._need_funnel()
    keys = _keys(by, None)
    stages = log.deal_stages()
    left = stages.filter(
        stages.left_at.notnull()
        & (stages.stage_index >= 0)
        & (stages.stage_index != funnel.won_index)
    )
    if by is not None:
        seg = log.segmented(by, None).select("deal_id", "segment")
        left = left.join(seg, "deal_id")
    days = summary.days_between(left.first_entered_at, left.left_at)
    agg = left.group_by([*keys, "stage_index"]).agg(n_left=left.count(), _q=days.quantile([0.5, 0.9]))
    frame = split_quantiles(log.frame(agg), "_q", ["median_days", "p90_days"])
    frame = _normalize_keys(frame, keys)
    frame["stage_index"] = frame["stage_index"].astype("int64")
    groups: list[tuple[object, ...]] = [()]
    if keys:
        distinct = log.segmented(by, None).select(*keys).distinct()
        groups = _groups(_normalize_keys(log.frame(distinct), keys), keys)
    grid = _stage_grid(log, keys, groups)
    grid = _merge_counts(grid, frame, keys, "n_left")
    values = {
        _key(r[:-2]): (r[-2], r[-1])
        for r in frame[[*keys, "stage_index", "median_days", "p90_days"]].itertuples(
            index=False, name=None
        )
    }
    pairs = [
        values.get(_key(r), (np.nan, np.nan))
        for r in grid[[*keys, "stage_index"]].itertuples(index=False, name=None)
    ]
    grid["median_days"] = np.array([p[0] for p in pairs], dtype="float64")
    grid["p90_days"] = np.array([p[1] for p in pairs], dtype="float64")
    return grid[[*keys, "stage_id", "stage_index", "n_left", "median_days", "p90_days"]]


def _normalize_keys(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Key columns as ``object`` with ``None`` for null, so groups compare equal across frames."""
    frame = frame.copy()
    for k in keys:
        frame[k] = pd.Series(
            [None if _is_null(v) else v for v in frame[k]], index=frame.index, dtype=object
        )
    return frame


def _key(values: tuple[object, ...]) -> tuple[object, ...]:
    """A lookup key: nulls of any kind as None, numbers as int where whole (stage indices)."""
    out: list[object] = []
    for v in values:
        if _is_null(v):
            out.append(None)
        elif (
            isinstance(v, (float, np.floating))
            and float(v).is_integer()
            or isinstance(v, np.integer)
        ):
            out.append(int(v))
        else:
            out.append(v)
    return tuple(out)


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT
