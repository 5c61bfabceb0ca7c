"""The step outcomes and the mature months of the same breakdowns from one join.

:func:`~voronka.engine.outcomes.step_outcomes` (the censoring-aware rates) and
:func:`~voronka.engine.outcomes.stratified_cohorts` (the leaks' strata) both group the per deal ×
step transitions joined with the deal summary's breakdown columns; that join of millions of rows
with the deal summary is most of either query. :func:`prefetch_outcomes_and_months` computes what
both will be asked in one query (a ``UNION ALL`` of their grouped aggregates over the same joined
rows) and keeps each result on the log where those functions look first, so they return the same
frames without a query of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import pandas as pd

from voronka.engine.cohorts import _transitions
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

_COUNTS = ("_a", "_b", "_c")


def prefetch_outcomes_and_months(
    log: EventLog,
    bys: Sequence[str | None],
    horizons: Mapping[int, float],
    sets: Sequence[Sequence[str]],
) -> None:
    """Keep on ``log`` the step outcomes of each of ``bys`` (None: funnel-wide) and the mature
    months of each column list of ``sets`` for ``horizons``, from one query, when there are both
    to compute and every column is a text deal column (anything else is left to the functions'
    own queries). Funnel-wide outcomes are the sum over the first breakdown's segments."""
    outcomes: dict[str | None, pd.DataFrame] = log.cached(("step_outcomes",), dict)
    kept, missing, derived = month_plan(log, horizons, [tuple(s) for s in sets])
    asked = [b for b in dict.fromkeys(bys) if b not in outcomes]
    columns = list(dict.fromkeys([*(b for b in asked if b is not None), *(c for s in missing
                                                                        for c in s)]))
    deals = log.deal_summary()
    text = all(c in log.deal_columns() and deals[c].type().is_string() for c in columns)
    grouped = [b for b in asked if b is not None]
    if not grouped or not missing or not text:
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
                              (part.mature, part.mature_moved, ibis.null("int64"))))
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
    months = frame[frame["_kind"] == 1].rename(
        columns={"_i": "_set", "_a": "mature", "_b": "mature_moved"}
    )
    keep_months(kept, missing, derived, months.reset_index(drop=True), names)


def _unified(
    part: ir.Table,
    kind: int,
    index: int,
    names: Mapping[str, str],
    keys: set[str],
    age: ir.Value,
    month: ir.Value,
    counts: tuple[ir.Value, ir.Value, ir.Value],
) -> ir.Table:
    """A grouped part in the one column layout of the union: ``_kind`` (0 outcomes, 1 months),
    ``_i`` (its position), every breakdown column as text (null where not grouped by),
    ``stage_index``, ``age``, ``month`` and three counts."""
    segments = {
        name: part[name].cast("string") if name in keys else ibis.null("string")
        for name in names.values()
    }
    return part.select(
        _kind=ibis.literal(kind, "int64"),
        _i=ibis.literal(index, "int64"),
        **segments,
        stage_index=part.stage_index.cast("int64"),
        age=age.cast("int64"),
        month=month.cast("date"),
        **{name: value.cast("int64") for name, value in zip(_COUNTS, counts, strict=True)},
    )
