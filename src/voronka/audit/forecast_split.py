"""Each manager's share of the forecast: the expected wins of the plan period split by owner.

The forecast (:mod:`voronka.audit.forecast`) expects ``won so far + Σ_open P(won in the period) +
the wins of leads not yet arrived``. Expectation is linear, so the same sum split by the owner of
each open deal is exact:

* ``won_so_far`` — the manager's deals won in the period up to ``as_of``;
* ``expected_open`` — ``Σ`` over the manager's open deals of the probability that such a deal
  (same stage, same days waited) is won inside the period, from the forecast's own model: the
  win probabilities of :func:`voronka.audit.simulate.win_probabilities` for the rates the forecast
  drew from their posterior (same seed, same draws), averaged over the draws;
* the leads that have not arrived yet belong to no manager: ``new_leads`` is their expected wins.

``total = Σ managers + new_leads`` is the model's expected wins; the forecast's ``expected`` is
the mean of its simulations, widened by the backtest where it under-covered, so the two differ by
Monte Carlo noise and that stretch only (tested).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from voronka.audit.forecast import Forecast
from voronka.audit.hazards import OpenCells
from voronka.audit.simulate import win_probabilities
from voronka.engine import EventLog, open_cells_by, won_by

PARAMETER_DRAWS = 20
"""Posterior draws of the rates (as :func:`voronka.audit.simulate.simulate_plan` draws them)."""


@dataclass(frozen=True)
class ForecastShare:
    """One manager's part of the expected wins.

    Attributes:
        manager: the manager (None: deals without one).
        won_so_far: deals won in the period up to ``as_of``.
        open_deals: open deals now.
        expected_open: expected wins of those open deals inside the period.
        expected: ``won_so_far + expected_open``.
        share: ``expected / total`` of the split.
    """

    manager: str | None
    won_so_far: int
    open_deals: int
    expected_open: float
    expected: float
    share: float


@dataclass(frozen=True)
class ForecastSplit:
    """The forecast's expected wins split by owner.

    Attributes:
        period_start: first day of the plan period.
        period_end: last day of it.
        rows: one per manager with an open deal or a win in the period, most expected first.
        new_leads: expected wins of leads not arrived yet (no owner).
        total: ``Σ rows.expected + new_leads``: the model's expected wins.
        forecast_expected: the forecast's own expected wins (mean of its simulations).
    """

    period_start: dt.date
    period_end: dt.date
    rows: tuple[ForecastShare, ...]
    new_leads: float
    total: float
    forecast_expected: float

    def of(self, manager: str | None) -> ForecastShare | None:
        """The row of ``manager`` (None when they have no part)."""
        return next((r for r in self.rows if r.manager == manager), None)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def split_forecast(log: EventLog, forecast: Forecast, column: str = "manager") -> ForecastSplit | None:
    """The split of ``forecast`` (of ``log``) by ``column``; None without the forecast's model
    inputs or without the column."""
    inputs = forecast.inputs
    if inputs is None or column not in log.deal_columns():
        return None
    counts = inputs.counts
    edges = np.asarray(counts.edges, dtype=np.float64)
    n_stages = counts.exits.shape[0]
    frame = open_cells_by(log, column, tuple(float(e) for e in edges))
    frame = frame[frame["stage_index"] < n_stages - 1]
    cells = OpenCells(
        stage=frame["stage_index"].to_numpy(dtype=np.int64),
        age=frame["days_sum"].to_numpy(dtype=np.float64)
        / np.maximum(frame["deals"].to_numpy(dtype=np.float64), 1.0),
        count=frame["deals"].to_numpy(dtype=np.int64),
    )
    rng = np.random.default_rng(inputs.seed)
    draws = max(1, min(PARAMETER_DRAWS, inputs.n_sims))
    rates = counts.draw_rates(rng, draws)
    probs = win_probabilities(
        rates, edges, cells, inputs.arrivals, window_start=inputs.window_start,
        horizon=inputs.horizon,
    )
    per_cell = probs.open_cells.mean(axis=0) * cells.count
    new_leads = float((probs.new_leads @ inputs.arrivals.means).mean())
    labels = ["\x00" if v is None else str(v) for v in frame["segment"]]
    expected_open: dict[str, float] = {}
    open_deals: dict[str, int] = {}
    for label, value, n in zip(labels, per_cell, cells.count, strict=True):
        expected_open[label] = expected_open.get(label, 0.0) + float(value)
        open_deals[label] = open_deals.get(label, 0) + int(n)
    start = _midnight(forecast.period_start)
    end = _midnight(forecast.period_end) + dt.timedelta(days=1)
    won = won_by(log, column, start, end)
    won_so_far = {("\x00" if v is None else str(v)): int(w)
                  for v, w in zip(won["segment"], won["won"], strict=True)}
    parts = []
    for label in sorted(set(expected_open) | set(won_so_far)):
        e = expected_open.get(label, 0.0)
        w = won_so_far.get(label, 0)
        parts.append((None if label == "\x00" else label, w, open_deals.get(label, 0), e, w + e))
    total = sum(p[4] for p in parts) + new_leads
    rows = tuple(
        ForecastShare(manager=m, won_so_far=w, open_deals=o, expected_open=e, expected=x,
                      share=x / total if total > 0 else 0.0)
        for m, w, o, e, x in sorted(parts, key=lambda p: (-p[4], p[0] is None, p[0] or ""))
    )
    return ForecastSplit(
        period_start=forecast.period_start, period_end=forecast.period_end, rows=rows,
        new_leads=new_leads, total=total, forecast_expected=forecast.expected,
    )
