"""The frontier episodes of a log kept on the backend, and the grouped rows every moment's episode
histogram is summed from (for :mod:`voronka.engine.moments`; the method is in its docstring).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from voronka.engine.backend import load_arrow
from voronka.engine.flow import (
    LOST,
    OPEN,
    _amount,
    _bucket,
    _line_end,
    closed_code,
    episode_ends,
)
from voronka.engine.summary import SECONDS_PER_DAY, days_between, epoch_seconds

if TYPE_CHECKING:
    from voronka.engine.log import EventLog

_QUERY_KEYS = ["m", "stage_index", "bucket", "to_index", "start_iv", "start_fv", "end_iv"]
"""The grouping columns of the histogram query (see :func:`histogram_query`)."""


def _at(moment: dt.datetime) -> ir.TimestampValue:
    return ibis.literal(moment, "timestamp")


def _count_before(value: ir.TimestampValue, moments: Sequence[dt.datetime], *, strict: bool) -> (
    ir.IntegerValue
):
    """How many of ``moments`` (increasing) are ``< value`` (``strict``) or ``≤ value`` (``value``
    not null): a binary search written as nested CASEs, ``log2(len(moments))`` comparisons a row
    instead of one per moment (and a short SQL text, quick to compile)."""

    def search(lo: int, hi: int) -> ir.IntegerValue:
        # the count is in [lo, hi]
        if lo == hi:
            return ibis.literal(lo, "int64")
        mid = (lo + hi) // 2
        before = (_at(moments[mid]) < value) if strict else (_at(moments[mid]) <= value)
        return ibis.cases((before, search(mid + 1, hi)), else_=search(lo, mid))

    return search(0, len(moments))


def _moment_table(
    log: EventLog,
    cuts: Sequence[dt.datetime],
    sinces: Sequence[dt.datetime],
    fresh_sinces: Sequence[dt.datetime],
) -> ir.Table:
    """The moments as a small table on the log's backend: ``moment`` (0, 1 …), its ``cut``, the
    start of its history window (``since``) and of its fresh window (``fresh_since``)."""
    stamp = pa.timestamp("us")
    table = pa.table({
        "moment": pa.array(range(len(cuts)), pa.int64()),
        "cut": pa.array(cuts, stamp),
        "since": pa.array(sinces, stamp),
        "fresh_since": pa.array(fresh_sinces, stamp),
    })
    return load_arrow(log.backend, table, "voronka_moment_bounds")


def _seconds(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.IntegerValue:
    """``end − start`` in whole seconds: summed as integers, so a day sum does not depend on the
    order the backend adds the rows in (floats would, in their last bits)."""
    return (epoch_seconds(end) - epoch_seconds(start)).round().cast("int64")


def frontier_episodes(log: EventLog, as_of: dt.datetime) -> ir.Table:
    """Per deal × frontier episode as it stood at ``as_of``, materialised once per log and moment
    (the histograms, arrivals and largest open deals all read it).

    The columns of :func:`flow.episodes_table` (same rows and values), plus the won stage's own
    episodes, ``first`` (the deal's first episode: its path began then, at that stage) and
    ``amount`` (the deal's, when the deals have amounts). Reach times rise along the line, so a
    frontier episode is the last stage of a run of equal reach times (the next stage reached later,
    or not yet): a filter of the reach table instead of a grouping by deal and time. The next
    frontier stage comes from :func:`_run_links` instead of a window over the deal's episodes.
    """
    key = "frontier_episodes_" + as_of.strftime("%Y%m%d%H%M%S%f")
    stored = log.materialized(key, lambda: _frontier_rows(log, as_of))
    # ``days`` is computed where it is read: stored, it cost more to write for every row (about
    # an eighth of the materialisation) than the readers spend computing it.
    return stored.mutate(days=days_between(stored.started_at, stored.ended_at))


def _run_links(reached: ir.Table) -> ir.Table:
    """What a frontier episode needs from the deal's other stages, keyed by ``link_deal`` and
    ``link_index`` (a frontier stage): ``next_index``, the frontier stage after it when that is
    not the next stage, and ``opens``, whether the deal's path began at it (a later stage than the
    first). Few rows: only runs of stages reached at the same time give one.

    ``reached`` is the reach table cut at a moment. Along a deal's line (stages 0 … its furthest,
    every one present), reach times rise; a *run* is a stretch of stages reached at the same time,
    each stage but the last followed by one with the same time (``next_at == reached_at``), the
    last a frontier stage. So the frontier stage after frontier stage ``k`` ends the run that
    starts at ``k + 1`` (``k + 1`` itself when that run is one stage), and the deal's first
    frontier stage ends the run that starts at stage 0.
    """
    inner = reached.filter(reached.next_at == reached.reached_at)  # not the last of its run
    runs = inner.group_by(["deal_id", "reached_at"]).agg(
        start=inner.stage_index.min(), end=inner.stage_index.max() + 1
    )
    after = runs.select(
        link_deal=runs.deal_id,
        link_index=runs.start - 1,
        next_index=runs.end,
        opens=ibis.literal(False),
    )
    ends = runs.select(
        link_deal=runs.deal_id,
        link_index=runs.end,
        next_index=ibis.null("int64"),
        opens=runs.start == 0,
    )
    links = ibis.union(after, ends)
    # A stage can both end a run and precede the next one: one row per key.
    return links.group_by(["link_deal", "link_index"]).agg(
        next_index=links.next_index.max(), opens=links.opens.any()
    )


def _line_deals(log: EventLog) -> ir.Table:
    """The deal summary's deals with a stage of the line (``max_stage_index`` not null): the only
    deals a ``reached_at`` row belongs to, so the episodes' join with them gives the same rows.

    For the join's plan: DuckDB estimates a filtered table at a fifth of its rows, so the frontier
    rows (a filter of ``reached_at``) looked smaller than the unfiltered deal summary and it built
    its hash table on the 2.6 million rows of 1,000,000 deals instead of on the deals. With both
    sides filtered it builds on the deals: the query 1.19–1.25 → 1.07–1.09 s CPU. (The same filter
    in the shared pass's join made its group-bys slower, 4.65 → 5.5 s CPU: not used there.)"""
    deals = log.deal_summary()
    return deals.filter(deals.max_stage_index.notnull())


def _frontier_rows(log: EventLog, as_of: dt.datetime) -> ir.Table:
    won_index = _line_end(log)
    cut = _at(as_of)
    reached = log.reached_at()
    reached = reached.filter(reached.reached_at <= cut)
    tops = reached.filter(reached.next_at.isnull() | (reached.next_at > reached.reached_at))
    links = _run_links(reached)
    ep = tops.left_join(
        links, (tops.deal_id == links.link_deal) & (tops.stage_index == links.link_index)
    )
    # The next frontier stage was reached at ``next_at`` (the next stage's reach time).
    moved = ep.next_at.notnull() & (ep.next_at <= cut)
    ep = ep.select(
        "deal_id",
        "stage_index",
        "reached_at",
        next_reach=ibis.cases((moved, ep.next_at), else_=ibis.null("timestamp")),
        next_index=ibis.cases(
            (moved, ibis.coalesce(ep.next_index, ep.stage_index + 1)), else_=ibis.null("int64")
        ),
        first=(ep.stage_index == 0) | ep.opens.fill_null(False),
    )
    summary = _line_deals(log)
    amount = _amount(summary)
    extra = {"amount": amount} if amount is not None else {}
    # The outcome as its stage index before the join: an integer in the hash table instead of
    # a string (the frontier query 0.56 → 0.49 s CPU at 1,000,000 deals), the same rows.
    deals = summary.select(
        deal_key=summary.deal_id,
        closed_code=closed_code(summary.outcome, won_index),
        closed_at=summary.closed_at,
        **extra,
    )
    ep = ep.left_join(deals, ep.deal_id == deals.deal_key)
    return ep.select(
        **episode_ends(ep, ep.next_reach, cut, won_index, ep.closed_code),
        first=ep.first,
        **({"amount": ep.amount} if amount is not None else {}),
    )


def histogram_query(
    log: EventLog,
    ep: ir.Table,
    cuts: Sequence[dt.datetime],
    history_days: int,
    fresh_days: int,
    edges: tuple[float, ...],
) -> ir.Table:
    """The grouped rows every moment's histogram is summed from (see the module docstring)."""
    won_index = _line_end(log)
    sinces = [c - dt.timedelta(days=history_days) for c in cuts]
    fresh_sinces = [c - dt.timedelta(days=fresh_days) for c in cuts]
    ep = ep.filter(ep.stage_index < won_index)
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
        seconds=_seconds(done.started_at, done.ended_at),
    )
    # One row per moment the episode spans: it began by it and had not ended.
    span = ep.filter(
        (still_open | (ep.ended_at > _at(cuts[0]))) & (ep.started_at <= _at(cuts[-1]))
    )
    # Only the columns read below, and only the episodes that span a moment (most that end after
    # the first one span none), go through the unnest: it copies what it carries once a moment.
    span = span.select(
        "stage_index", "started_at", "closed_at", "closed_to",
        lo=_count_before(span.started_at, cuts, strict=True),
        hi=ibis.cases((still_open, ibis.literal(len(cuts), "int64")), else_=ended_by),
    )
    span = span.filter(span.lo < span.hi)
    span = span.select(
        "stage_index", "started_at", "closed_at", "closed_to",
        m=ibis.range(span.lo, span.hi).unnest(),
    )
    # Each moment's bounds by a join with the moments' small table (a hash join on ``m``, where
    # a search over the moments written as nested CASEs cost a projection per bound).
    bounds = _moment_table(log, cuts, sinces, fresh_sinces)
    span = span.join(bounds, span.m == bounds.moment)
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
        seconds=_seconds(span.started_at, ended),
    )
    span = span.mutate(bucket=_bucket(span.days, edges)).drop("days")
    return ibis.union(
        done.group_by(_QUERY_KEYS).agg(deals=done.count(), seconds=done.seconds.sum()),
        span.group_by(_QUERY_KEYS).agg(deals=span.count(), seconds=span.seconds.sum()),
    )


def _unique_rows(columns: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(np.stack(columns, axis=1), axis=0, return_inverse=True)`` (the distinct rows in
    lexicographic order, and each row's index among them) through one integer key per row: the
    columns' values shifted to start at 0 and put side by side in a mixed radix, whose numeric
    order is the rows' lexicographic order. Many times quicker than sorting rows."""
    if not len(columns[0]):
        return np.zeros((0, len(columns)), dtype=np.int64), np.zeros(0, dtype=np.int64)
    lows = [int(c.min()) for c in columns]
    spans = [int(c.max()) - low + 1 for c, low in zip(columns, lows, strict=True)]
    if np.prod([float(x) for x in spans]) >= 2.0**62:  # the key would overflow: sort rows
        cells, where = np.unique(np.stack(columns, axis=1), axis=0, return_inverse=True)
        return cells, where.reshape(-1)
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for c, low, span in zip(columns, lows, spans, strict=True):
        key = key * span + (c - low)
    unique, where = np.unique(key, return_inverse=True)
    cells = np.empty((len(unique), len(columns)), dtype=np.int64)
    rest = unique
    for i in range(len(columns) - 1, -1, -1):
        rest, cells[:, i] = np.divmod(rest, spans[i])
        cells[:, i] += lows[i]
    return cells, where.reshape(-1)


def histograms(frame: pd.DataFrame, n_cuts: int) -> list[pd.DataFrame]:
    """Each moment's histogram from the grouped rows of :func:`histogram_query` (numpy)."""
    cols = {k: frame[k].to_numpy(dtype=np.int64) for k in [*_QUERY_KEYS, "deals", "seconds"]}
    done = cols["m"] < 0
    out: list[pd.DataFrame] = []
    for i in range(n_cuts):
        ended = done & (cols["end_iv"] <= i)
        spanning = cols["m"] == i
        pick = ended | spanning
        # done rows: recent for the moments m < start_iv; spanning rows: flags of their moment
        threshold = np.where(spanning, 0, i)[pick]
        recent = cols["start_iv"][pick] > threshold
        fresh = cols["start_fv"][pick] > threshold
        columns = [cols["stage_index"][pick], cols["bucket"][pick], cols["to_index"][pick],
                   recent.astype(np.int64), fresh.astype(np.int64)]
        cells, where = _unique_rows(columns)
        deals = np.zeros(len(cells), dtype=np.int64)
        seconds = np.zeros(len(cells), dtype=np.int64)
        np.add.at(deals, where, cols["deals"][pick])
        np.add.at(seconds, where, cols["seconds"][pick])
        out.append(
            pd.DataFrame(
                {
                    "stage_index": cells[:, 0],
                    "bucket": cells[:, 1],
                    "to_index": cells[:, 2],
                    "recent": cells[:, 3].astype(bool),
                    "fresh": cells[:, 4].astype(bool),
                    "deals": deals,
                    "days_sum": seconds / SECONDS_PER_DAY,
                }
            )
        )
    return out
