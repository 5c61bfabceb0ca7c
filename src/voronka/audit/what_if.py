"""What if a stage converted at another rate: the plan forecast again, from the same model.

The forecast's hazard model (:mod:`voronka.audit.hazards`) says, for each stage and bucket of days
in it, how fast deals leave it for each later stage and for lost. "Stage *k* converts at rate
*x*" changes only where deals of stage *k* go, not how long they stay: in every bucket the rates
of moving on are multiplied by ``x / c`` (``c`` the stage's current conversion, the share of its
exits that moved on) and the rate of being lost takes the rest of the same total. Everything else
— open deals, new leads, the other stages, the amounts, the seed and the conformal widening — is
the forecast's own, so the difference from the forecast is the change alone.

A pure function of the aggregates kept with the forecast (:class:`voronka.audit.forecast
.ModelInputs`): no data is read again; one simulation, well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from voronka.audit.hazards import FloatArray, HazardCounts
from voronka.audit.simulate import simulate_plan
from voronka.errors import Msg, UsageError, any_of

if TYPE_CHECKING:
    from voronka.audit.forecast import Forecast
    from voronka.audit.leaks import Leak
    from voronka.audit.result import AuditResult


@dataclass(frozen=True)
class WhatIf:
    """The forecast with one stage's conversion changed.

    Attributes:
        stage: the stage changed.
        rate: the conversion assumed.
        current_rate: the stage's conversion in the model now (share of its exits that moved on).
        expected: expected won deals in the period.
        p10: 10th percentile.
        p90: 90th percentile.
        p_plan: probability of the plan (None without a plan).
        revenue_expected: expected revenue (None without amounts).
        revenue_p_plan: probability of the revenue plan (None without one).
        baseline_expected: the forecast's expected wins (for the difference).
        baseline_p_plan: the forecast's plan probability.
        baseline_revenue_expected: the forecast's expected revenue.
    """

    stage: str
    rate: float
    current_rate: float
    expected: float
    p10: float
    p90: float
    p_plan: float | None
    revenue_expected: float | None
    revenue_p_plan: float | None
    baseline_expected: float
    baseline_p_plan: float | None
    baseline_revenue_expected: float | None


def current_conversion(counts: HazardCounts, k: int) -> float:
    """Share of stage ``k``'s exits (weighted) that moved on to a later stage."""
    exits = counts.exits[k]
    total = float(exits.sum())
    return float(exits[:, :-1].sum()) / total if total > 0 else 0.0


def with_rate(rates: FloatArray, k: int, factor: float) -> FloatArray:
    """Drawn hazard ``rates`` (``(..., stages, buckets, stages + 1)``) with stage ``k``'s rates of
    moving on multiplied by ``factor`` and its rate of being lost taking the rest of the same total
    (capped so that no rate is negative): where deals of stage ``k`` go changes, not how long they
    stay. Applied to the forecast's own posterior draws, so every random number is shared."""
    out = np.array(rates, dtype=np.float64, copy=True)
    stage = out[..., k, :, :]
    total = stage.sum(axis=-1)
    forward = stage[..., :-1] * factor
    moved = forward.sum(axis=-1)
    over = moved > total
    scale = np.where(over, total / np.maximum(moved, 1e-300), 1.0)
    forward = forward * scale[..., None]
    out[..., k, :, :-1] = forward
    out[..., k, :, -1] = np.maximum(total - forward.sum(axis=-1), 0.0)
    return out


def _forecast_of(source: AuditResult | Forecast) -> Forecast:
    from voronka.audit.forecast import Forecast

    if isinstance(source, Forecast):
        return source
    forecast = getattr(source, "forecast", None)
    if not isinstance(forecast, Forecast):
        raise UsageError(Msg("errors.raised.the_audit_has_no_forecast_to"))
    return forecast


def what_if(
    source: AuditResult | Forecast, *, stage: str, rate: float, stage_ids: tuple[str, ...] = ()
) -> WhatIf:
    """The forecast of ``source`` (an audit result or its forecast) if ``stage`` converted at
    ``rate`` (0 … 1). ``stage`` is a stage id of the funnel's line (taken from the result's
    funnel section, or ``stage_ids``)."""
    from voronka.audit.forecast import forecast_from_draws

    forecast = _forecast_of(source)
    inputs = forecast.inputs
    if inputs is None:
        raise UsageError(Msg("errors.raised.this_forecast_was_not_kept_with"))
    if not 0.0 <= rate <= 1.0:
        raise UsageError(
            Msg("errors.raised.a_conversion_is_between_0_and", rate=rate),
            expected=Msg("errors.expected.0_1"),
        )
    ids = stage_ids or _line_ids(source)
    if stage not in ids[:-1]:
        raise UsageError(
            Msg("errors.raised.there_is_no_stage_before_the", stage=repr(stage)),
            expected=any_of(ids[:-1]),
        )
    k = ids.index(stage)
    current = current_conversion(inputs.counts, k)
    if current <= 0:
        raise UsageError(
            Msg("errors.raised.no_deal_has_moved_on_from", k=k)
        )
    sim = simulate_plan(
        inputs.counts, inputs.cells, inputs.arrivals, window_start=inputs.window_start,
        horizon=inputs.horizon, n_sims=inputs.n_sims, amount_quantiles=inputs.amount_quantiles,
        seed=inputs.seed, big=inputs.big,
        adjust=lambda rates: with_rate(rates, k, rate / current),
    )
    from voronka.audit.forecast import Draws

    total = sim.wins.astype(np.float64) + inputs.won_so_far
    revenue = sim.revenue + (inputs.won_amount_so_far or 0.0) if sim.revenue is not None else None
    out = forecast_from_draws(
        Draws(total, revenue), plan=forecast.plan,
        plan_revenue=forecast.revenue.plan if forecast.revenue else None,
        period_start=forecast.period_start, period_end=forecast.period_end,
        won_so_far=inputs.won_so_far, won_amount_so_far=inputs.won_amount_so_far,
        widen=forecast.widened_by,
    )
    return WhatIf(
        stage=stage,
        rate=rate,
        current_rate=current_conversion(inputs.counts, k),
        expected=out.expected,
        p10=out.p10,
        p90=out.p90,
        p_plan=out.p_plan,
        revenue_expected=out.revenue.expected if out.revenue else None,
        revenue_p_plan=out.revenue.p_plan if out.revenue else None,
        baseline_expected=forecast.expected,
        baseline_p_plan=forecast.p_plan,
        baseline_revenue_expected=forecast.revenue.expected if forecast.revenue else None,
    )


def _line_ids(source: AuditResult | Forecast) -> tuple[str, ...]:
    funnel = getattr(source, "funnel", None)
    stages = getattr(funnel, "stages", None)
    if not stages:
        raise UsageError(Msg("errors.raised.give_the_stage_ids_stage_ids"))
    return tuple(s.id for s in stages)  # the funnel section lists the line, up to the won stage


def leak_what_ifs(
    forecast: Forecast, leaks: tuple[Leak, ...], stage_ids: tuple[str, ...], *, limit: int = 2
) -> tuple[WhatIf, ...]:
    """"If the leak at *k* closed": the forecast with each of the ``limit`` costliest funnel-level
    leaks that have a target (``expected``) converting at it — the model's rate of the stage scaled
    by ``expected / conversion`` (at most 1). Empty without a kept model."""
    if forecast.inputs is None:
        return ()
    out: list[WhatIf] = []
    for leak in leaks:
        if len(out) >= limit:
            break
        if leak.segment is not None or leak.expected is None or not leak.conversion:
            continue
        if leak.expected <= leak.conversion or leak.stage not in stage_ids[:-1]:
            continue
        now = current_conversion(forecast.inputs.counts, stage_ids.index(leak.stage))
        if now <= 0:
            continue
        rate = min(now * leak.expected / leak.conversion, 1.0)
        out.append(what_if(forecast, stage=leak.stage, rate=rate, stage_ids=stage_ids))
    return tuple(out)
