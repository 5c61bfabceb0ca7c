"""Stage-hygiene aggregates: pile-ups (throughput, open deals' ages), stuck deals, entry criteria.

Every function takes an :class:`~voronka.engine.EventLog` with a funnel and returns a small pandas
frame — one row per stage (or per manager), or an explicitly bounded list of deals — computed on
the log's backend from its per-deal tables:

* open deals and their **days in stage** come from the deal summary (``outcome == "open"``,
  ``current_stage_index``, ``days_in_stage = as_of − entry into the current stage``);
* a deal **leaves** a stage at ``left_at`` of the deal × stage table: its next event of another
  stage after its first entry (a lost event counts as leaving);
* a deal **reached** a stage of the line when it entered it or any later stage (PRODUCT.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from voronka.engine.backend import load_arrow

if TYPE_CHECKING:
    from voronka.engine.log import EventLog

THROUGHPUT_WEEKS = 13
"""The window of the weekly throughput: the 13 weeks (a quarter) before ``as_of``."""

AGE_QUANTILES = (0.25, 0.5, 0.75, 0.9)
"""Quantiles of the open deals' days in stage reported per stage."""

AGE_BUCKETS = (0.0, 7.0, 30.0, 90.0)
"""Starts of the age buckets in days: ``[0, 7)``, ``[7, 30)``, ``[30, 90)``, ``90+``."""

MAX_STUCK_LIST = 50
"""Default bound of the list of the worst stuck deals."""


def _stage_count(log: EventLog) -> int:
    funnel = log.funnel
    if funnel is None:
        raise RuntimeError("this needs a funnel: build the log with one or call with_funnel")
    return len(funnel.stages)


def _grid(log: EventLog) -> pd.DataFrame:
    funnel = log.funnel
    assert funnel is not None
    return pd.DataFrame(
        {
            "stage_id": pd.Series(list(funnel.stage_ids), dtype=object),
            "stage_index": pd.Series(range(len(funnel.stages)), dtype="int64"),
        }
    )


def _open_deals(log: EventLog) -> ir.Table:
    summary = log.deal_summary()
    return summary.filter((summary.outcome == "open") & summary.current_stage_index.notnull())


def stage_throughput(log: EventLog, weeks: int = THROUGHPUT_WEEKS) -> pd.DataFrame:
    """Per stage: ``left`` (deals that left it in the ``weeks`` before ``as_of``) and
    ``weekly_throughput`` (``left / weeks``). Every stage of the funnel, zeros kept."""
    _stage_count(log)
    end = ibis.literal(log.as_of, "timestamp")
    start = ibis.literal(log.as_of - dt.timedelta(weeks=weeks), "timestamp")
    stages = log.deal_stages()
    hit = stages.filter(
        (stages.stage_index >= 0) & (stages.left_at > start) & (stages.left_at <= end)
    )
    frame = log.frame(hit.group_by("stage_index").agg(left=hit.count()))
    grid = _grid(log).merge(frame, on="stage_index", how="left")
    grid["left"] = grid["left"].fillna(0).astype("int64")
    grid["weekly_throughput"] = grid["left"] / float(weeks)
    return grid


def open_ages(log: EventLog) -> pd.DataFrame:
    """Per stage: ``open`` deals now in it, quantiles of their days in stage (``p25_days``,
    ``median_days``, ``p75_days``, ``p90_days``, ``max_days``; NaN without open deals; linear
    interpolation) and counts per age bucket (``age_0_7``, ``age_7_30``, ``age_30_90``,
    ``age_90_plus``)."""
    _stage_count(log)
    open_ = _open_deals(log)
    days = open_.days_in_stage
    aggs: dict[str, ir.Scalar] = {"open": open_.count()}
    names = ("p25_days", "median_days", "p75_days", "p90_days")
    for name, q in zip(names, AGE_QUANTILES, strict=True):
        aggs[name] = days.quantile(q)
    aggs["max_days"] = days.max()
    for label, lo, hi in _bucket_bounds():
        cond = days >= lo if hi is None else (days >= lo) & (days < hi)
        aggs[label] = open_.count(where=cond)
    frame = log.frame(
        open_.group_by(stage_index=open_.current_stage_index.cast("int64")).agg(**aggs)
    )
    grid = _grid(log).merge(frame, on="stage_index", how="left")
    for col in ["open", *[b[0] for b in _bucket_bounds()]]:
        grid[col] = grid[col].fillna(0).astype("int64")
    for col in [*names, "max_days"]:
        grid[col] = grid[col].astype("float64")
    return grid


def _bucket_bounds() -> list[tuple[str, float, float | None]]:
    out: list[tuple[str, float, float | None]] = []
    for i, lo in enumerate(AGE_BUCKETS):
        hi = AGE_BUCKETS[i + 1] if i + 1 < len(AGE_BUCKETS) else None
        label = f"age_{int(lo)}_{int(hi)}" if hi is not None else f"age_{int(lo)}_plus"
        out.append((label, lo, hi))
    return out


def _with_limits(log: EventLog, table: ir.Table, limits: Mapping[int, float]) -> ir.Table:
    """``table`` (deals with ``current_stage_index``) with ``limit_days``, the limit of each
    deal's stage (null where the stage has none). The limits are a small joined table rather
    than literals in the query, so that the query's shape (and its compiled SQL, cached by
    :func:`voronka.engine.backend.compiled_sql`) is the same whatever the limits are."""
    rows = {int(k): float(v) for k, v in sorted(limits.items())}
    table_of_limits = load_arrow(
        log.backend,
        pa.table(
            {
                "l_index": pa.array(list(rows), pa.int64()),
                "l_days": pa.array(list(rows.values()), pa.float64()),
            }
        ),
        "voronka_limits",
    )
    joined = table.left_join(
        table_of_limits, table.current_stage_index.cast("int64") == table_of_limits.l_index
    )
    return joined.mutate(limit_days=joined.l_days).drop("l_index", "l_days")


def _stuck_deals(log: EventLog, limits: Mapping[int, float]) -> ir.Table:
    open_ = _with_limits(log, _open_deals(log), limits)
    return open_.filter(open_.limit_days.notnull() & (open_.days_in_stage > open_.limit_days))


def stuck_counts(
    log: EventLog, limits: Mapping[int, float], *, column: str | None = None
) -> pd.DataFrame:
    """Per stage: ``open`` deals and ``stuck`` ones (days in stage > the stage's limit, strictly;
    stages without a limit have ``stuck = 0``). ``limits``: stage index → days.

    ``column``: a deal column that :func:`stuck_by_column` will be asked for next with the same
    limits; both come from one query (open and stuck deals per stage × value, summed either
    way), kept on the log."""
    cells = _stuck_cells(log, limits, column)
    per_stage = cells.groupby("stage_index", sort=True)[["open", "stuck"]].sum().reset_index()
    grid = _grid(log).merge(per_stage, on="stage_index", how="left")
    for c in ("open", "stuck"):
        grid[c] = grid[c].fillna(0).astype("int64")
    return grid[["stage_id", "stage_index", "open", "stuck"]]


def _stuck_cells(log: EventLog, limits: Mapping[int, float], column: str | None) -> pd.DataFrame:
    """Open and stuck deals per stage × value of ``column`` (text; None: per stage only), one
    query per log, limits and column."""
    if column is not None and column not in log.deal_columns():
        column = None
    key = ("stuck_cells", tuple(sorted((int(k), float(v)) for k, v in limits.items())), column)

    def build() -> pd.DataFrame:
        _stage_count(log)
        open_ = _with_limits(log, _open_deals(log), limits)
        is_stuck = open_.limit_days.notnull() & (open_.days_in_stage > open_.limit_days)
        keys: dict[str, ir.Value] = {"stage_index": open_.current_stage_index.cast("int64")}
        if column is not None:
            keys["value"] = _as_text(open_[column])
        frame = log.frame(
            open_.group_by(**keys).agg(open=open_.count(), stuck=open_.count(where=is_stuck))
        )
        for c in ("stage_index", "open", "stuck"):
            frame[c] = frame[c].astype("int64")
        if column is not None:
            frame["value"] = _shown(frame["value"])
        return frame

    cells: pd.DataFrame = log.cached(key, build)
    return cells


def _as_text(value: ir.Value) -> ir.Value:
    """A deal column on its way to be shown as text: cast on the backend, except floats, which
    come back as numbers for :func:`_shown` to write (Spark's cast writes 15000000.0 as
    ``1.5E7`` where DuckDB writes ``15000000.0``)."""
    return value if value.type().is_floating() else value.cast("string")


def _shown(values: pd.Series) -> pd.Series:
    """Fetched :func:`_as_text` values as ``object`` text, None for null; numbers written by
    Python's ``str(float)``, the same on every backend."""
    return pd.Series(
        [None if pd.isna(v) else v if isinstance(v, str) else str(float(v)) for v in values],
        index=values.index,
        dtype=object,
    )


def stuck_by_column(log: EventLog, limits: Mapping[int, float], column: str) -> pd.DataFrame:
    """Per value of the deal column ``column`` (``manager``): ``open`` deals and ``stuck`` ones,
    most stuck first (``value`` None for a blank). Empty when the column does not exist."""
    if column not in log.deal_columns():
        return pd.DataFrame({"value": [], "open": [], "stuck": []})
    cells = _stuck_cells(log, limits, column)
    # Blank values (None) are grouped as one value: the key below stands for them.
    key = pd.Series([_BLANK if v is None else v for v in cells["value"]], index=cells.index)
    frame = cells.groupby(key, sort=False)[["open", "stuck"]].sum()
    frame = frame.rename_axis("value").reset_index()
    frame["value"] = pd.Series(
        [None if v == _BLANK else v for v in frame["value"]], index=frame.index, dtype=object
    )
    frame["open"] = frame["open"].astype("int64")
    frame["stuck"] = frame["stuck"].astype("int64")
    frame = frame[["value", "open", "stuck"]].sort_values(
        ["stuck", "open", "value"], ascending=[False, False, True], na_position="last"
    )
    return frame.reset_index(drop=True)


_BLANK = "\x00blank"


def worst_stuck(
    log: EventLog,
    limits: Mapping[int, float],
    *,
    limit: int = MAX_STUCK_LIST,
    columns: Sequence[str] = ("manager",),
) -> pd.DataFrame:
    """The stuck deals, worst first, at most ``limit`` rows: ``deal_id``, ``stage_index``,
    ``days`` (in the stage), ``limit_days``, ``overdue_ratio`` (``days / limit_days``) and the
    deal ``columns`` that exist (e.g. ``manager``; missing ones come back as None).

    Worst = the largest ``overdue_ratio`` (a deal 3× past a 7-day limit is worse than one 1.2×
    past a 60-day limit), ties by more days, then by deal id.
    """
    stuck = _stuck_deals(log, limits)
    present = [c for c in columns if c in log.deal_columns()]
    stuck = stuck.mutate(overdue_ratio=stuck.days_in_stage / stuck.limit_days)
    chosen = stuck.select(
        "deal_id",
        stage_index=stuck.current_stage_index.cast("int64"),
        days=stuck.days_in_stage,
        limit_days=stuck.limit_days,
        overdue_ratio=stuck.overdue_ratio,
        **{c: _as_text(stuck[c]) for c in present},
    )
    ordered = chosen.order_by(
        [ibis.desc(chosen.overdue_ratio), ibis.desc(chosen.days), chosen.deal_id]
    ).limit(limit)
    frame = log.frame(ordered)
    for c in columns:
        if c not in frame.columns:
            frame[c] = pd.Series([None] * len(frame), dtype=object)
        else:
            frame[c] = _shown(frame[c])
    return frame


def _empty(value: ir.Value) -> ir.BooleanValue:
    """A value that does not count as filled: null, or blank text."""
    if value.type().is_string():
        return value.isnull() | (value.strip() == "")
    return value.isnull()


def _violation_counts(
    rows: ir.Table,
    empties: Sequence[ir.BooleanValue],
    prefix: str,
    where: ir.BooleanValue | None = None,
) -> dict[str, ir.Scalar]:
    """The counts of :func:`entry_violations` for one stage, of ``rows`` (``where`` they reached
    it): ``reached``, ``violations`` (a required column empty: any of ``empties``, one flag per
    column), ``f0`` … (each column empty), named with ``prefix``."""
    any_empty = ibis.or_(*empties) if len(empties) > 1 else empties[0]

    def within(condition: ir.BooleanValue) -> ir.BooleanValue:
        return condition if where is None else where & condition

    counts: dict[str, ir.Scalar] = {
        f"{prefix}reached": rows.count() if where is None else rows.count(where=where),
        f"{prefix}violations": rows.count(where=within(any_empty)),
    }
    for i, empty in enumerate(empties):
        counts[f"{prefix}f{i}"] = rows.count(where=within(empty))
    return counts


def entry_violations(
    log: EventLog, requires: Mapping[int, Sequence[str]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deals that reached a stage while a column it requires is empty.

    ``requires``: stage index → required deal columns. A stage of the line counts as reached when
    the deal entered it or any later stage; a stage off the line (after the won stage) when the deal
    entered it. Columns absent from the data cannot be checked and are left out here (the caller
    reports them).

    Returns ``(stages, fields)``: ``stages`` has per stage with requirements ``stage_index``,
    ``reached``, ``violations`` (deals with at least one required column empty); ``fields`` has
    ``stage_index``, ``column``, ``violations``.
    """
    funnel = log.funnel
    if funnel is None:
        raise RuntimeError("this needs a funnel: build the log with one or call with_funnel")
    present = set(log.deal_columns())
    summary = log.deal_summary()
    stages = log.deal_stages()
    off_line = stages.filter(stages.stage_index > funnel.won_index).select("deal_id", "stage_index")
    checks = {
        int(index): cols
        for index, columns in sorted(requires.items())
        if (cols := [c for c in columns if c in present])
    }
    # A deal reached stage k of the line when its furthest stage of the line is k or later (the
    # ``reached_at`` table has its rows 0 … ``max_stage_index``): every line stage's counts are
    # filtered counts of the deal summary, one aggregate without a join.
    # Each required column's emptiness is one flag, computed once per deal before the counts and
    # only for the deals that reached the first stage checked (every count asks for that): a
    # blank test trims the text, which costs DuckDB more than the rest of the aggregate, and
    # every stage requiring the column (and its "any column empty") reads it.
    line = {index: cols for index, cols in checks.items() if index <= funnel.won_index}
    needed = list(dict.fromkeys(c for cols in line.values() for c in cols))
    rows = summary.filter(summary.max_stage_index >= min(line, default=0))
    flags = rows.select(
        "max_stage_index", **{f"_e{i}": _empty(rows[c]) for i, c in enumerate(needed)}
    )
    aggs: dict[str, ir.Scalar] = {}
    for index, cols in line.items():
        reached = flags.max_stage_index >= index
        empties = [flags[f"_e{needed.index(c)}"] for c in cols]
        aggs.update(_violation_counts(flags, empties, f"s{index}_", reached))
    counts = log.frame(flags.aggregate(**aggs)).iloc[0] if aggs else None
    stage_rows: list[dict[str, int]] = []
    field_rows: list[dict[str, object]] = []
    for index, cols in checks.items():
        if index <= funnel.won_index:
            assert counts is not None
            row = {name[len(f"s{index}_"):]: counts[name] for name in aggs
                   if name.startswith(f"s{index}_")}
        else:
            here = off_line.filter(off_line.stage_index == index)
            joined = here.join(summary, "deal_id")
            empties = [_empty(joined[c]) for c in cols]
            row = log.frame(joined.aggregate(**_violation_counts(joined, empties, ""))).iloc[0]
        stage_rows.append(
            {
                "stage_index": index,
                "reached": int(row["reached"] or 0),
                "violations": int(row["violations"] or 0),
            }
        )
        for i, c in enumerate(cols):
            field_rows.append(
                {"stage_index": index, "column": c, "violations": int(row[f"f{i}"] or 0)}
            )
    stage_frame = pd.DataFrame(stage_rows, columns=["stage_index", "reached", "violations"])
    field_frame = pd.DataFrame(field_rows, columns=["stage_index", "column", "violations"])
    return stage_frame, field_frame
