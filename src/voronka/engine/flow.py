"""Aggregates of how deals flow through the funnel over time, for the key stage and the forecast.

A deal's path along the line is read as a sequence of **episodes**: the deal's *frontier* (the
furthest stage of the line it has reached, in the sense of PRODUCT.md's ``reached``) advances at
each ``reached_at`` time; an episode is the time the frontier spends at one stage. It ends when the
frontier advances (destination: the new frontier stage, skips included), when the deal is closed
(lost, or won by its status without a won-stage event) or is still open at ``as_of`` (censored).
Backward moves do not move the frontier.

Every function takes an ``as_of`` and computes the state **as it stood at that moment**: events,
reach times and closings after it are ignored, so a backtest can ask what the data said in the
middle of a past month. Outputs are aggregates only (stage × bucket × destination, day × stage,
week × stage), never one row per deal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt_type
import ibis.expr.types as ir
import pandas as pd

from voronka.engine.frames import split_quantiles
from voronka.engine.ladder import LADDER, climb, top_counts
from voronka.engine.summary import days_between

if TYPE_CHECKING:
    from voronka.engine.log import EventLog

DEFAULT_EDGES: tuple[float, ...] = (
    *range(0, 14),
    *range(14, 57, 7),
    *range(70, 141, 14),
    180,
    270,
    365,
    540,
    730,
)
"""Starts of the days-in-stage buckets: daily for two weeks, then weekly, fortnightly, and coarse;
the last bucket is open-ended. Fine where most moves happen, coarse where data thins out."""

LOST = -1
"""``to_index`` of an episode that ended with the deal lost."""

OPEN = -2
"""``to_index`` of an episode still going on at ``as_of`` (right-censored)."""


def _line_end(log: EventLog) -> int:
    funnel = log.funnel
    if funnel is None:
        raise RuntimeError("this needs a funnel: build the log with one or call with_funnel")
    return funnel.won_index


def _won_time(summary: ir.Table) -> ir.TimestampValue:
    """When a won deal was won: its first entry into the won stage, else its closing time."""
    return ibis.coalesce(summary.won_at, summary.closed_at)


def _amount(summary: ir.Table) -> ir.FloatingValue | None:
    if "amount" not in summary.columns:
        return None
    return summary.amount.cast("float64")


def _bucket(days: ir.FloatingValue, edges: tuple[float, ...]) -> ir.IntegerValue:
    """Index of the bucket ``[edges[b], edges[b+1])`` that ``days`` falls in (``days ≥ 0``): a
    binary search written as nested CASEs, so every backend computes it the same way in
    ``log2(len(edges))`` comparisons."""

    def search(lo: int, hi: int) -> ir.IntegerValue:
        # the bucket is in [lo, hi): days ≥ edges[lo] is known
        if hi - lo == 1:
            return ibis.literal(lo, "int64")
        mid = (lo + hi) // 2
        return ibis.cases((days >= float(edges[mid]), search(mid, hi)), else_=search(lo, mid))

    return search(0, len(edges))


def closed_code(outcome: ir.StringValue, won_index: int) -> ir.IntegerValue:
    """Where a deal of ``outcome`` closed: :data:`LOST`, the won stage, or :data:`OPEN` (open or
    unknown), the ``closed_to`` of :func:`episode_ends`."""
    return ibis.cases(
        (outcome == "lost", ibis.literal(LOST, "int64")),
        (outcome == "won", ibis.literal(won_index, "int64")),
        else_=ibis.literal(OPEN, "int64"),
    )


def episode_ends(
    ep: ir.Table,
    next_at: ir.TimestampValue,
    cut: ir.TimestampValue,
    won_index: int,
    closed_to: ir.IntegerValue,
) -> dict[str, ir.Value]:
    """The columns of an episode table (``deal_id``, ``stage_index``, ``started_at``, ``ended_at``,
    ``to_index``, ``closed_at``, ``closed_to``) from ``ep``: per deal × entered stage, its
    ``reached_at``, the next entry (``next_at``, ``next_index``; null for the last) and the deal's
    ``closed_to`` (its :func:`closed_code`, joined as an integer; null where ``ep`` has no deal)
    and ``closed_at``. The last episode of a deal closed by ``cut`` ends at its closing (into
    :data:`LOST` or the won stage), an open one at ``cut`` (:data:`OPEN`)."""
    closed_to = ibis.coalesce(closed_to, ibis.literal(OPEN, "int64"))
    is_lost, is_won = closed_to == LOST, closed_to == won_index
    last = next_at.isnull()
    closed = last & ep.closed_at.notnull() & (ep.closed_at <= cut)
    lost = closed & is_lost
    won = closed & is_won
    close_at = ibis.greatest(ep.closed_at, ep.reached_at)
    to_index = ibis.cases(
        (~last, ep.next_index),
        (lost, ibis.literal(LOST, "int64")),
        (won, ibis.literal(won_index, "int64")),
        else_=ibis.literal(OPEN, "int64"),
    )
    return {
        "deal_id": ep.deal_id,
        "stage_index": ep.stage_index.cast("int64"),
        "started_at": ep.reached_at,
        "ended_at": ibis.cases((~last, next_at), (lost | won, close_at), else_=cut),
        "to_index": to_index.cast("int64"),
        "closed_at": ep.closed_at,
        "closed_to": closed_to,
    }


def episodes_table(log: EventLog, as_of: dt.datetime) -> ir.Table:
    """Per deal × frontier episode as it stood at ``as_of`` (lazy; for this module only).

    Columns: ``deal_id``, ``stage_index``, ``started_at``, ``ended_at`` (``as_of`` for open ones),
    ``to_index`` (next frontier stage, :data:`LOST`, or :data:`OPEN`), ``closed_at`` (the deal's)
    and ``closed_to`` (its outcome as an index: :data:`LOST`, the won stage, :data:`OPEN`),
    ``days``. The won stage's own episodes are left out (it is absorbing).
    """
    won_index = _line_end(log)
    cut = ibis.literal(as_of, "timestamp")
    reached = log.reached_at()
    reached = reached.filter(reached.reached_at <= cut)
    ep = reached.group_by(["deal_id", "reached_at"]).agg(stage_index=reached.stage_index.max())
    order = ibis.window(group_by=ep.deal_id, order_by=ep.reached_at)
    ep = ep.mutate(
        next_at=ep.reached_at.lead().over(order),
        next_index=ep.stage_index.lead().over(order),
    )
    ep = ep.filter(ep.stage_index < won_index)
    summary = log.deal_summary()
    deals = summary.select(
        "deal_id", closed_code=closed_code(summary.outcome, won_index), closed_at=summary.closed_at
    )
    ep = ep.left_join(deals, ep.deal_id == deals.deal_id)
    out = ep.select(**episode_ends(ep, ep.next_at, cut, won_index, ep.closed_code))
    out = out.mutate(days=days_between(out.started_at, out.ended_at))
    return out


def won_between(
    log: EventLog, start: dt.datetime, end: dt.datetime, *, as_of: dt.datetime | None = None
) -> tuple[int, float | None]:
    """Deals won in ``[start, end)`` known by ``as_of`` (default: the log's), and their amount sum
    (None when the deals have no amounts)."""
    return won_between_many(log, [(start, end, as_of or log.as_of)])[0]


def money_sum(amount: ir.FloatingValue, where: ir.BooleanValue | None = None) -> ir.Scalar:
    """The sum of ``amount`` (where ``where``), added as decimals (four places): exact, so the
    same on every backend and in every row order (a float sum's last bits follow the order the
    backend adds the rows in)."""
    return amount.cast(dt_type.Decimal(38, 4)).sum(where=where)


def _won_pair(row: Mapping[str, Any], has_amount: bool, i: int | None = None) -> (
    tuple[int, float | None]
):
    """``(deals, amount)`` of an aggregate row (its ``deals_i`` and ``amount_i`` with ``i``;
    amount 0 when no deal was won)."""
    tail = "" if i is None else f"_{i}"
    money: float | None = None
    if has_amount:
        value = row[f"amount{tail}"]
        money = float(value) if pd.notna(value) else 0.0
    return int(row[f"deals{tail}"]), money


def won_between_many(
    log: EventLog, ranges: Sequence[tuple[dt.datetime, dt.datetime, dt.datetime]]
) -> list[tuple[int, float | None]]:
    """:func:`won_between` for several ``(start, end, as_of)`` ranges in one query."""
    if not ranges:
        return []
    summary = log.deal_summary()
    amount = _amount(summary)
    won_at = _won_time(summary)
    lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    won = summary.filter((summary.outcome == "won") & (won_at >= lo) & (won_at < hi))
    won = won.select(won_at=won_at, **({"amount": amount} if amount is not None else {}))
    aggs: dict[str, ir.Scalar] = {}
    for i, (start, end, as_of) in enumerate(ranges):
        cut = min(end, as_of)
        hit = (won.won_at >= start) & (won.won_at < end) & (won.won_at <= cut)
        aggs[f"deals_{i}"] = won.count(where=hit)
        if amount is not None:
            aggs[f"amount_{i}"] = money_sum(won.amount, hit)
    row = log.frame(won.aggregate(**aggs)).iloc[0]
    return [_won_pair(row, amount is not None, i) for i in range(len(ranges))]


def amount_quantiles(
    log: EventLog, since: dt.datetime, as_of: dt.datetime
) -> tuple[float, ...] | None:
    """101 quantiles of the amounts of deals won in ``[since, as_of]`` (None without amounts)."""
    summary = log.deal_summary()
    amount = _amount(summary)
    if amount is None:
        return None
    won_at = _won_time(summary)
    hit = (summary.outcome == "won") & (won_at >= since) & (won_at <= as_of) & amount.notnull()
    chosen = summary.filter(hit).select(amount=amount)
    levels = [i / 100 for i in range(101)]
    frame = log.frame(chosen.aggregate(q=chosen.amount.quantile(levels), n=chosen.count()))
    if int(frame["n"].iloc[0]) == 0:
        return None
    return tuple(float(v) for v in frame["q"].iloc[0])


def stage_outcomes(log: EventLog, by: str | None = None) -> pd.DataFrame:
    """Per [segment] × stage of the line: ``reached`` (deals that reached it), ``won`` and ``lost``
    (of them, those closed won / lost). Stages no deal reached have no row. From the deals'
    furthest stages (:mod:`voronka.engine.ladder`): no join of the deal × stage table."""
    keys = ["segment"] if by is not None else []
    frame = climb(top_counts(log, by), keys, _line_end(log) + 1)
    frame = frame[frame["reached"] > 0]
    keys.append("stage_index")
    return frame[[*keys, *LADDER]].sort_values(keys).reset_index(drop=True)


def weekly_reach(log: EventLog) -> pd.DataFrame:
    """Per ``week`` (Monday, a date) × ``stage_index``: ``deals`` that reached the stage that week.

    For the won stage the week is the week the deal was won (its won-stage entry, else its closing
    time for deals won by status), so the last stage's series is the weekly count of wins.
    """
    won_index = _line_end(log)
    reached = log.reached_at()
    reached = reached.filter(reached.stage_index < won_index)
    reached = reached.mutate(week=reached.reached_at.truncate("W").date())
    before = reached.group_by(["week", "stage_index"]).agg(deals=reached.count())
    summary = log.deal_summary()
    won = summary.filter(summary.outcome == "won")
    won = won.mutate(week=_won_time(won).truncate("W").date())
    wins = won.group_by("week").agg(deals=won.count())
    wins = wins.mutate(stage_index=ibis.literal(won_index, "int64"))
    # One query for both parts (a round trip and a compilation less).
    parts = [
        part.select(week=part.week, stage_index=part.stage_index.cast("int64"),
                    deals=part.deals.cast("int64"))
        for part in (before, wins)
    ]
    frame = log.frame(ibis.union(*parts, distinct=False))
    return frame.sort_values(["week", "stage_index"]).reset_index(drop=True)


WIN_LEVELS = (0.5, 0.9)
"""The quantiles of the days to the win that the key stage reads."""


def win_quantiles(log: EventLog, levels: tuple[float, ...] = WIN_LEVELS) -> pd.DataFrame:
    """Per ``stage_index``: ``won`` (won deals that reached the stage) and the quantiles (``q50``,
    ``q90`` …) of the days from reaching the stage to the win, over them. One query per log and
    ``levels`` (the key stage's turning point and its table, and the reverse funnel, read it)."""

    def build() -> pd.DataFrame:
        reached = log.reached_at()
        summary = log.deal_summary()
        won = summary.filter(summary.outcome == "won")
        won = won.select(won.deal_id, won_at=_won_time(won))
        joined = reached.join(won, "deal_id")
        joined = joined.mutate(days=days_between(joined.reached_at, joined.won_at))
        names = [f"q{round(q * 100)}" for q in levels]
        grouped = joined.group_by("stage_index").agg(
            won=joined.count(), _q=joined.days.quantile(list(levels))
        )
        frame = split_quantiles(log.frame(grouped), "_q", names)
        return frame.sort_values("stage_index").reset_index(drop=True)

    frame: pd.DataFrame = log.cached(("win_quantiles", tuple(levels)), build)
    return frame.copy()


def days_to_win(log: EventLog) -> pd.DataFrame:
    """Per ``stage_index``: ``median_days`` from reaching the stage to being won, over won deals,
    and ``won`` (how many): the ``q50`` of :func:`win_quantiles`."""
    frame = win_quantiles(log).rename(columns={"q50": "median_days"})
    return frame[["stage_index", "median_days", "won"]]
