"""Per-manager aggregates for the team pages (scorecards adjusted for the lead mix, each manager's
share of the forecast).

* :func:`closed_strata` — won and closed deals per value of a column × strata columns × quarter
  the deal was created: the strata of a source-mix-adjusted win rate.
* :func:`open_cells_by` — the open deals as the forecast sees them (the frontier episode open at
  ``as_of``: :func:`voronka.engine.flow.episodes_table`), per value of a column × stage × bucket of
  days waited, with the days summed (the cell's mean age).
* :func:`won_by` — deals won in a window per value of a column (won when they first entered the
  won stage, else at closing, as the forecast counts them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import pandas as pd

from voronka.engine.flow import OPEN, _bucket, _won_time, episodes_table
from voronka.engine.frames import nullable as _nullable
from voronka.engine.log import EventLog


def _text(table: ibis.expr.types.Table, column: str) -> ibis.expr.types.StringValue:
    return table[column].cast("string")


def closed_strata(log: EventLog, column: str, strata: Sequence[str] = ("source",)) -> pd.DataFrame:
    """Closed deals per ``column`` × ``strata`` (those the log has) × ``quarter`` created.

    Columns: ``column``, each stratum column present (text, None for blank), ``quarter`` (first
    day of the quarter of ``created_at``), ``won``, ``closed`` (won + lost). Open deals are left
    out (their outcome is not known yet).
    """
    known = set(log.deal_columns())
    if column not in known:
        raise KeyError(f"no deal column {column!r}")
    present = [c for c in strata if c in known and c != column]
    table = log.deal_summary()
    closed = table.filter(table.outcome.isin(["won", "lost"]))
    closed = closed.mutate(
        quarter=closed.created_at.truncate("Q").date(),
        _won=(closed.outcome == "won").cast("int64"),
        **{c: _text(closed, c) for c in [column, *present]},
    )
    agg = closed.group_by([column, *present, "quarter"]).agg(
        won=closed._won.sum(), closed=closed.count()
    )
    frame = log.frame(agg)
    for c in ("won", "closed"):
        frame[c] = frame[c].fillna(0).astype("int64")
    for c in [column, *present]:
        frame[c] = _nullable(frame[c])
    return frame.sort_values(
        [column, *present, "quarter"], key=lambda s: s.astype(str)
    ).reset_index(drop=True)


def open_cells_by(log: EventLog, column: str, edges: Sequence[float]) -> pd.DataFrame:
    """The open deals at ``as_of`` per ``column`` × stage × bucket of days in the stage.

    Columns: ``segment`` (text, None for blank), ``stage_index`` (the deal's frontier stage, before
    the won stage), ``bucket`` (index into ``edges``), ``deals``, ``days_sum``.
    """
    if column not in log.deal_columns():
        raise KeyError(f"no deal column {column!r}")
    ep = episodes_table(log, log.as_of)
    ep = ep.filter(ep.to_index == OPEN)
    deals = log.deal_summary()
    ep = ep.join(deals.select("deal_id", segment=_text(deals, column)), "deal_id")
    days = ibis.greatest(ep.days, 0.0)
    ep = ep.mutate(bucket=_bucket(days, tuple(float(e) for e in edges)), _days=days)
    agg = ep.group_by(["segment", "stage_index", "bucket"]).agg(
        deals=ep.count(), days_sum=ep._days.sum()
    )
    frame = log.frame(agg)
    for c in ("stage_index", "bucket", "deals"):
        frame[c] = frame[c].fillna(0).astype("int64")
    frame["days_sum"] = frame["days_sum"].fillna(0.0).astype("float64")
    frame["segment"] = _nullable(frame["segment"])
    return frame.sort_values(["stage_index", "bucket"]).reset_index(drop=True)


def won_by(log: EventLog, column: str, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Deals won in ``[start, end)`` (and by ``as_of``) per ``column``: ``segment``, ``won``."""
    if column not in log.deal_columns():
        raise KeyError(f"no deal column {column!r}")
    summary = log.deal_summary()
    won_at = _won_time(summary)
    cut = min(end, log.as_of)
    hit = summary.filter(
        (summary.outcome == "won") & (won_at >= start) & (won_at < end) & (won_at <= cut)
    )
    hit = hit.mutate(segment=_text(hit, column))
    frame = log.frame(hit.group_by("segment").agg(won=hit.count()))
    frame["won"] = frame["won"].fillna(0).astype("int64")
    frame["segment"] = _nullable(frame["segment"])
    return frame
