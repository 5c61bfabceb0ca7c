"""The ``reverse_funnel`` section: what each stage needs for the plan, and what the leads cost.

The planning table a head of sales builds by hand: start from the plan (won deals in the period),
divide by each step's conversion going up the funnel — ``needed[k] = needed[k+1] / c_k`` — to get
the deals each stage must receive in the period, down to the leads. The conversions are the
**mature** ones of :mod:`voronka.audit.maturity` (deals that had time to move on) when available,
else the raw ``reached[k+1] / reached[k]``; each row says which. The current flow is the deals
that reached each stage in the last eight complete weeks, scaled to the period's length; the
shortfall is what the plan needs beyond it. Leads are split over sources in the proportions of
the last three complete months, each costed at its CPL over those months (spend / leads); a source
without spend has no cost (None, not zero).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from voronka.engine import SpendTotals, spend_key, spend_totals

if TYPE_CHECKING:
    from voronka.audit.maturity import MaturityReport
    from voronka.engine import EventLog
    from voronka.funnel import Funnel

FLOW_WEEKS = 8
"""Complete weeks the current flow is measured over."""

COST_MONTHS = 3
"""Complete months the source mix and CPL are measured over."""


@dataclass(frozen=True)
class ReverseFunnelRow:
    """Deals a stage needs for the plan.

    Attributes:
        stage: stage id.
        needed: deals that must reach this stage in the period.
        conversion: the conversion from this stage to the next used (None for the won stage).
        conversion_kind: ``mature`` or ``raw`` (None for the won stage).
        current: deals reaching the stage in a period of this length at the current flow.
        shortfall: ``needed − current`` (negative: the current flow is enough).
        win_rate: P(won | reached the stage): the product of the conversions from it to the won
            stage (None for the won stage).
        lag_days: median days from reaching the stage to the win (won deals).
        needed_by: the date by which the ``still_needed`` deals must reach the stage to be won,
            at the median lag, by the period's end (None for the won stage).
        late: ``needed_by`` is already past at ``as_of``: deals reaching the stage now are mostly
            won after the period.
        in_pipeline: open deals now at the stage or any later stage before the won one.
        pipeline_wins: the wins expected from them inside the period (their stage's win rate ×
            the share of its lags that fit in the days left).
        still_needed: deals that must still reach the stage by ``needed_by``:
            ``max(plan − won so far − pipeline_wins, 0) / win_rate``.
        monthly_flow: deals reaching the stage in a usual month (last eight weeks, per 30 days).
    """

    stage: str
    needed: float
    conversion: float | None = None
    conversion_kind: str | None = None
    current: float | None = None
    shortfall: float | None = None
    win_rate: float | None = None
    lag_days: float | None = None
    needed_by: dt.date | None = None
    late: bool = False
    in_pipeline: int | None = None
    pipeline_wins: float | None = None
    still_needed: float | None = None
    monthly_flow: float | None = None


@dataclass(frozen=True)
class LeadCost:
    """The leads one source would bring for the plan, and their cost.

    Attributes:
        source: the source's name.
        share: its share of recent leads.
        leads: leads needed from it (``share × leads needed``).
        cpl: its recent cost per lead (None without spend).
        cost: ``leads × cpl`` (None without spend).
    """

    source: str
    share: float
    leads: float
    cpl: float | None
    cost: float | None


@dataclass(frozen=True)
class ReverseFunnel:
    """The reverse funnel: per-stage needs (the contract's ``reverse_funnel`` rows) and costs.

    Attributes:
        plan: won deals the table is built for.
        rows: one per stage of the line, first to won.
        leads_needed: deals the first stage needs.
        lead_costs: per source, most leads first (empty without a source column).
        total_cost: the sum of the known costs (None when no source has spend).
        conversions: ``mature`` when every step used a mature conversion, ``raw`` when none did,
            else ``mixed``.
        won_so_far: deals won in the period up to ``as_of``.
        remaining: ``plan − won_so_far`` (not below 0).
        days_left: days from ``as_of`` to the period's end.
    """

    plan: float
    rows: tuple[ReverseFunnelRow, ...]
    leads_needed: float
    lead_costs: tuple[LeadCost, ...] = ()
    total_cost: float | None = None
    conversions: str = "raw"
    won_so_far: int | None = None
    remaining: float | None = None
    days_left: float | None = None


def stage_needs(
    stage_ids: Sequence[str],
    plan: float,
    conversions: Sequence[float | None],
    kinds: Sequence[str],
    current: Sequence[float | None] | None = None,
) -> tuple[ReverseFunnelRow, ...]:
    """``needed[last] = plan``, ``needed[k] = needed[k+1] / conversions[k]`` (inf for a step
    with zero or unknown conversion)."""
    n = len(stage_ids)
    needed = [0.0] * n
    needed[-1] = float(plan)
    for k in range(n - 2, -1, -1):
        c = conversions[k]
        needed[k] = needed[k + 1] / c if c else float("inf")
    rows = []
    for k, stage in enumerate(stage_ids):
        now = current[k] if current is not None else None
        rows.append(
            ReverseFunnelRow(
                stage=stage,
                needed=needed[k],
                conversion=conversions[k] if k < n - 1 else None,
                conversion_kind=kinds[k] if k < n - 1 else None,
                current=now,
                shortfall=needed[k] - now if now is not None else None,
            )
        )
    return tuple(rows)


def lag_share(days: float, median: float | None, p90: float | None) -> float:
    """P(lag ≤ ``days``) for a log-normal lag with the given median and p90 (1 when unknown)."""
    if median is None or not math.isfinite(median) or median <= 0:
        return 1.0
    if days <= 0:
        return 0.0
    sigma = 0.5
    if p90 is not None and math.isfinite(p90) and p90 > median:
        sigma = (math.log(p90) - math.log(median)) / 1.2816
    z = (math.log(days) - math.log(median)) / sigma
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def with_timing(
    rows: tuple[ReverseFunnelRow, ...],
    *,
    won_so_far: int,
    open_here: Sequence[int],
    lags: Sequence[tuple[float | None, float | None]],
    period_end: dt.date,
    as_of: dt.datetime,
    monthly_flow: Sequence[float],
) -> tuple[ReverseFunnelRow, ...]:
    """The rows with the "by when" columns (see :class:`ReverseFunnelRow`).

    ``open_here[k]``: open deals now at stage k; ``lags[k]``: median and p90 days from stage k to
    the win; ``monthly_flow[k]``: deals reaching k per 30 days lately.
    """
    n = len(rows)
    end = dt.datetime.combine(period_end, dt.time()) + dt.timedelta(days=1)
    days_left = max((end - as_of).total_seconds() / 86_400.0, 0.0)
    plan = rows[-1].needed
    win_rate = [1.0] * n
    for k in range(n - 2, -1, -1):
        c = rows[k].conversion
        win_rate[k] = win_rate[k + 1] * c if c else 0.0
    expected_from = [
        open_here[j] * win_rate[j] * lag_share(days_left, *lags[j]) for j in range(n - 1)
    ]
    out = []
    remaining = max(plan - won_so_far, 0.0)
    for k, row in enumerate(rows):
        if k == n - 1:
            out.append(dataclasses.replace(row, still_needed=remaining,
                                           monthly_flow=monthly_flow[k]))
            continue
        median = lags[k][0]
        needed_by = (end - dt.timedelta(days=median)).date() if median is not None else None
        pipeline = int(sum(open_here[k : n - 1]))
        wins = float(sum(expected_from[k : n - 1]))
        gap = max(remaining - wins, 0.0)
        out.append(
            dataclasses.replace(
                row,
                win_rate=win_rate[k],
                lag_days=median,
                needed_by=needed_by,
                late=needed_by is not None and needed_by < as_of.date(),
                in_pipeline=pipeline,
                pipeline_wins=wins,
                still_needed=gap / win_rate[k] if win_rate[k] > 0 else float("inf"),
                monthly_flow=monthly_flow[k],
            )
        )
    return tuple(out)


def lead_costs(
    leads_needed: float,
    leads_by_source: pd.DataFrame,
    spend: SpendTotals | pa.Table | pd.DataFrame | None,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> tuple[LeadCost, ...]:
    """Split ``leads_needed`` over sources by their share of ``leads_by_source`` (``source``,
    ``leads``) and cost each at ``spend / leads`` (``spend``: the engine's totals, or a table of
    ``source``, ``cost`` and ``month`` it sums; months ``start`` ≤ month < ``end``; names
    matched trimmed and case-folded)."""
    total = float(leads_by_source["leads"].sum())
    if total <= 0:
        return ()
    cost_by_key: Mapping[str | None, float] = {}
    if spend is not None:
        cost_by_key = spend_totals(spend).by_source(start=start, end=end)
    out = []
    for source, leads in zip(leads_by_source["source"], leads_by_source["leads"], strict=True):
        share = float(leads) / total
        spent = cost_by_key.get(spend_key(source))
        cpl = spent / float(leads) if spent is not None and leads else None
        out.append(
            LeadCost(
                source=str(source),
                share=share,
                leads=share * leads_needed,
                cpl=cpl,
                cost=share * leads_needed * cpl if cpl is not None else None,
            )
        )
    return tuple(sorted(out, key=lambda c: -c.leads))


def _complete_months(as_of: dt.datetime, months: int) -> tuple[dt.date, dt.date]:
    """First day of the first and of the month after the last of the ``months`` complete months
    before ``as_of``."""
    end = as_of.date().replace(day=1)
    start = end
    for _ in range(months):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    return start, end


def build_reverse_funnel(
    log: EventLog,
    funnel: Funnel,
    *,
    plan: float | None = None,
    plan_revenue: float | None = None,
    period_start: dt.date,
    period_end: dt.date,
    maturity: MaturityReport | None = None,
    spend: SpendTotals | pa.Table | pd.DataFrame | None = None,
) -> ReverseFunnel | None:
    """The reverse funnel for the plan (``plan`` won deals, or ``plan_revenue`` divided by the
    average won amount); None without a plan or when neither gives a number of deals."""
    from voronka.engine import stage_outcomes, weekly_reach, won_between

    as_of = log.as_of
    if plan is None and plan_revenue is not None:
        won, amount = won_between(log, dt.datetime(1970, 1, 1), as_of + dt.timedelta(days=1))
        plan = plan_revenue / (amount / won) if amount and won else None
    if plan is None:
        return None
    line = funnel.line
    n = len(line)
    outcomes = stage_outcomes(log).set_index("stage_index")["reached"]
    raw = [
        float(outcomes.get(k + 1, 0)) / float(outcomes.get(k, 0)) if outcomes.get(k, 0) else None
        for k in range(n - 1)
    ]
    conversions: list[float | None] = list(raw)
    kinds = ["raw"] * (n - 1)
    if maturity is not None:
        for k, step in enumerate(maturity.stages[: n - 1]):
            if step.conversion is not None:
                conversions[k], kinds[k] = step.conversion, "mature"
    # Current flow: reached per stage in the last complete weeks, scaled to the period.
    weekly = weekly_reach(log)
    this_monday = as_of.date() - dt.timedelta(days=as_of.weekday())
    first = this_monday - dt.timedelta(weeks=FLOW_WEEKS)
    recent = weekly[(weekly["week"] >= first) & (weekly["week"] < this_monday)]
    per_day = recent.groupby("stage_index")["deals"].sum() / (FLOW_WEEKS * 7)
    period_days = (period_end - period_start).days + 1
    current = [float(per_day.get(k, 0.0)) * period_days for k in range(n)]
    rows = stage_needs([s.id for s in line], plan, conversions, kinds, current)
    rows, won_so_far, days_left = _timing(log, rows, per_day, period_start, period_end)
    costs: tuple[LeadCost, ...] = ()
    if "source" in log.segment_columns():
        start, end = _complete_months(as_of, COST_MONTHS)
        by_month = log.outcomes(by="source", period="month")
        chosen = by_month[(by_month["period"] >= start) & (by_month["period"] < end)]
        leads = chosen.groupby("segment", dropna=False)["deals"].sum().reset_index()
        leads = leads.rename(columns={"segment": "source", "deals": "leads"})
        leads = leads[leads["source"].notna()]
        costs = lead_costs(rows[0].needed, leads, spend, start=start, end=end)
    known = [c.cost for c in costs if c.cost is not None]
    kinds_used = set(kinds)
    return ReverseFunnel(
        plan=float(plan),
        rows=rows,
        leads_needed=rows[0].needed,
        lead_costs=costs,
        total_cost=sum(known) if known else None,
        conversions=kinds_used.pop() if len(kinds_used) == 1 else "mixed",
        won_so_far=won_so_far,
        remaining=max(float(plan) - won_so_far, 0.0),
        days_left=days_left,
    )


def _timing(
    log: EventLog,
    rows: tuple[ReverseFunnelRow, ...],
    per_day: pd.Series,
    period_start: dt.date,
    period_end: dt.date,
) -> tuple[tuple[ReverseFunnelRow, ...], int, float]:
    """The engine's pipeline, lags and wins so far, and the rows with their "by when" columns."""
    from voronka.engine import days_to_win_quantiles, won_between

    as_of = log.as_of
    n = len(rows)
    start = dt.datetime.combine(period_start, dt.time())
    end = dt.datetime.combine(period_end, dt.time()) + dt.timedelta(days=1)
    won_so_far = won_between(log, start, min(end, as_of + dt.timedelta(microseconds=1)))[0]
    reach = log.reach().set_index("stage_index")["open_here"]
    open_here = [int(reach.get(k, 0)) for k in range(n)]
    q = days_to_win_quantiles(log).set_index("stage_index")

    def lag(k: int, column: str) -> float | None:
        value = q[column].get(k) if column in q else None
        return float(value) if value is not None and pd.notna(value) else None

    lags = [(lag(k, "q50"), lag(k, "q90")) for k in range(n)]
    flow = [float(per_day.get(k, 0.0)) * 30.0 for k in range(n)]
    timed = with_timing(
        rows, won_so_far=won_so_far, open_here=open_here, lags=lags, period_end=period_end,
        as_of=as_of, monthly_flow=flow,
    )
    days_left = max((end - as_of).total_seconds() / 86_400.0, 0.0)
    return timed, won_so_far, days_left
