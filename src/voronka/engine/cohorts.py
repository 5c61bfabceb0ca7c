"""Stage cohorts: the cohort cube and every cut of it, and the maturity horizons.

Mature conversion (docs/methods.md): a deal that reached stage k at ``reached_at`` is *mature*
for the step k → k+1 once ``as_of − reached_at ≥ horizon[k]``, the historic p90 of the days from
reaching k to reaching k+1 among deals that did. Recent deals are left out of the rate instead of
counting as failures.

**The cohort cube.** Leaks, anomalies, maturity and the conversion series all ask for the same
counts (:func:`stage_cohorts`) cut differently: funnel-wide or per ``--by`` column, per entry week
or in total. The cube computes every cut at once — for the maturity horizons given, per ``dim``
(``""`` for funnel-wide, else each segment column of the log) × ``segment`` × ``period`` (Monday
of the week the deal reached the stage) × ``stage_index`` — in one query (a ``UNION ALL`` of one
grouped aggregate per dim over the same flagged rows of the log's ``reached_at`` table, which
carries ``next_at``: no self-join), and each cut is a sum over it in pandas: integer counts, so
every number is exactly what a query per cut gives. The cube is kept on the log per horizon set
(:meth:`EventLog.cached`); a cut the cube cannot give (a ``--by`` column that is not text or
yes/no, a monthly period) is computed directly from the same flagged rows, and so are the
funnel-wide totals per stage (no segment, no period: what the maturity section reads on every
run, a filtered first screen included, which needs no other cut).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from voronka.engine import summary
from voronka.engine.backend import load_arrow
from voronka.engine.frames import nullable, sort_key, split_quantiles
from voronka.engine.ladder import climb, top_counts

if TYPE_CHECKING:
    from voronka.engine.log import EventLog

COUNTS = ("reached", "moved", "mature", "mature_moved", "moved_in_horizon", "won", "closed")
"""The counts of a stage cohort (see :func:`stage_cohorts`)."""

_PERIODS = {"week": "W", "month": "M"}


def finite_horizons(horizons: Mapping[int, float]) -> dict[int, float]:
    """``horizons`` without the stages whose horizon is missing or not finite."""
    return {int(k): float(v) for k, v in horizons.items() if v is not None and np.isfinite(v)}


def _as_of_seconds(log: EventLog) -> float:
    as_of = log.as_of
    return calendar.timegm(as_of.timetuple()) + as_of.microsecond / 1e6


def _horizon_table(log: EventLog, horizons: Mapping[int, float]) -> ir.Table:
    horizon_rows = finite_horizons(horizons)
    return load_arrow(
        log.backend,
        pa.table(
            {
                "h_index": pa.array(list(horizon_rows), pa.int64()),
                "h_seconds": pa.array(
                    [v * summary.SECONDS_PER_DAY for v in horizon_rows.values()], pa.float64()
                ),
            }
        ),
        "voronka_horizons",
    )


def _flags(
    log: EventLog, tr: ir.Table, h_seconds: ir.Value | None = None
) -> dict[str, ir.Value]:
    """The 0/1 flags of transitions ``tr`` (``reached_at``, ``next_at``, and ``h_seconds`` unless
    the horizon in seconds is given)."""
    horizon = tr.h_seconds if h_seconds is None else h_seconds
    age = ibis.literal(_as_of_seconds(log)) - summary.epoch_seconds(tr.reached_at)
    mature = (age >= horizon).fill_null(False)
    moved = tr.next_at.notnull()
    took = summary.epoch_seconds(tr.next_at) - summary.epoch_seconds(tr.reached_at)
    in_horizon = (mature & moved & (took <= horizon)).fill_null(False)
    return {
        "_moved": moved.cast("int64"),
        "_mature": mature.cast("int64"),
        "_mature_moved": (mature & moved).cast("int64"),
        "_in_horizon": in_horizon.cast("int64"),
    }


def flagged_transitions(
    log: EventLog,
    horizons: Mapping[int, float],
    columns: Mapping[str, str],
    period: str | None,
) -> ir.Table:
    """Per deal × stage of the line before the won stage that it reached: the deal columns
    ``columns`` (output name → deal column), ``stage_index``, [``period``] and the 0/1 flags
    ``_moved``, ``_mature``, ``_mature_moved``, ``_in_horizon``, ``_won``, ``_closed``."""
    funnel = log.require_funnel()
    horizon_table = _horizon_table(log, horizons)
    reached = log.reached_at()
    tr = reached.filter(reached.stage_index < funnel.won_index)
    deals = log.deal_summary()
    cols: dict[str, ir.Value] = {"deal_id": deals.deal_id, "outcome": deals.outcome}
    cols.update({name: deals[column] for name, column in columns.items()})
    tr = tr.join(deals.select(**cols), "deal_id")
    tr = tr.left_join(horizon_table, tr.stage_index == horizon_table.h_index)
    if period is not None and period not in _PERIODS:
        raise ValueError(f"unknown period {period!r}: week or month")
    return tr.select(*columns, "stage_index", **cohort_flags(log, tr, tr.h_seconds, period))


def cohort_flags(
    log: EventLog, tr: ir.Table, h_seconds: ir.Value, period: str | None = "week"
) -> dict[str, ir.Value]:
    """The 0/1 flags :func:`count_aggregates` sums, of transitions ``tr`` (``reached_at``,
    ``next_at`` and the deal's ``outcome``) for the horizon ``h_seconds`` (null: none), and the
    cohort ``period`` (Monday of the week, first of the month) of reaching the stage."""
    extra = {} if period is None else {"period": tr.reached_at.truncate(_PERIODS[period]).date()}
    return {
        **_flags(log, tr, h_seconds),
        "_won": (tr.outcome == "won").cast("int64"),
        "_closed": tr.outcome.isin(["won", "lost"]).cast("int64"),
        **extra,
    }


def cube_part(flagged: ir.Table, name: str, dim: str) -> ir.Table:
    """The cube's grouped aggregate of breakdown ``dim`` (held in column ``name`` of rows with
    :func:`cohort_flags`): ``dim``, ``segment`` (as text), ``period``, ``stage_index``,
    :data:`COUNTS`. Grouped by the column itself, labelled after: the text cast runs on the
    groups, not the rows."""
    part = flagged.group_by([name, "period", "stage_index"]).agg(**count_aggregates(flagged))
    part = part.mutate(dim=ibis.literal(dim, "string"), segment=part[name].cast("string"))
    return part.select("dim", "segment", "period", "stage_index", *COUNTS)


def finish_cube(frame: pd.DataFrame, first: str | None) -> pd.DataFrame:
    """Cube rows as fetched, counts typed, with the funnel-wide rows (``dim == ""``) prepended as
    the sum over the segments of breakdown ``first`` (blank included: exact) unless None."""
    for c in COUNTS:
        frame[c] = frame[c].fillna(0).astype("int64")
    frame["stage_index"] = frame["stage_index"].astype("int64")
    if first is None:
        return frame
    keys = ["period", "stage_index"]
    rows = frame[frame["dim"] == first]
    total = rows.groupby(keys, sort=False)[list(COUNTS)].sum().reset_index()
    total.insert(0, "segment", pd.Series([None] * len(total), dtype=object))
    total.insert(0, "dim", "")
    return pd.concat([total, frame], ignore_index=True)


def _funnel_totals(log: EventLog, horizons: Mapping[int, float]) -> pd.DataFrame:
    """The funnel-wide :data:`COUNTS` per stage without joining the deal summary: the flags from
    the ``reached_at`` rows alone, ``won`` and ``closed`` from the deals' furthest stages
    (:mod:`voronka.engine.ladder`). The same integers as :func:`flagged_transitions` grouped."""
    funnel = log.require_funnel()
    horizon_table = _horizon_table(log, horizons)
    reached = log.reached_at()
    tr = reached.filter(reached.stage_index < funnel.won_index)
    tr = tr.left_join(horizon_table, tr.stage_index == horizon_table.h_index)
    flagged = tr.select("stage_index", **_flags(log, tr))
    frame = log.frame(
        flagged.group_by("stage_index").agg(
            reached=flagged.count(),
            moved=flagged._moved.sum(),
            mature=flagged._mature.sum(),
            mature_moved=flagged._mature_moved.sum(),
            moved_in_horizon=flagged._in_horizon.sum(),
        )
    )
    ladder = climb(top_counts(log), [], funnel.won_index)
    ladder["closed"] = ladder["won"] + ladder["lost"]
    frame = frame.merge(ladder[["stage_index", "won", "closed"]], on="stage_index", how="left")
    return frame[["stage_index", *COUNTS]]


def count_aggregates(table: ir.Table) -> dict[str, ir.Value]:
    """The :data:`COUNTS` of a group of :func:`flagged_transitions` rows."""
    return {
        "reached": table.count(),
        "moved": table._moved.sum(),
        "mature": table._mature.sum(),
        "mature_moved": table._mature_moved.sum(),
        "moved_in_horizon": table._in_horizon.sum(),
        "won": table._won.sum(),
        "closed": table._closed.sum(),
    }


def cube_dims(log: EventLog) -> tuple[str, ...]:
    """The breakdowns the cube covers: ``""`` (funnel-wide) and every segment column."""
    return ("", *log.segment_columns())


def cube_rows(log: EventLog, horizons: Mapping[int, float]) -> dict[str, pd.DataFrame]:
    """The cohort cube of ``log`` for ``horizons`` kept per breakdown: ``dim`` → its rows (the
    columns of :func:`cohort_cube`). Filled by :func:`cohort_cube` (every dim at once) or, for
    the breakdowns it computes, by the shared pass
    (:func:`voronka.engine.shared_pass.prefetch_outcomes_and_months`)."""
    key = ("cohort_cube_rows", tuple(sorted(finite_horizons(horizons).items())))
    rows: dict[str, pd.DataFrame] = log.cached(key, dict)
    return rows


def cohort_cube(log: EventLog, horizons: Mapping[int, float]) -> pd.DataFrame:
    """The cohort cube of ``log`` for ``horizons`` (stage index → days), computed once per log
    and horizon set. Columns: ``dim``, ``segment`` (null for ``dim == ""``), ``period`` (date),
    ``stage_index``, :data:`COUNTS`. Segment values keep their type (text, or yes/no)."""
    key = ("cohort_cube", tuple(sorted(finite_horizons(horizons).items())))

    def build() -> pd.DataFrame:
        cube = _build_cube(log, horizons)
        kept = cube_rows(log, horizons)
        for dim in cube_dims(log):
            kept.setdefault(dim, cube[cube["dim"] == dim].reset_index(drop=True))
        return cube

    cube: pd.DataFrame = log.cached(key, build)
    return cube


def _cube_cut_rows(log: EventLog, horizons: Mapping[int, float], by: str | None) -> pd.DataFrame:
    """The cube's rows of breakdown ``by`` (None: funnel-wide): kept ones when the shared pass or
    an earlier cube computed them, else from the whole cube."""
    kept = cube_rows(log, horizons)
    dim = by or ""
    if dim not in kept:
        cohort_cube(log, horizons)
    return kept[dim]


def _build_cube(log: EventLog, horizons: Mapping[int, float]) -> pd.DataFrame:
    dims = [d for d in cube_dims(log) if d]
    names = {f"s{i}": d for i, d in enumerate(dims)}
    flagged = flagged_transitions(log, horizons, names, "week")
    if not names:
        part = flagged.group_by(["period", "stage_index"]).agg(**count_aggregates(flagged))
        part = part.mutate(dim=ibis.literal("", "string"), segment=ibis.null("string"))
        parts = [part.select("dim", "segment", "period", "stage_index", *COUNTS)]
    else:
        parts = [cube_part(flagged, name, dim) for name, dim in names.items()]
    frame = log.frame(ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0])
    frame = finish_cube(frame, dims[0] if dims else None)
    deals = log.deal_summary()
    for dim in dims:
        if deals[dim].type().is_boolean():
            rows = frame["dim"] == dim
            frame.loc[rows, "segment"] = [
                None if v is None else str(v).lower() == "true" for v in frame.loc[rows, "segment"]
            ]
    return frame


def cut(cube: pd.DataFrame, by: str | None, period: str | None) -> pd.DataFrame:
    """The cube summed to ``[segment] × [period] × stage_index`` for breakdown ``by`` (None:
    funnel-wide) and ``period`` (None or ``"week"``)."""
    rows = cube[cube["dim"] == (by or "")]
    keys = [k for k, asked in (("segment", by), ("period", period)) if asked is not None]
    grouped = rows.groupby([*keys, "stage_index"], dropna=False, sort=False)[list(COUNTS)].sum()
    return grouped.reset_index()


def covers(log: EventLog, by: str | None, period: str | None) -> bool:
    """Whether :func:`cut` can give this breakdown and period."""
    return period in (None, "week") and (by is None or by in cube_dims(log))


def finish(frame: pd.DataFrame, keys: Sequence[str], stage_ids: Sequence[str]) -> pd.DataFrame:
    """A stage-cohort frame typed, labelled and ordered as :func:`stage_cohorts` returns it."""
    for c in COUNTS:
        frame[c] = frame[c].fillna(0).astype("int64")
    frame["stage_index"] = frame["stage_index"].astype("int64")
    frame["stage_id"] = [stage_ids[i] for i in frame["stage_index"]]
    if "segment" in frame:
        frame["segment"] = nullable(frame["segment"])
    frame = frame.sort_values([*keys, "stage_index"], key=sort_key).reset_index(drop=True)
    return frame[[*keys, "stage_index", "stage_id", *COUNTS]]


def _transitions(log: EventLog) -> ir.Table:
    """Per deal × stage k of the line (except the won stage) it reached: ``reached_at`` and
    ``next_at`` (when it reached k+1, null if it has not); a filter of the log's ``reached_at``
    table, which carries ``next_at``."""
    funnel = log.require_funnel()
    reached = log.reached_at()
    base = reached.filter(reached.stage_index < funnel.won_index)
    return base.select("deal_id", "stage_index", "reached_at", "next_at")


def stage_horizons(
    log: EventLog, *, quantile: float = 0.9, settled_quantile: float = 0.99
) -> pd.DataFrame:
    """Per stage of the line before the won stage: how long moving on to the next stage takes.

    Columns: ``stage_index``, ``stage_id``, ``moved`` (deals that reached the next stage),
    ``median_days`` and ``horizon_days`` (the ``quantile`` of the days from reaching the stage to
    reaching the next one, among those deals; NaN when none moved), ``settled_days`` (the same at
    ``settled_quantile``: by then almost every deal that will move on has). Every stage is present.
    One query per log and quantiles, kept on the log (the maturity section is built by more than
    one section).
    """
    key = ("stage_horizons", quantile, settled_quantile)
    frame: pd.DataFrame = log.cached(key, lambda: _stage_horizons(log, quantile, settled_quantile))
    return frame.copy()


def _stage_horizons(log: EventLog, quantile: float, settled_quantile: float) -> pd.DataFrame:
    funnel = log.require_funnel()
    tr = _transitions(log)
    moved = tr.filter(tr.next_at.notnull())
    days = summary.days_between(moved.reached_at, moved.next_at)
    agg = moved.group_by("stage_index").agg(
        moved=moved.count(), _q=days.quantile([0.5, quantile, settled_quantile])
    )
    frame = split_quantiles(log.frame(agg), "_q", ["median_days", "horizon_days", "settled_days"])
    out = pd.DataFrame(
        {
            "stage_index": np.arange(funnel.won_index, dtype="int64"),
            "stage_id": list(funnel.stage_ids[: funnel.won_index]),
        }
    )
    out = out.merge(frame, on="stage_index", how="left")
    out["moved"] = out["moved"].fillna(0).astype("int64")
    out["median_days"] = out["median_days"].astype("float64")
    for c in ("horizon_days", "settled_days"):
        out[c] = out[c].astype("float64")
    return out


def stage_cohorts(
    log: EventLog,
    horizons: Mapping[int, float],
    *,
    by: str | None = None,
    period: str | None = None,
) -> pd.DataFrame:
    """Raw and mature transition counts per [segment] × [period] × stage of the line.

    ``horizons`` maps a stage index to its maturity horizon in days (a missing or NaN horizon
    makes no deal mature for that stage). ``period`` (``week`` | ``month``) is the cohort of the
    deal's *entry into the stage* (Monday of the week, first of the month), as a ``period`` date
    column. ``by`` names a deal column; its values come back in ``segment``.

    Columns: [``segment``], [``period``], ``stage_index``, ``stage_id``, ``reached`` (deals that
    reached the stage), ``moved`` (of those, reached the next one), ``mature`` (reached it at least
    the horizon before ``as_of``), ``mature_moved`` (mature and moved on, ever),
    ``moved_in_horizon`` (mature and moved on within the horizon), ``won`` / ``closed`` (deals
    that reached the stage and are won / won or lost). Only groups with deals are returned.
    """
    funnel = log.require_funnel()
    keys = [k for k, asked in (("segment", by), ("period", period)) if asked is not None]
    # The funnel-wide totals (the maturity section, on every run) need no join of the deal
    # summary (:func:`_funnel_totals`): a filtered first screen needs no cube, and the cube, when
    # a later section asks for it, gives the same integer counts. Kept per horizon set: the
    # maturity section is built by more than one section.
    if not keys:
        totals_key = ("funnel_totals", tuple(sorted(finite_horizons(horizons).items())))
        totals = log.cached(totals_key, lambda: _funnel_totals(log, horizons))
        frame = totals.copy()
    elif covers(log, by, period):
        frame = cut(_cube_cut_rows(log, horizons, by), by, period)
    else:
        if by is not None:
            log.segmented(by)  # an unknown column is a usage error
        flagged = flagged_transitions(
            log, horizons, {"segment": by} if by is not None else {}, period
        )
        frame = log.frame(
            flagged.group_by([*keys, "stage_index"]).agg(**count_aggregates(flagged))
        )
    return finish(frame, keys, funnel.stage_ids)
