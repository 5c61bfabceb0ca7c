"""The ``lost_reasons`` section: why deals were lost, at which stage, and what changed lately.

Lost deals are grouped by the furthest stage of the line they reached (where they were lost) and
their lost reason (the deals' ``lost_reason`` column; blank reasons counted as "none given").
Per stage: each reason's deals and share of the stage's lost deals; its share over the last
:data:`RECENT_MONTHS` months against the months before, tested with a two-sided Fisher exact
test, Benjamini–Hochberg across every stage × reason (q ≤ 5% is a significant change).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from voronka.audit.stats import benjamini_hochberg, dist
from voronka.engine import EventLog, lost_reason_counts

RECENT_MONTHS = 3
"""Months (the current one included) compared with the months before."""

FDR_LEVEL = 0.05
"""False discovery rate of the changes."""


@dataclass(frozen=True)
class LostReason:
    """One reason deals were lost at one stage.

    Attributes:
        stage: the furthest stage the deals reached (None: lost before entering the funnel's line).
        reason: the lost reason (None: none given).
        deals: lost deals with this reason at this stage.
        share: ``deals`` / lost deals at the stage.
        share_recent: its share over the last :data:`RECENT_MONTHS` months (None if none lost).
        share_before: its share over the months before (None if none lost).
        p_value: two-sided Fisher exact test of ``share_recent`` against ``share_before``.
        q_value: Benjamini–Hochberg adjusted ``p_value``.
        significant: ``q_value ≤ 5%``.
    """

    stage: str | None
    reason: str | None
    deals: int
    share: float
    share_recent: float | None = None
    share_before: float | None = None
    p_value: float | None = None
    q_value: float | None = None
    significant: bool = False


def _recent_start(as_of: date) -> date:
    month = as_of.month - (RECENT_MONTHS - 1)
    year = as_of.year
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, 1)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def build_lost_reasons(log: EventLog, column: str = "lost_reason") -> tuple[LostReason, ...]:
    """The lost-reasons section of ``log`` (empty when the deals have no ``column``)."""
    funnel = log.require_funnel()
    frame = lost_reason_counts(log, column)
    if frame.empty:
        return ()
    start = _recent_start(log.as_of.date())
    frame = frame.assign(
        recent=[m is not None and not pd.isna(m) and pd.Timestamp(m).date() >= start
                for m in frame["month"]],
        reason=["\x00" if r is None or pd.isna(r) else str(r) for r in frame["reason"]],
    )
    rows: list[LostReason] = []
    p_values: list[float] = []
    for k, stage_rows in frame.groupby("stage_index", sort=True):
        total = int(stage_rows["deals"].sum())
        recent_total = int(stage_rows.loc[stage_rows["recent"], "deals"].sum())
        before_total = total - recent_total
        for label, rr in stage_rows.groupby("reason", sort=False):
            deals = int(rr["deals"].sum())
            recent = int(rr.loc[rr["recent"], "deals"].sum())
            before = deals - recent
            p = float("nan")
            if recent_total and before_total:
                table = [[recent, recent_total - recent], [before, before_total - before]]
                p = dist.fisher_exact(table)
            rows.append(
                LostReason(
                    stage=funnel.stage_ids[int(k)] if int(k) >= 0 else None,
                    reason=None if label == "\x00" else str(label),
                    deals=deals,
                    share=deals / total,
                    share_recent=_share(recent, recent_total),
                    share_before=_share(before, before_total),
                    p_value=None if p != p else p,
                )
            )
            p_values.append(p)
    q = benjamini_hochberg(p_values)
    out = []
    for row, qv in zip(rows, q, strict=True):
        tested = row.p_value is not None
        out.append(
            LostReason(**{**row.__dict__, "q_value": float(qv) if tested else None,
                          "significant": bool(tested and qv <= FDR_LEVEL)})
        )
    order = {sid: i for i, sid in enumerate(funnel.stage_ids)}
    return tuple(sorted(out, key=lambda r: (order.get(r.stage, -1) if r.stage else -1, -r.deals)))
