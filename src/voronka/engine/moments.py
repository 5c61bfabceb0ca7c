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
of one query. The episodes are kept on the backend once per log (:func:`frontier_episodes`): the
arrivals (each deal's first episode) and the largest open deals read them too. The wins so far and
the amount quantiles of every moment come from the won deals grouped by the moments' windows (one
grouped query each), the undated-closing counts from one aggregate of the deal summary. Day sums
are added as whole seconds (integers) and money as decimals, so every number is the same whatever
order the backend adds rows in, on DuckDB and on Spark alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from voronka.engine.asof import undated_aggregates
from voronka.engine.backend import load_arrow
from voronka.engine.episodes import _at, frontier_episodes, histogram_query, histograms
from voronka.engine.flow import (
    DEFAULT_EDGES,
    OPEN,
    _amount,
    _line_end,
    _won_pair,
    _won_time,
    money_sum,
)

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


def _arrivals(
    log: EventLog, ep: ir.Table, cuts: Sequence[dt.datetime], arrival_days: int
) -> list[pd.DataFrame]:
    """Per cut: deals whose path began on each whole day of the ``arrival_days`` before the
    cut's date, by first stage (``day``, ``stage_index``, ``deals``). A deal's path begins with
    its first frontier episode, at that episode's stage (the furthest stage reached then)."""
    days = [dt.datetime.combine(c.date(), dt.time()) for c in cuts]
    first = min(days) - dt.timedelta(days=arrival_days)
    heads = ep.filter(ep.first & (ep.started_at >= _at(first)) & (ep.started_at < _at(max(days))))
    heads = heads.mutate(day=heads.started_at.date())
    frame = log.frame(heads.group_by(["day", "stage_index"]).agg(deals=heads.count()))
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    out: list[pd.DataFrame] = []
    for day1 in days:
        day0 = (day1 - dt.timedelta(days=arrival_days)).date()
        sel = frame[(frame["day"] >= day0) & (frame["day"] < day1.date())]
        out.append(sel.sort_values(["day", "stage_index"]).reset_index(drop=True))
    return out


_LARGEST_TYPES = {"stage_index": "int64", "days": "float64", "amount": "float64"}


def _largest(log: EventLog, ep: ir.Table | None, limit: int) -> pd.DataFrame:
    """The ``limit`` open deals with the largest amounts (ties by deal id, so the list does not
    depend on the backend's row order): ``stage_index``, ``days`` in it, ``amount``."""
    if ep is None or "amount" not in ep.columns or limit <= 0:
        return pd.DataFrame({name: [] for name in _LARGEST_TYPES}).astype(_LARGEST_TYPES)
    won_index = _line_end(log)
    live = ep.filter(
        (ep.to_index == OPEN) & (ep.stage_index < won_index) & ep.amount.notnull()
        & (ep.amount > 0)
    )
    top = live.order_by([live.amount.desc(), live.deal_id]).limit(limit)
    return log.frame(top.select("stage_index", "days", "amount")).astype(_LARGEST_TYPES)


def _moment_rows(log: EventLog, columns: dict[str, list[dt.datetime]]) -> ir.Table:
    """A few moments as a table on the log's backend: ``i`` (0, 1 …) and the given timestamp
    columns (one row per window or range, so every one is aggregated in one grouped pass)."""
    n = len(next(iter(columns.values())))
    arrays = {"i": pa.array(range(n), pa.int64())}
    arrays.update({name: pa.array(values, pa.timestamp("us")) for name, values in columns.items()})
    return load_arrow(log.backend, pa.table(arrays), "voronka_moments")


def _deal_aggregates(
    log: EventLog,
    windows: Sequence[tuple[dt.datetime, dt.datetime]],
    ranges: Sequence[tuple[dt.datetime, dt.datetime, dt.datetime]],
) -> tuple[list[tuple[float, ...] | None], list[tuple[int, float | None]], tuple[int, int]]:
    """In three queries over the deal summary: 101 quantiles of the amounts of deals won in each
    ``[since, as_of]`` window (None without amounts or wins), the deals won in each ``(start,
    end, as_of)`` range with their amount sum (:func:`flow.won_between_many`), and the closed
    and undatedly closed deals (:func:`asof.undated_closings`).

    The won deals are paired with the windows (ranges) they fall in and grouped by window: one
    pass, where an aggregate per window filtered its own way read the rows once per window."""
    summary = log.deal_summary()
    amount = _amount(summary)
    bounds = [w[0] for w in windows] + [r[0] for r in ranges]
    ends = [w[1] for w in windows] + [r[1] for r in ranges]
    won_at = _won_time(summary)
    won = summary.filter(summary.outcome == "won")
    if bounds:
        won = won.filter((won_at >= min(bounds)) & (won_at <= max(ends)))
    extra = {"amount": _amount(won)} if amount is not None else {}
    won = won.select(won_at=_won_time(won), **extra)
    levels = [i / 100 for i in range(101)]
    quantiles: list[tuple[float, ...] | None] = [None] * len(windows)
    if amount is not None and windows:
        spans = _moment_rows(log, {"since": [w[0] for w in windows],
                                   "until": [w[1] for w in windows]})
        priced = won.filter(won.amount.notnull())
        hit = priced.join(spans, [priced.won_at >= spans.since, priced.won_at <= spans.until])
        got = log.frame(hit.group_by("i").agg(q=hit.amount.quantile(levels)))
        for i, q in zip(got["i"], got["q"], strict=True):  # windows without wins have no row
            quantiles[int(i)] = tuple(float(v) for v in q)
    wins: list[tuple[int, float | None]] = [(0, 0.0 if amount is not None else None)] * len(ranges)
    if ranges:
        spans = _moment_rows(log, {"start": [r[0] for r in ranges], "end": [r[1] for r in ranges],
                                   "cut": [min(r[1], r[2]) for r in ranges]})
        hit = won.join(spans, [won.won_at >= spans.start, won.won_at < spans.end,
                               won.won_at <= spans.cut])
        sums = {"amount": money_sum(hit.amount)} if amount is not None else {}
        got = log.frame(hit.group_by("i").agg(deals=hit.count(), **sums))
        for row in got.to_dict("records"):
            wins[int(row["i"])] = _won_pair(row, amount is not None)
    closings = log.frame(summary.aggregate(**undated_aggregates(summary))).iloc[0]
    return quantiles, wins, (int(closings["closed"] or 0), int(closings["undated"] or 0))


@dataclass(frozen=True)
class MomentStates:
    """What the forecast and its backtest read from the engine (:func:`forecast_moments`).

    Attributes:
        states: the :class:`MomentState` of each spec, in the specs' order.
        won: per extra range ``(start, end, as_of)``: deals won in ``[start, end)`` known by
            ``as_of`` and their amount sum (None without amounts), as
            :func:`flow.won_between_many`.
        closed: closed deals, and ``undated`` of them those whose closing moment the data does not
            give (:func:`asof.undated_closings`).
        undated: see ``closed``.
        largest: the largest open deals at the latest moment (``stage_index``, ``days``,
            ``amount``; at most ``largest_limit`` rows, ties by deal id; empty without amounts).
    """

    states: tuple[MomentState, ...]
    won: tuple[tuple[int, float | None], ...]
    closed: int
    undated: int
    largest: pd.DataFrame


def forecast_moments(
    log: EventLog,
    specs: Sequence[MomentSpec],
    *,
    won_ranges: Sequence[tuple[dt.datetime, dt.datetime, dt.datetime]] = (),
    largest_limit: int = 0,
    history_days: int = 365,
    arrival_days: int = 56,
    edges: tuple[float, ...] = DEFAULT_EDGES,
    fresh_days: int = 91,
) -> MomentStates:
    """The :class:`MomentState` of each spec, the log as it stood at the spec's ``as_of``, with
    the wins of ``won_ranges``, the undated-closing counts and the ``largest_limit`` largest open
    deals: one episode pass (materialised) and six small queries whatever the number of specs.

    ``won_in_period`` counts the deals won from ``period_start`` to ``period_end`` (inclusive;
    open-ended when None) known by ``as_of``. Rates are estimated from the episodes that began
    in the ``history_days`` before ``as_of``; arrivals are counted over the ``arrival_days`` whole
    days before ``as_of``'s date; the amount distribution over the deals won in the
    ``history_days``.
    """
    cuts = sorted({s.as_of for s in specs})
    history = dt.timedelta(days=history_days)
    ranges: list[tuple[dt.datetime, dt.datetime, dt.datetime]] = []
    for spec in specs:
        start = dt.datetime.combine(spec.period_start, dt.time())
        end = spec.as_of + dt.timedelta(days=1)
        if spec.period_end is not None:
            end = min(end, dt.datetime.combine(spec.period_end, dt.time()) + dt.timedelta(days=1))
        ranges.append((start, end, spec.as_of))
    quantiles, wins, (closed, undated) = _deal_aggregates(
        log, [(c - history, c) for c in cuts], [*ranges, *won_ranges]
    )
    if not cuts:
        return MomentStates((), tuple(wins), closed, undated, _largest(log, None, 0))
    ep = frontier_episodes(log, max(log.as_of, cuts[-1]))
    query = histogram_query(log, ep, cuts, history_days, fresh_days, edges)
    by_moment = dict(zip(cuts, histograms(log.frame(query), len(cuts)), strict=True))
    arrivals = dict(zip(cuts, _arrivals(log, ep, cuts, arrival_days), strict=True))
    by_cut = dict(zip(cuts, quantiles, strict=True))
    states = tuple(
        MomentState(
            as_of=spec.as_of,
            edges=edges,
            episodes=by_moment[spec.as_of],
            arrivals=arrivals[spec.as_of],
            arrival_days=arrival_days,
            won_in_period=won,
            won_amount_in_period=amount,
            amount_quantiles=by_cut[spec.as_of],
        )
        for spec, (won, amount) in zip(specs, wins, strict=False)
    )
    return MomentStates(
        states=states,
        won=tuple(wins[len(specs):]),
        closed=closed,
        undated=undated,
        largest=_largest(log, ep, largest_limit),
    )


def moment_states(
    log: EventLog,
    specs: Sequence[MomentSpec],
    *,
    history_days: int = 365,
    arrival_days: int = 56,
    edges: tuple[float, ...] = DEFAULT_EDGES,
    fresh_days: int = 91,
) -> list[MomentState]:
    """The :class:`MomentState` of each spec (see :func:`forecast_moments`)."""
    if not specs:
        return []
    return list(
        forecast_moments(
            log, specs, history_days=history_days, arrival_days=arrival_days, edges=edges,
            fresh_days=fresh_days,
        ).states
    )


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
