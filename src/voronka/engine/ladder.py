"""Per-stage deal counts from each deal's furthest stage, without reading the deal × stage table.

A deal reached (in the sense of ``reached_at``: entered the stage or a later one of the line)
exactly the stages ``0 … max_stage_index`` of the line: the reach spans of
:func:`voronka.engine.summary.reached_at` run from the first stage up to its furthest entered one.
So the deals that reached stage k — and, of them, those won or lost — are the deals whose
furthest stage is k or later: a cumulative sum over one small grouped aggregate of the deal
summary (or of any per-deal table carrying ``max_stage_index`` and ``outcome``), instead of a join
of the deal × stage table (millions of rows) with the deal summary. Integer counts: every number
is exactly what the join gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ibis.expr.types as ir
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from voronka.engine.log import EventLog

LADDER = ("reached", "won", "lost")
"""The counts :func:`climb` gives per stage."""


def top_groups(deals: ir.Table, keys: Sequence[str]) -> ir.Table:
    """Per ``keys`` × ``top`` (``max_stage_index``) × ``outcome`` of the rows of ``deals`` (one row
    per deal) that have a stage of the line: ``deals``."""
    line = deals.filter(deals.max_stage_index.notnull())
    line = line.mutate(top=line.max_stage_index.cast("int64"))
    return line.group_by([*keys, "top", "outcome"]).agg(deals=line.count())


def top_counts(log: EventLog, by: str | None = None) -> pd.DataFrame:
    """:func:`top_groups` of ``log``'s deal summary, [per ``segment``: the ``by`` column], computed
    once per log and breakdown."""

    def build() -> pd.DataFrame:
        keys = ["segment"] if by is not None else []
        return log.frame(top_groups(log.segmented(by), keys))

    frame: pd.DataFrame = log.cached(("top_counts", by), build)
    return frame


def climb(top: pd.DataFrame, keys: Sequence[str], stages: int) -> pd.DataFrame:
    """Per ``keys`` × ``stage_index`` (``0 … stages − 1``) of a :func:`top_groups` frame:
    ``reached`` (deals whose ``top`` is the stage or later), ``won`` and ``lost`` (of them, with
    that outcome). Every stage of every key group, zeros included; groups in order of first
    appearance."""
    keys = list(keys)
    tops = top["top"].to_numpy(dtype=np.int64)
    weights = top["deals"].to_numpy(dtype=np.int64)
    outcome = top["outcome"].to_numpy(dtype=object)
    if keys:
        codes, groups = _codes(top, keys)
    else:
        codes, groups = np.zeros(len(top), dtype=np.int64), pd.DataFrame(index=[0])
    n = len(groups)
    out: dict[str, np.ndarray] = {}
    for name, mask in (
        ("reached", np.ones(len(top), dtype=bool)),
        ("won", outcome == "won"),
        ("lost", outcome == "lost"),
    ):
        at = np.zeros((n, stages + 1), dtype=np.int64)
        keep = mask & (tops >= 0)
        np.add.at(at, (codes[keep], np.minimum(tops[keep], stages)), weights[keep])
        # deals whose top is ≥ k: the sum from the end (a top past the last stage counts for all)
        out[name] = np.cumsum(at[:, ::-1], axis=1)[:, ::-1][:, :stages].reshape(-1)
    frame = groups.loc[groups.index.repeat(stages)].reset_index(drop=True)
    frame["stage_index"] = np.tile(np.arange(stages, dtype=np.int64), n)
    for name in LADDER:
        frame[name] = out[name]
    return frame


def _codes(top: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Group number per row of ``top`` by ``keys`` (nulls a group of their own, values kept as
    they are) and the groups' key values, in order of first appearance."""
    seen: dict[tuple[object, ...], int] = {}
    codes = np.empty(len(top), dtype=np.int64)
    rows: list[tuple[object, ...]] = []
    for i, values in enumerate(zip(*(top[k] for k in keys), strict=True)):
        value = tuple(None if _missing(v) else v for v in values)
        code = seen.get(value)
        if code is None:
            code = seen[value] = len(rows)
            rows.append(value)
        codes[i] = code
    groups = pd.DataFrame(
        {k: pd.Series([r[j] for r in rows], dtype=top[k].dtype) for j, k in enumerate(keys)}
    )
    return codes, groups


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))
