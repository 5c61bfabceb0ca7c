"""Building the ``funnel`` section from the engine's reach, outcome and time-in-stage aggregates."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from voronka.audit.funnel_result import FunnelReport, StageReport
from voronka.audit.stats import wilson_interval
from voronka.audit.stats.competing import CumulativeIncidence
from voronka.funnel import Funnel


def _float_or_none(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def build_funnel_report(
    funnel: Funnel,
    reach: pd.DataFrame,
    outcomes: pd.DataFrame,
    time_in_stage: pd.DataFrame,
    *,
    lang: str | None = None,
    won_amount: float | None = None,
    censored: Sequence[CumulativeIncidence] | None = None,
) -> FunnelReport:
    """The funnel section: per stage reached, conversion to the next stage with its Wilson 95%
    interval (Brown, Cai & DasGupta 2001), median and p90 days in stage, open deals.

    ``reach``, ``outcomes`` and ``time_in_stage`` are the engine's funnel-wide aggregates
    (no ``segment``/``period`` columns). ``censored``: per step, the censoring-aware conversion
    (:func:`voronka.audit.censored.step_rates`); given, it is the stage's ``conversion`` and the
    naive rate goes to ``raw_conversion``.
    """
    reach_by_stage = reach.set_index("stage_id")
    tis = time_in_stage.set_index("stage_id") if len(time_in_stage) else time_in_stage
    line = funnel.line
    stages = []
    for i, stage in enumerate(line):
        row = reach_by_stage.loc[stage.id] if stage.id in reach_by_stage.index else None
        reached = int(row["reached"]) if row is not None else 0
        conversion: float | None = None
        raw: float | None = None
        immature: float | None = None
        interval: tuple[float, float] | None = None
        if i + 1 < len(line) and reached > 0:
            nxt = line[i + 1].id
            reached_next = (
                int(reach_by_stage.loc[nxt, "reached"]) if nxt in reach_by_stage.index else 0
            )
            conversion = raw = reached_next / reached
            lo, hi = wilson_interval(reached_next, reached)
            interval = (float(lo), float(hi))
            if censored is not None and i < len(censored) and censored[i].conversion is not None:
                conversion, interval = censored[i].conversion, censored[i].ci
                immature = censored[i].immature / censored[i].n if censored[i].n else None
        median = p90 = None
        left = 0
        if len(tis) and stage.id in tis.index:
            median = _float_or_none(tis.loc[stage.id, "median_days"])
            p90 = _float_or_none(tis.loc[stage.id, "p90_days"])
            left = int(tis.loc[stage.id, "n_left"])
        stages.append(
            StageReport(
                id=stage.id,
                name=stage.display_name(lang),
                reached=reached,
                conversion=conversion,
                conversion_ci=interval,
                median_days=median,
                p90_days=p90,
                open=int(row["open_here"]) if row is not None else 0,
                lost_here=int(row["lost_here"]) if row is not None else 0,
                left=left,
                raw_conversion=raw,
                immature_share=immature,
            )
        )
    totals = outcomes.iloc[0] if len(outcomes) else None
    deals, won, lost, still_open = (
        (int(totals[k]) for k in ("deals", "won", "lost", "open"))
        if totals is not None else (0, 0, 0, 0)
    )
    # What the cards count and the stages do not: every lost deal is lost at its furthest stage
    # (``lost_here``) unless it has none, and every won deal has reached the won stage unless
    # it was marked won without it.
    first = stages[0].reached if stages else 0
    last = stages[-1].reached if stages else 0
    return FunnelReport(
        stages=tuple(stages),
        deals=deals,
        won=won,
        lost=lost,
        open=still_open,
        not_in_funnel=max(deals - first, 0),
        not_in_funnel_lost=max(lost - sum(s.lost_here for s in stages), 0),
        won_without_won_stage=max(won - last, 0),
        name=funnel.name,
        origin=funnel.origin,
        template=funnel.template,
        won_amount=won_amount,
    )
