"""Deal counts per group and arrivals per period: what sources' economics, leaks' segment sizes
and the volume anomalies read. Each function returns a small pandas frame; rows stay on the
backend."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from voronka.engine.frames import nullable as _nullable
from voronka.engine.frames import sort_key as _sort_key

if TYPE_CHECKING:
    from voronka.engine.log import EventLog

_PERIODS = {"week": "W", "month": "M"}


def deal_counts(
    log: EventLog, columns: Sequence[str] = (), *, alongside: Sequence[Sequence[str]] = ()
) -> pd.DataFrame:
    """Deals per group of ``columns`` × furthest stage × outcome, with their won amounts.

    Columns: each of ``columns``, ``max_stage_index`` (the furthest stage of the line reached,
    -1 for none), ``outcome``, ``deals``, ``amount_n`` / ``amount_sum`` / ``amount_sumsq`` (count,
    sum and sum of squares of non-null amounts; zero when the log has no ``amount`` column).
    Everything a source's economics and reach need, in a few hundred rows.

    ``alongside``: other column lists the caller will ask next (the leaks' breakdowns after the
    funnel-wide counts). Lists of text columns are grouped in the same query (one grouped
    aggregate per list over the same rows); every list's frame is kept on the log, and equals the
    frame a query of its own gives.
    """
    known = set(log.deal_columns())
    wanted = tuple(columns)
    for group in (wanted, *(tuple(c) for c in alongside)):
        missing = [c for c in group if c not in known]
        if missing:
            raise KeyError(f"no deal column {missing[0]!r}")
    kept: dict[tuple[str, ...], pd.DataFrame] = log.cached(("deal_counts",), dict)
    if wanted not in kept:
        table = log.deal_summary()
        asked = list(dict.fromkeys((wanted, *(tuple(c) for c in alongside))))
        asked = [g for g in asked if g not in kept]
        text = [g for g in asked if all(table[c].type().is_string() for c in g)]
        together = [text] if len(text) > 1 else []
        alone = [[g] for g in asked if g not in text or len(text) == 1]
        for lists in (*together, *alone):
            kept.update(_deal_counts(log, lists))
    return kept[wanted].copy()


def _deal_counts(
    log: EventLog, lists: Sequence[tuple[str, ...]]
) -> dict[tuple[str, ...], pd.DataFrame]:
    """The frames of :func:`deal_counts` for each column list of ``lists``, in one query (several
    lists: text columns only, side by side in a ``UNION ALL`` with a list number ``_set``)."""
    table = log.deal_summary()
    known = set(log.deal_columns())
    grouped = table.mutate(max_stage=table.max_stage_index.fill_null(-1).cast("int64"))
    amount_aggs: dict[str, ir.Value] = {}
    if "amount" in known:
        amount = grouped.amount.cast("float64")
        amount_aggs = {
            "amount_n": amount.count(),
            "amount_sum": amount.sum(),
            "amount_sumsq": (amount * amount).sum(),
        }
    if len(lists) == 1:
        expr = grouped.group_by([*lists[0], "max_stage", "outcome"]).agg(
            deals=grouped.count(), **amount_aggs
        )
        frames = {lists[0]: log.frame(expr)}
    else:
        every = list(dict.fromkeys(c for g in lists for c in g))
        parts = []
        for i, group in enumerate(lists):
            part = grouped.group_by([*group, "max_stage", "outcome"]).agg(
                deals=grouped.count(), **amount_aggs
            )
            others = {c: ibis.null("string") for c in every if c not in group}
            parts.append(
                part.mutate(_set=ibis.literal(i, "int64"), **others).select(
                    "_set", *every, "max_stage", "outcome", "deals", *amount_aggs
                )
            )
        frame = log.frame(ibis.union(*parts, distinct=False))
        frames = {
            group: frame[frame["_set"] == i][[*group, "max_stage", "outcome", "deals",
                                              *amount_aggs]].reset_index(drop=True)
            for i, group in enumerate(lists)
        }
    return {group: _finish_counts(frame, group) for group, frame in frames.items()}


def _finish_counts(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    frame = frame.rename(columns={"max_stage": "max_stage_index"})
    frame["deals"] = frame["deals"].astype("int64")
    for c in ("amount_n", "amount_sum", "amount_sumsq"):
        frame[c] = frame[c].fillna(0).astype("float64") if c in frame else 0.0
    frame["amount_n"] = frame["amount_n"].astype("int64")
    for c in columns:
        frame[c] = _nullable(frame[c])
    return frame.sort_values([*columns, "max_stage_index", "outcome"], key=_sort_key).reset_index(
        drop=True
    )


def lead_volume(
    log: EventLog, *, by: str | None = None, period: str = "week",
    until: datetime | None = None,
) -> pd.DataFrame:
    """Deals created per [segment] × period, every period of the data present (zeros kept).

    Columns: [``segment``], ``period`` (Monday of the week or first of the month, a date),
    ``leads``, ``exposure_days`` (days of the period between the first deal's creation and
    ``as_of``, or the end of a filter's period of creation (``EventLog.created_window``) or
    ``until`` when earlier — the moment new deals stopped reaching the data: the first and the
    last period are usually partial). Periods with no exposure are left out. Weeks and months are
    summed from one query per ``by``: deals per [segment] × day of creation, kept on the log.
    """
    if period not in _PERIODS:
        raise ValueError(f"unknown period {period!r}: week or month")
    keys = ["segment"] if by is not None else []
    days = _lead_days_kept(log, by)
    first = days["first"].min() if len(days) else None
    if days.empty or first is None or pd.isna(first):
        return pd.DataFrame(columns=[*keys, "period", "leads", "exposure_days"])
    if period == "week":
        starts_of = [None if d is None else d - timedelta(days=d.weekday()) for d in days["day"]]
    else:
        starts_of = [None if d is None else d.replace(day=1) for d in days["day"]]
    counts = (
        days.assign(period=starts_of)
        .groupby([*keys, "period"], dropna=False, sort=False)["leads"]
        .sum()
        .reset_index()
    )
    start = pd.Timestamp(first)
    # A filter's period of creation ends the periods: after it, no deal is counted by choice.
    ends = [m for m in (log.as_of, log.created_window[1], until) if m is not None]
    end = pd.Timestamp(min(ends))
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


def _lead_days_kept(log: EventLog, by: str | None) -> pd.DataFrame:
    """:func:`_lead_days` of ``by``, queried once per log."""
    return log.cached(("lead_days", by), lambda: _lead_days(log, by))


def _lead_days(log: EventLog, by: str | None) -> pd.DataFrame:
    """Deals created per [segment] × day (a date; None for no creation time), with the first and
    last creation time of each: the one query behind every :func:`lead_volume` of ``by``."""
    table = log.segmented(by)
    keys = ["segment"] if by is not None else []
    day = table.created_at.date().name("day")
    expr = table.group_by([*keys, day]).agg(
        leads=table.count(), first=table.created_at.min(), last=table.created_at.max()
    )
    frame = log.frame(expr)
    frame["day"] = _nullable(frame["day"])
    return frame


def last_lead_at(log: EventLog) -> datetime | None:
    """When the latest deal was created (None when no deal has a creation time); read from
    :func:`lead_volume`'s query."""
    days = _lead_days_kept(log, None)
    last = days["last"].max() if len(days) else None
    return None if last is None or pd.isna(last) else pd.Timestamp(last).to_pydatetime()
