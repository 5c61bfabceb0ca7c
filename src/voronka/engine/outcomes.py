"""Aggregates for the censoring-aware statistics: step outcomes by age, stratified cohorts, lost
reasons.

Every function returns a small pandas frame of counts; the raw rows stay on the backend.

* :func:`step_outcomes` — per [segment] × step k → k+1 × whole days since the deal reached k:
  how many deals moved on that day, were lost that day, or are still open at that age (censored).
  The input of the Aalen–Johansen estimator (``voronka.audit.stats.competing``).
* :func:`stratified_cohorts` — mature transition counts per step × several deal columns × quarter
  of reaching the step: the strata of the adjusted (Mantel–Haenszel) segment comparisons.
* :func:`lost_reason_counts` — lost deals per furthest stage × reason × month lost.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from voronka.engine import summary
from voronka.engine.backend import load_arrow
from voronka.engine.cohorts import _transitions
from voronka.engine.frames import nullable as _nullable
from voronka.engine.frames import sort_key as _key

if TYPE_CHECKING:
    from voronka.engine.log import EventLog

def _as_of_seconds(log: EventLog) -> float:
    as_of = log.as_of
    return calendar.timegm(as_of.timetuple()) + as_of.microsecond / 1e6


MAX_AGE_DAYS = 730
"""Ages (days) at or beyond which outcomes are pooled in the last bucket."""


def step_outcomes(
    log: EventLog, *, by: str | None = None, alongside: Sequence[str | None] = ()
) -> pd.DataFrame:
    """Per [segment] × stage k of the line (before the won stage) × age: outcome counts.

    For each deal that reached k (entered it or a later stage): ``moved`` at the age (whole days
    from reaching k) when it reached k+1; else ``lost`` at the age it was closed as lost; else
    ``open`` at its age at ``as_of`` (censored). Ages are floored to days, capped at
    :data:`MAX_AGE_DAYS`. Columns: [``segment``], ``stage_index``, ``age``, ``moved``, ``lost``,
    ``open``. Only rows with a deal are returned.

    ``alongside``: other breakdowns (None: funnel-wide) the caller will ask next; they are
    computed in the same query (one grouped aggregate per breakdown over the same rows) and kept
    on the log for those calls.
    """
    kept: dict[str | None, pd.DataFrame] = log.cached(("step_outcomes",), dict)
    if by not in kept:
        missing = list(dict.fromkeys(b for b in (by, *alongside) if b not in kept))
        known = set(log.deal_columns())
        deals = log.deal_summary()
        # Side by side in one query only text breakdowns: another type keeps its values' type.
        text = [b for b in missing if b is None or (b in known and deals[b].type().is_string())]
        # Funnel-wide = the sum over a text breakdown's segments (blank included): exact, and one
        # grouped pass fewer.
        derive = None in text and len(text) > 1
        if derive:
            text = [b for b in text if b is not None]
        together = [text] if len(text) > 1 else []
        alone = [
            [b] for b in missing
            if (b is not None or not derive) and (b not in text or len(text) == 1)
        ]
        for group in (*together, *alone):
            kept.update(_step_outcomes(log, group))
        if derive:
            finer = kept[text[0]]
            total = finer.groupby(["stage_index", "age"], sort=False)[["moved", "lost", "open"]]
            kept[None] = finish_outcomes(total.sum().reset_index(), False)
    return kept[by].copy()


def _step_outcomes(log: EventLog, bys: Sequence[str | None]) -> dict[str | None, pd.DataFrame]:
    for column in bys:
        if column is not None:
            log.segmented(column)  # an unknown column is a usage error
    columns = [c for c in bys if c is not None]
    tr = _transitions(log)
    deals = log.deal_summary()
    cols = {"deal_id": deals.deal_id, "outcome": deals.outcome, "closed_at": deals.closed_at}
    cols.update({f"s{i}": deals[c] for i, c in enumerate(columns)})
    tr = tr.join(deals.select(**cols), "deal_id")
    tr = tr.mutate(**outcome_columns(log, tr))
    parts = []
    # One breakdown: its segment keeps its type; several (text columns only) share one text column.
    typed = len(bys) == 1
    for i, column in enumerate(bys):
        keys = [] if column is None else [f"s{columns.index(column)}"]
        part = outcome_part(tr, keys)
        if typed:
            parts.append(part.rename({"segment": keys[0]}) if keys else part)
            continue
        segment = part[keys[0]].cast("string") if keys else ibis.null("string")
        parts.append(
            part.mutate(_by=ibis.literal(i, "int64"), segment=segment).select(
                "_by", "segment", "stage_index", "age", "moved", "lost", "open"
            )
        )
    frame = log.frame(ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0])
    out: dict[str | None, pd.DataFrame] = {}
    for i, column in enumerate(bys):
        part = frame if typed else frame[frame["_by"] == i].drop(columns="_by")
        if column is None:
            part = part.drop(columns="segment", errors="ignore")
        out[column] = finish_outcomes(part.reset_index(drop=True), column is not None)
    return out


def outcome_columns(log: EventLog, tr: ir.Table) -> dict[str, ir.Value]:
    """``age`` and the 0/1 ``_moved`` / ``_lost`` / ``_open`` of transitions ``tr`` (``reached_at``,
    ``next_at``, and the deal's ``outcome`` and ``closed_at``): see :func:`step_outcomes`."""
    moved = tr.next_at.notnull()
    lost = (~moved) & (tr.outcome == "lost")
    start = summary.epoch_seconds(tr.reached_at)
    end = ibis.cases(
        (moved, summary.epoch_seconds(tr.next_at)),
        (lost, ibis.coalesce(summary.epoch_seconds(tr.closed_at), ibis.literal(_as_of_seconds(log)))),
        else_=ibis.literal(_as_of_seconds(log)),
    )
    days = ((end - start) / summary.SECONDS_PER_DAY).floor()
    return {
        "age": ibis.greatest(ibis.least(days, MAX_AGE_DAYS), 0).cast("int64"),
        "_moved": moved.cast("int64"),
        "_lost": lost.cast("int64"),
        "_open": ((~moved) & (~lost)).cast("int64"),
    }


def outcome_part(rows: ir.Table, keys: Sequence[str]) -> ir.Table:
    """Rows with :func:`outcome_columns` grouped by ``keys`` × ``stage_index`` × ``age``."""
    return rows.group_by([*keys, "stage_index", "age"]).agg(
        moved=rows._moved.sum(), lost=rows._lost.sum(), open=rows._open.sum()
    )


def finish_outcomes(frame: pd.DataFrame, segmented: bool) -> pd.DataFrame:
    """A step-outcome frame typed and ordered as :func:`step_outcomes` returns it."""
    for c in ("stage_index", "age", "moved", "lost", "open"):
        frame[c] = frame[c].fillna(0).astype("int64")
    keys = ["segment"] if segmented else []
    if segmented:
        frame["segment"] = _nullable(frame["segment"])
    frame = frame.sort_values([*keys, "stage_index", "age"], key=_key).reset_index(drop=True)
    return frame[[*keys, "stage_index", "age", "moved", "lost", "open"]]


_STRATA_PERIODS = {"quarter": "Q", "month": "M"}


def stratified_cohorts(
    log: EventLog,
    horizons: Mapping[int, float],
    columns: Sequence[str],
    *,
    period: str = "quarter",
    alongside: Sequence[Sequence[str]] = (),
) -> pd.DataFrame:
    """Mature transition counts per step × ``columns`` × quarter (or month) of reaching the step.

    A deal is mature for step k once it reached k at least ``horizons[k]`` days before ``as_of``
    (as in :func:`voronka.engine.cohorts.stage_cohorts`). Columns: each of ``columns`` (text,
    None for blank), ``quarter`` (first day of the quarter the deal reached k; ``period="month"``:
    ``month``, the first day of its month), ``stage_index``, ``mature``, ``mature_moved``. Only
    strata with a mature deal are returned.

    The counts come from one query per log and horizon set at month grain, for ``columns`` and
    every column list of ``alongside`` at once (what the caller will ask next: the leaks ask
    the funnel-wide months and each breakdown's strata), kept on the log; a quarter is a sum of
    its three months, so every count is exactly what a query per list gives.
    """
    if period not in _STRATA_PERIODS:
        raise ValueError(f"unknown period {period!r}: quarter or month")
    wanted = tuple(columns)
    cubes = _mature_months(log, horizons, [wanted, *(tuple(c) for c in alongside)])
    frame = cubes[wanted].copy()
    if period == "quarter":
        quarters = {m: dt.date(m.year, 3 * ((m.month - 1) // 3) + 1, 1)
                    for m in set(frame["month"])}  # a few dozen months: one date each
        quarter = pd.Series([quarters[m] for m in frame["month"]], index=frame.index, dtype=object)
        frame = frame.assign(month=quarter).rename(columns={"month": "quarter"})
        keys = [*wanted, "quarter", "stage_index"]
        frame = frame.groupby(keys, dropna=False, sort=False)[["mature", "mature_moved"]].sum()
        frame = frame.reset_index()
        for c in wanted:
            frame[c] = _nullable(frame[c])
    name = "quarter" if period == "quarter" else "month"
    for c in ("stage_index", "mature", "mature_moved"):
        frame[c] = frame[c].astype("int64")
    frame = frame.sort_values([*wanted, name, "stage_index"], key=_key).reset_index(drop=True)
    return frame[[*wanted, name, "stage_index", "mature", "mature_moved"]]


def _mature_months(
    log: EventLog, horizons: Mapping[int, float], sets: Sequence[tuple[str, ...]]
) -> dict[tuple[str, ...], pd.DataFrame]:
    """Per column list of ``sets``: mature and mature-moved deals per its columns × month of
    reaching the step × step, computed in one query for the lists not yet kept on the log."""
    kept, missing, derived = month_plan(log, horizons, sets)
    if not missing and not derived:
        return kept
    every = list(dict.fromkeys(c for s in missing for c in s))
    tr = _transitions(log)
    deals = log.deal_summary()
    tr = tr.join(deals.select("deal_id", *every), "deal_id")
    table = horizon_table(log, horizons)
    tr = mature_rows(log, tr.join(table, tr.stage_index == table.h_index))
    tr = tr.mutate(**{c: tr[c].cast("string") for c in every})
    parts = []
    for i, wanted in enumerate(missing):
        part = month_part(tr, wanted)
        others = {c: ibis.null("string") for c in every if c not in wanted}
        parts.append(
            part.mutate(_set=ibis.literal(i, "int64"), **others).select(
                "_set", *every, "month", "stage_index", "mature", "mature_moved"
            )
        )
    frame = log.frame(ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0])
    keep_months(kept, missing, derived, frame, {c: c for c in every})
    return kept


def month_plan(
    log: EventLog, horizons: Mapping[int, float], sets: Sequence[tuple[str, ...]]
) -> tuple[
    dict[tuple[str, ...], pd.DataFrame], list[tuple[str, ...]], dict[tuple[str, ...], tuple[str, ...]]
]:
    """The mature months kept on the log for ``horizons``, the lists of ``sets`` to group on the
    backend, and those to sum from another one (a list whose columns are all in another one asked
    with it is a sum of that one's counts: whole-deal integers, exact)."""
    rows = _finite(horizons)
    kept: dict[tuple[str, ...], pd.DataFrame] = log.cached(
        ("mature_months", tuple(sorted(rows.items()))), dict
    )
    missing = list(dict.fromkeys(s for s in sets if s not in kept))
    derived = {s: t for s in missing for t in missing if set(s) < set(t)}
    return kept, [s for s in missing if s not in derived], derived


def _finite(horizons: Mapping[int, float]) -> dict[int, float]:
    return {int(k): float(v) for k, v in horizons.items() if v is not None and np.isfinite(v)}


def horizon_table(log: EventLog, horizons: Mapping[int, float]) -> ir.Table:
    """``h_index`` (stage) → ``h_seconds`` (its finite horizon) as a small table on the backend."""
    rows = _finite(horizons)
    return load_arrow(
        log.backend,
        pa.table(
            {
                "h_index": pa.array(list(rows), pa.int64()),
                "h_seconds": pa.array(
                    [v * summary.SECONDS_PER_DAY for v in rows.values()], pa.float64()
                ),
            }
        ),
        "voronka_strata_horizons",
    )


def mature_rows(log: EventLog, tr: ir.Table) -> ir.Table:
    """The transitions ``tr`` (with ``h_seconds``) mature for their step, with ``month`` (of
    reaching it) and the 0/1 ``_moved``."""
    age = ibis.literal(_as_of_seconds(log)) - summary.epoch_seconds(tr.reached_at)
    tr = tr.filter(age >= tr.h_seconds)
    return tr.mutate(
        month=tr.reached_at.truncate("M").date(), _moved=tr.next_at.notnull().cast("int64")
    )


def month_part(rows: ir.Table, keys: Sequence[str]) -> ir.Table:
    """:func:`mature_rows` grouped by ``keys`` × ``month`` × ``stage_index``."""
    return rows.group_by([*keys, "month", "stage_index"]).agg(
        mature=rows.count(), mature_moved=rows._moved.sum()
    )


def keep_months(
    kept: dict[tuple[str, ...], pd.DataFrame],
    missing: Sequence[tuple[str, ...]],
    derived: Mapping[tuple[str, ...], tuple[str, ...]],
    frame: pd.DataFrame,
    names: Mapping[str, str],
) -> None:
    """Keep each list of ``missing`` from ``frame`` (its rows with ``_set`` = the list's position;
    column ``names[c]`` holds deal column ``c``), then the ``derived`` lists summed from them."""
    for c in ("stage_index", "mature", "mature_moved"):
        frame[c] = frame[c].fillna(0).astype("int64")
    for i, wanted in enumerate(missing):
        part = frame[frame["_set"] == i]
        part = part[[*(names[c] for c in wanted), "month", "stage_index", "mature", "mature_moved"]]
        part = part.rename(columns={names[c]: c for c in wanted}).reset_index(drop=True)
        for c in wanted:
            part[c] = _nullable(part[c])
        kept[wanted] = part
    for wanted, source in derived.items():
        finer = kept[source]
        keys = [*wanted, "month", "stage_index"]
        part = finer.groupby(keys, dropna=False, sort=False)[["mature", "mature_moved"]].sum()
        part = part.reset_index()
        for c in ("stage_index", "mature", "mature_moved"):
            part[c] = part[c].astype("int64")
        for c in wanted:
            part[c] = _nullable(part[c])
        kept[wanted] = part[[*keys, "mature", "mature_moved"]]


def lost_reason_counts(log: EventLog, column: str = "lost_reason") -> pd.DataFrame:
    """Lost deals per furthest stage of the line × reason × month closed.

    Columns: ``stage_index`` (furthest stage reached; -1 for none), ``reason`` (text, None when
    blank), ``month`` (first day of the month the deal was closed; None when unknown), ``deals``.
    Empty when the deals have no ``column``.
    """
    if column not in log.deal_columns():
        return pd.DataFrame(columns=["stage_index", "reason", "month", "deals"])
    deals = log.deal_summary()
    lost = deals.filter(deals.outcome == "lost")
    # Grouped by the reason as written first, trimmed after: trimming a set of characters costs
    # DuckDB more per row than the grouping (a third of the query at 1,000,000 deals), and the
    # reasons are few; the second grouping merges those that differ only by blanks.
    raw = lost.group_by(
        stage_index=lost.max_stage_index.fill_null(-1).cast("int64"),
        raw=lost[column].cast("string"),
        month=lost.closed_at.truncate("M").date(),
    ).agg(deals=lost.count())
    reason = raw.raw.strip()
    raw = raw.mutate(reason=ibis.ifelse(reason == "", ibis.null("string"), reason))
    frame = log.frame(
        raw.group_by(["stage_index", "reason", "month"]).agg(deals=raw.deals.sum())
    )
    frame["deals"] = frame["deals"].astype("int64")
    frame["stage_index"] = frame["stage_index"].astype("int64")
    frame["reason"] = _nullable(frame["reason"])
    return frame.sort_values(["stage_index", "reason", "month"], key=_key).reset_index(drop=True)
