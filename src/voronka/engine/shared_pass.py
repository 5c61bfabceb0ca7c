"""The step outcomes, the mature months and the weekly cohort cube of the same breakdowns from
one join.

:func:`~voronka.engine.outcomes.step_outcomes` (the censoring-aware rates),
:func:`~voronka.engine.outcomes.stratified_cohorts` (the leaks' strata) and the cohort cube of
:func:`~voronka.engine.cohorts.stage_cohorts` (the anomalies' weekly series, for their settled
horizons) all group the per deal × step transitions joined with the deal summary's breakdown
columns; that join of millions of rows with the deal summary is most of each query.
:func:`prefetch_outcomes_and_months` computes what they will be asked in one query (a ``UNION
ALL`` of their grouped aggregates over the same joined rows, which DuckDB computes once) and keeps
each result on the log where those functions look first, so they return the same frames without a
query of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import pandas as pd

from voronka.engine.cohorts import (
    COUNTS,
    _horizon_table,
    _transitions,
    cohort_flags,
    cube_part,
    cube_rows,
    finish_cube,
)
from voronka.engine.outcomes import (
    finish_outcomes,
    horizon_table,
    keep_months,
    mature_rows,
    month_part,
    month_plan,
    outcome_columns,
    outcome_part,
)

if TYPE_CHECKING:
    from voronka.engine.log import EventLog

_COUNTS = ("_a", "_b", "_c", "_d", "_e", "_f", "_g")
"""The count columns of the union: three for the outcomes and the months, seven for the cube."""


def prefetch_outcomes_and_months(
    log: EventLog,
    bys: Sequence[str | None],
    horizons: Mapping[int, float],
    sets: Sequence[Sequence[str]],
    *,
    cohorts: Mapping[int, float] | None = None,
) -> None:
    """Keep on ``log`` the step outcomes of each of ``bys`` (None: funnel-wide) and the mature
    months of each column list of ``sets`` for ``horizons``, from one query, when there are both
    to compute and every column is a text deal column (anything else is left to the functions'
    own queries). Funnel-wide outcomes are the sum over the first breakdown's segments.

    ``cohorts``: a horizon set (the anomalies' settled horizons) whose weekly cohort cube rows of
    the breakdowns of ``bys`` that are segment columns (and funnel-wide, their first one's sum)
    the same query computes, kept for :func:`~voronka.engine.cohorts.stage_cohorts`; they also
    make the query worth it when the months are already kept."""
    outcomes: dict[str | None, pd.DataFrame] = log.cached(("step_outcomes",), dict)
    kept, missing, derived = month_plan(log, horizons, [tuple(s) for s in sets])
    asked = [b for b in dict.fromkeys(bys) if b not in outcomes]
    columns = list(dict.fromkeys([*(b for b in asked if b is not None), *(c for s in missing
                                                                        for c in s)]))
    deals = log.deal_summary()
    cube = {} if cohorts is None else cube_rows(log, cohorts)
    segment_columns = set(log.segment_columns()) if cohorts is not None else set()
    dims = [
        b for b in dict.fromkeys(bys)
        if b in segment_columns and b not in cube and deals[b].type().is_string()
    ]
    columns = list(dict.fromkeys([*columns, *dims]))
    text = all(c in log.deal_columns() and deals[c].type().is_string() for c in columns)
    grouped = [b for b in asked if b is not None]
    if not grouped or not (missing or dims) or not text:
        return
    names = {c: f"s{i}" for i, c in enumerate(columns)}
    tr = _transitions(log)
    cols: dict[str, ir.Value] = {
        "deal_id": deals.deal_id, "outcome": deals.outcome, "closed_at": deals.closed_at
    }
    cols.update({name: deals[c] for c, name in names.items()})
    tr = tr.join(deals.select(**cols), "deal_id")
    table = horizon_table(log, horizons)
    tr = tr.left_join(table, tr.stage_index == table.h_index)
    if dims:
        assert cohorts is not None
        settled = _horizon_table(log, cohorts).rename(c_index="h_index", c_seconds="h_seconds")
        tr = tr.left_join(settled, tr.stage_index == settled.c_index)
    rows = tr.mutate(**outcome_columns(log, tr))
    parts = []
    for i, column in enumerate(grouped):
        part = outcome_part(rows, [names[column]])
        parts.append(_unified(part, 0, i, names, {names[column]}, part.age, ibis.null("date"),
                              (part.moved, part.lost, part.open)))
    mature = mature_rows(log, rows)
    for i, wanted in enumerate(missing):
        keys = [names[c] for c in wanted]
        part = month_part(mature, keys)
        parts.append(_unified(part, 1, i, names, set(keys), ibis.null("int64"), part.month,
                              (part.mature, part.mature_moved)))
    if dims:
        flagged = tr.mutate(**cohort_flags(log, tr, tr.c_seconds))
        for i, dim in enumerate(dims):
            part = cube_part(flagged, names[dim], dim)
            parts.append(_unified(part, 2, i, names, set(), ibis.null("int64"), part.period,
                                  tuple(part[c] for c in COUNTS), segment=part.segment))
    frame = log.frame(ibis.union(*parts, distinct=False))
    for i, column in enumerate(grouped):
        mine = frame[(frame["_kind"] == 0) & (frame["_i"] == i)]
        mine = pd.DataFrame({
            "segment": mine[names[column]], "stage_index": mine["stage_index"],
            "age": mine["age"], "moved": mine["_a"], "lost": mine["_b"], "open": mine["_c"],
        }).reset_index(drop=True)
        outcomes[column] = finish_outcomes(mine, True)
    if None in asked:
        finer = outcomes[grouped[0]]
        total = finer.groupby(["stage_index", "age"], sort=False)[["moved", "lost", "open"]]
        outcomes[None] = finish_outcomes(total.sum().reset_index(), False)
    if missing:
        months = frame[frame["_kind"] == 1].rename(
            columns={"_i": "_set", "_a": "mature", "_b": "mature_moved"}
        )
        keep_months(kept, missing, derived, months.reset_index(drop=True), names)
    if dims:
        _keep_cube(cube, dims, frame[frame["_kind"] == 2])


def _keep_cube(cube: dict[str, pd.DataFrame], dims: Sequence[str], rows: pd.DataFrame) -> None:
    """Keep the cube rows of each of ``dims`` (the union's rows of kind 2, ``_i`` its position)
    and the funnel-wide rows summed from the first, as the cube itself gives them."""
    frame = pd.DataFrame({
        "dim": [dims[i] for i in rows["_i"]],
        "segment": rows["_segment"],
        "period": rows["month"],
        "stage_index": rows["stage_index"],
        **{c: rows[name] for name, c in zip(_COUNTS, COUNTS, strict=True)},
    }).reset_index(drop=True)
    frame = finish_cube(frame, dims[0])
    for dim in ("", *dims):
        cube.setdefault(dim, frame[frame["dim"] == dim].reset_index(drop=True))


def _unified(
    part: ir.Table,
    kind: int,
    index: int,
    names: Mapping[str, str],
    keys: set[str],
    age: ir.Value,
    month: ir.Value,
    counts: tuple[ir.Value, ...],
    segment: ir.Value | None = None,
) -> ir.Table:
    """A grouped part in the one column layout of the union: ``_kind`` (0 outcomes, 1 months,
    2 cube), ``_i`` (its position), every breakdown column as text (null where not grouped by),
    ``_segment`` (the cube's segment, as text), ``stage_index``, ``age``, ``month`` (the cube's
    week) and the counts (null past those given)."""
    segments = {
        name: part[name].cast("string") if name in keys else ibis.null("string")
        for name in names.values()
    }
    padded = (*counts, *(ibis.null("int64") for _ in range(len(_COUNTS) - len(counts))))
    return part.select(
        _kind=ibis.literal(kind, "int64"),
        _i=ibis.literal(index, "int64"),
        **segments,
        _segment=ibis.null("string") if segment is None else segment.cast("string"),
        stage_index=part.stage_index.cast("int64"),
        age=age.cast("int64"),
        month=month.cast("date"),
        **{name: value.cast("int64") for name, value in zip(_COUNTS, padded, strict=True)},
    )
