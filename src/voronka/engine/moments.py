"""The state of the funnel at several moments, computed in one pass over the log.

The forecast needs the funnel as it stood at ``as_of`` and at the middle of each backtest month.
Truncating the log at each moment and recomputing the episodes (:func:`flow.episodes_table`) costs
one pass over the log per moment; instead the episodes are computed once, as they stand at the
latest moment, and each moment's histogram is derived from them:

* an episode that had **ended by** moment *m* (it ends at or before *m*, not still open) is the
  same at *m* as later. Such episodes are counted once, grouped by stage × bucket × destination ×
  which moments they had ended by × which moments they are recent for (two small integers), and
  each moment sums the groups it sees;
* an episode that **spans** moment *m* (began by *m*, ended after it or still open) was open at
  *m*, with ``m − started`` days, unless the deal had been closed by *m* without a later move (the
  deal then counts as lost or won at its closing, as :func:`flow.episodes_table` does). Only these
  episodes are paired with the moments.

Both give exactly :func:`flow.episodes_table` truncated at each moment, in two grouped aggregates
of one query. Arrivals, the wins so far and the amount quantiles of every moment come from one
query each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import pandas as pd

from voronka.engine.flow import (
    DEFAULT_EDGES,
    LOST,
    OPEN,
    _amount,
    _bucket,
    _line_end,
    _won_time,
    episodes_table,
    won_between_many,
)
from voronka.engine.summary import days_between, epoch_seconds

if TYPE_CHECKING:
    from voronka.engine.log import EventLog

KEYS = ["stage_index", "bucket", "to_index", "recent", "fresh"]
"""The columns of the episode histogram."""


@dataclass(frozen=True)
class MomentState:
    """What the forecast needs to know about the funnel at one moment.

    Attributes:
        as_of: the moment described.
        edges: bucket starts (days in stage), as :data:`flow.DEFAULT_EDGES`.
        episodes: one row per ``stage_index`` × ``bucket`` × ``to_index`` × ``recent``:
            ``deals`` (episodes) and ``days_sum`` (their summed length in days). ``to_index`` is
            the stage the frontier moved to, :data:`flow.LOST` or :data:`flow.OPEN`; ``recent``
            says the episode began within the history window (the rates are estimated from
            recent episodes; every open one is part of the current state); ``fresh`` that it
            began within the shorter ``fresh_days`` (the rates weight these more). Only stages
            before the won stage (it is absorbing).
        arrivals: one row per ``day`` (date) × ``stage_index`` (the first stage of the deal's
            path): ``deals`` whose path began that day, for the whole days of the arrival window
            before ``as_of``.
        arrival_days: the length of the arrival window in days (days without leads have no row).
        won_in_period: deals won from ``period_start`` up to ``as_of``.
        won_amount_in_period: the sum of their amounts (None without amounts).
        amount_quantiles: 101 quantiles (0, 0.01 … 1) of the amounts of deals won in the history
            window (None without amounts).
    """

    as_of: dt.datetime
    edges: tuple[float, ...]
    episodes: pd.DataFrame
    arrivals: pd.DataFrame
    arrival_days: int
    won_in_period: int
    won_amount_in_period: float | None
    amount_quantiles: tuple[float, ...] | None


@dataclass(frozen=True)
class MomentSpec:
    """One moment to describe, and the plan period whose wins so far it counts.

    Attributes:
        as_of: the moment (data after it is ignored).
        period_start: first day of the period.
        period_end: last day of the period (None: open-ended).
    """

    as_of: dt.datetime
    period_start: dt.date
    period_end: dt.date | None = None


def _at(moment: dt.datetime) -> ir.TimestampValue:
    return ibis.literal(moment, "timestamp")


def _count_before(value: ir.TimestampValue, moments: Sequence[dt.datetime], *, strict: bool) -> (
    ir.IntegerValue
):
    """How many of ``moments`` are ``< value`` (``strict``) or ``≤ value``."""
    total: ir.IntegerValue = ibis.literal(0, "int64")
    for moment in moments:
        hit = (_at(moment) < value) if strict else (_at(moment) <= value)
        total = total + hit.cast("int64")
    return total


def _pick(index: ir.IntegerValue, moments: Sequence[dt.datetime]) -> ir.TimestampValue:
    """``moments[index]`` as an expression."""
    return ibis.cases(*[(index == i, _at(m)) for i, m in enumerate(moments)])


def episode_histograms(
    log: EventLog,
    cuts: Sequence[dt.datetime],
    *,
    history_days: int = 365,
    fresh_days: int = 91,
    edges: tuple[float, ...] = DEFAULT_EDGES,
) -> list[pd.DataFrame]:
    """The ``episodes`` histogram of :class:`MomentState` at each of ``cuts`` (increasing,
    distinct), in one query (see the module docstring)."""
    won_index = _line_end(log)
    sinces = [c - dt.timedelta(days=history_days) for c in cuts]
    fresh_sinces = [c - dt.timedelta(days=fresh_days) for c in cuts]
    ep = episodes_table(log, max(log.as_of, cuts[-1]))
    still_open = ep.to_index == OPEN
    ended_by = _count_before(ep.ended_at, cuts, strict=True)  # ended by the moments m ≥ this
    done = ep.filter(~still_open & (ep.ended_at <= _at(cuts[-1])))
    done = done.select(
        m=ibis.literal(-1, "int64"),
        stage_index=done.stage_index,
        bucket=_bucket(done.days, edges),
        to_index=done.to_index,
        # recent for the moments m < start_iv; ended by the moments m ≥ end_iv
        start_iv=_count_before(done.started_at, sinces, strict=False),
        start_fv=_count_before(done.started_at, fresh_sinces, strict=False),
        end_iv=_count_before(done.ended_at, cuts, strict=True),
        days=done.days,
    )
    # One row per moment the episode spans: it began by it and had not ended.
    span = ep.filter(
        (still_open | (ep.ended_at > _at(cuts[0]))) & (ep.started_at <= _at(cuts[-1]))
    )
    spanned = ibis.range(
        _count_before(span.started_at, cuts, strict=True),
        ibis.cases((still_open, ibis.literal(len(cuts), "int64")), else_=ended_by),
    )
    span = span.mutate(m=spanned.unnest())
    # Columns, not expressions: each use of an expression repeats it in the SQL.
    span = span.mutate(
        cut=_pick(span.m, cuts),
        since=_pick(span.m, sinces),
        fresh_since=_pick(span.m, fresh_sinces),
    )
    cut, since = span.cut, span.since
    # A deal closed by the moment without a later move was lost or won at its closing then.
    closed = span.closed_at.notnull() & (span.closed_at <= cut)
    lost = closed & (span.closed_to == LOST)
    won = closed & (span.closed_to == won_index)
    ended = ibis.cases((lost | won, ibis.greatest(span.closed_at, span.started_at)), else_=cut)
    to_index = ibis.cases(
        (lost, ibis.literal(LOST, "int64")),
        (won, ibis.literal(won_index, "int64")),
        else_=ibis.literal(OPEN, "int64"),
    )
    span = span.select(
        m=span.m,
        stage_index=span.stage_index,
        to_index=to_index,
        start_iv=(span.started_at >= since).cast("int64"),
        start_fv=(span.started_at >= span.fresh_since).cast("int64"),
        end_iv=ibis.literal(0, "int64"),
        days=days_between(span.started_at, ended),
    )
    span = span.mutate(bucket=_bucket(span.days, edges))
    keys = ["m", "stage_index", "bucket", "to_index", "start_iv", "start_fv", "end_iv"]
    both = ibis.union(
        done.group_by(keys).agg(deals=done.count(), days_sum=done.days.sum()),
        span.group_by(keys).agg(deals=span.count(), days_sum=span.days.sum()),
    )
    frame = log.frame(both)
    ints = {k: "int64" for k in [*keys, "deals"]}
    frame = frame.astype({**ints, "days_sum": "float64"})
    done_rows = frame[frame["m"] < 0]
    out: list[pd.DataFrame] = []
    for i in range(len(cuts)):
        ended = done_rows[done_rows["end_iv"] <= i]
        ended = ended.assign(recent=ended["start_iv"] > i, fresh=ended["start_fv"] > i)
        spanning = frame[frame["m"] == i]
        spanning = spanning.assign(
            recent=spanning["start_iv"] > 0, fresh=spanning["start_fv"] > 0
        )
        parts = pd.concat([ended, spanning], ignore_index=True)
        hist = parts.groupby(KEYS, as_index=False, sort=True)[["deals", "days_sum"]].sum()
        out.append(hist.astype({"stage_index": "int64", "bucket": "int64", "to_index": "int64"}))
    return out


def _arrivals(
    log: EventLog, cuts: Sequence[dt.datetime], arrival_days: int
) -> list[pd.DataFrame]:
    """Per cut: deals whose path began on each whole day of the ``arrival_days`` before the
    cut's date, by first stage (``day``, ``stage_index``, ``deals``)."""
    days = [dt.datetime.combine(c.date(), dt.time()) for c in cuts]
    first = min(days) - dt.timedelta(days=arrival_days)
    reached = log.reached_at()
    reached = reached.filter(
        (reached.reached_at >= _at(first)) & (reached.reached_at < _at(max(days)))
    )
    # A deal's path begins at its reach time of stage 0 (every deal on the line has one), at the
    # furthest stage reached then: the earliest time, and among its rows the highest stage.
    key = epoch_seconds(reached.reached_at) * 1000.0 - reached.stage_index.cast("float64")
    heads = reached.group_by("deal_id").agg(
        started_at=reached.reached_at.min(),
        lowest=reached.stage_index.min(),
        stage_index=reached.stage_index.argmin(key),
    )
    heads = heads.filter(heads.lowest == 0)
    heads = heads.mutate(day=heads.started_at.date())
    frame = log.frame(heads.group_by(["day", "stage_index"]).agg(deals=heads.count()))
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    out: list[pd.DataFrame] = []
    for day1 in days:
        day0 = (day1 - dt.timedelta(days=arrival_days)).date()
        sel = frame[(frame["day"] >= day0) & (frame["day"] < day1.date())]
        out.append(sel.sort_values(["day", "stage_index"]).reset_index(drop=True))
    return out


def amount_quantiles_many(
    log: EventLog, windows: Sequence[tuple[dt.datetime, dt.datetime]]
) -> list[tuple[float, ...] | None]:
    """101 quantiles of the amounts of deals won in each ``[since, as_of]`` window (None
    without amounts), in one query."""
    summary = log.deal_summary()
    amount = _amount(summary)
    if amount is None or not windows:
        return [None] * len(windows)
    won_at = _won_time(summary)
    lo, hi = min(w[0] for w in windows), max(w[1] for w in windows)
    won = summary.filter(
        (summary.outcome == "won") & amount.notnull() & (won_at >= lo) & (won_at <= hi)
    ).select(won_at=won_at, amount=amount)
    levels = [i / 100 for i in range(101)]
    aggs: dict[str, ir.Scalar] = {}
    for i, (since, as_of) in enumerate(windows):
        hit = (won.won_at >= since) & (won.won_at <= as_of)
        aggs[f"q_{i}"] = won.amount.quantile(levels, where=hit)
        aggs[f"n_{i}"] = won.count(where=hit)
    row = log.frame(won.aggregate(**aggs)).iloc[0]
    return [
        tuple(float(v) for v in row[f"q_{i}"]) if int(row[f"n_{i}"]) > 0 else None
        for i in range(len(windows))
    ]


def moment_states(
    log: EventLog,
    specs: Sequence[MomentSpec],
    *,
    history_days: int = 365,
    arrival_days: int = 56,
    edges: tuple[float, ...] = DEFAULT_EDGES,
    fresh_days: int = 91,
) -> list[MomentState]:
    """The :class:`MomentState` of each spec, the log as it stood at the spec's ``as_of``.

    ``won_in_period`` counts the deals won from ``period_start`` to ``period_end`` (inclusive;
    open-ended when None) known by ``as_of``. Rates are estimated from the episodes that began
    in the ``history_days`` before ``as_of``; arrivals are counted over the ``arrival_days`` whole
    days before ``as_of``'s date; the amount distribution over the deals won in the
    ``history_days``. Four queries whatever the number of specs.
    """
    if not specs:
        return []
    cuts = sorted({s.as_of for s in specs})
    histograms = dict(zip(cuts, episode_histograms(log, cuts, history_days=history_days,
                                                   fresh_days=fresh_days, edges=edges),
                          strict=True))
    arrivals = dict(zip(cuts, _arrivals(log, cuts, arrival_days), strict=True))
    history = dt.timedelta(days=history_days)
    quantiles = dict(
        zip(cuts, amount_quantiles_many(log, [(c - history, c) for c in cuts]), strict=True)
    )
    ranges: list[tuple[dt.datetime, dt.datetime, dt.datetime]] = []
    for spec in specs:
        start = dt.datetime.combine(spec.period_start, dt.time())
        end = spec.as_of + dt.timedelta(days=1)
        if spec.period_end is not None:
            end = min(end, dt.datetime.combine(spec.period_end, dt.time()) + dt.timedelta(days=1))
        ranges.append((start, end, spec.as_of))
    wins = won_between_many(log, ranges)
    return [
        MomentState(
            as_of=spec.as_of,
            edges=edges,
            episodes=histograms[spec.as_of],
            arrivals=arrivals[spec.as_of],
            arrival_days=arrival_days,
            won_in_period=won,
            won_amount_in_period=amount,
            amount_quantiles=quantiles[spec.as_of],
        )
        for spec, (won, amount) in zip(specs, wins, strict=True)
    ]


def moment_state(
    log: EventLog,
    *,
    period_start: dt.date,
    period_end: dt.date | None = None,
    as_of: dt.datetime | None = None,
    history_days: int = 365,
    arrival_days: int = 56,
    edges: tuple[float, ...] = DEFAULT_EDGES,
) -> MomentState:
    """The :class:`MomentState` of ``log`` as it stood at ``as_of`` (default: the log's); see
    :func:`moment_states`."""
    spec = MomentSpec(as_of or log.as_of, period_start, period_end)
    return moment_states(
        log, [spec], history_days=history_days, arrival_days=arrival_days, edges=edges
    )[0]
