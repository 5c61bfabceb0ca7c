"""Simulation study of the plan forecast (issue 13): coverage of the 80 % range and the Brier score
of the plan probability, against a naive baseline, over generated worlds with drift in conversion,
yearly season, growth and overdispersion in lead volume (``worlds.random_world``).

In each world (38 months of history, an export taken mid-month) the forecast is made from the
middle of each of the last 24 complete months with only what was known then (the engine's one-pass
snapshots, exactly as ``build_forecast`` does) and compared with the wins that month. The last 12
months are scored, each with the conformal widening computed from the 12 months before it — the
procedure the audit applies to the current month. The plan of a month is last month's wins + 10 %.
The naive baseline expects last month's wins again (Poisson around them).

    PYTHONPATH=src:studies python studies/forecast_calibration.py [worlds] [sims]

prints the table that docs/methods.md shows.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

import numpy as np
from scipy import stats
from worlds import generate, random_world

from voronka.audit.backtest import backtest_months, month_middle
from voronka.audit.calibration import backtest_plan, calibrate, naive_p_plan, stretch
from voronka.audit.forecast import DAY, LEAD_HISTORY_DAYS, simulate_moment
from voronka.audit.stats.intervals import wilson_interval
from voronka.engine import EventLog
from voronka.engine.flow import won_between_many
from voronka.engine.moments import MomentSpec, moment_states

MONTHS = 24
SCORED = 12


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def world_rows(seed: int, n_sims: int) -> list[dict[str, float]]:
    world = random_world(seed)
    events, deals = generate(world)
    funnel = world.funnel()
    log = EventLog.build(events, deals, funnel, as_of=world.as_of)
    months = backtest_months(world.as_of, MONTHS + 1)
    specs = [MomentSpec(month_middle(*m), m[0], m[1]) for m in months[1:]]
    snapshots = moment_states(log, specs, arrival_days=LEAD_HISTORY_DAYS)
    actuals = [
        a for a, _ in won_between_many(
            log, [(_midnight(m[0]), _midnight(m[1]) + DAY, world.as_of) for m in months]
        )
    ]
    raw = []
    for j, (month, snap) in enumerate(zip(months[1:], snapshots, strict=True)):
        draws, *_ = simulate_moment(
            snap, funnel.won_index + 1, period_start=month[0], period_end=month[1],
            n_sims=n_sims, seed=seed * 100 + j,
        )
        raw.append((draws.wins, actuals[j + 1], actuals[j]))
    out = []
    for j in range(MONTHS - SCORED, MONTHS):
        past = raw[j - SCORED : j]
        q = [np.quantile(w, [0.1, 0.5, 0.9], method="inverted_cdf") for w, _, _ in past]
        cal = calibrate([x[0] for x in q], [x[1] for x in q], [x[2] for x in q],
                        [a for _, a, _ in past])
        factor = cal.widened_by if cal is not None else 1.0
        wins, actual, last = raw[j]
        plan = backtest_plan(None, last)
        widened = stretch(wins, factor)
        r10, r90 = np.quantile(wins, [0.1, 0.9], method="inverted_cdf")
        w10, w90 = np.quantile(widened, [0.1, 0.9], method="inverted_cdf")
        n10, n90 = stats.poisson.ppf([0.1, 0.9], max(last, 1e-9))
        out.append({
            "world": seed,
            "inside_raw": float(r10 <= actual <= r90),
            "inside": float(w10 <= actual <= w90),
            "inside_naive": float(n10 <= actual <= n90),
            "above": float(actual > w90),
            "below": float(actual < w10),
            "factor": factor,
            "met": float(actual >= plan),
            "p_raw": float(np.mean(wins >= plan)),
            "p": float(np.mean(widened >= plan)),
            "p_naive": naive_p_plan(last, plan),
            "actual": float(actual),
        })
    return out


def summary(rows: list[dict[str, float]]) -> str:
    n = len(rows)

    def cov(key: str) -> str:
        k = int(sum(r[key] for r in rows))
        lo, hi = wilson_interval(k, n)
        return f"{k / n:.1%} (95% CI {lo:.1%}–{hi:.1%})"

    def brier(key: str) -> float:
        return float(np.mean([(r[key] - r["met"]) ** 2 for r in rows]))

    worlds = len({r["world"] for r in rows})
    widened = sum(r["factor"] > 1 for r in rows)
    lines = [
        f"worlds: {worlds}, scored months: {n}",
        f"coverage of the 80% range, as issued (widened when the backtest under-covers): "
        f"{cov('inside')}",
        f"  above p90: {np.mean([r['above'] for r in rows]):.1%}, "
        f"below p10: {np.mean([r['below'] for r in rows]):.1%}",
        f"coverage of the model's range before widening: {cov('inside_raw')}",
        f"coverage of the naive range (Poisson around last month's wins): {cov('inside_naive')}",
        f"months widened: {widened}/{n} (median factor when widened: "
        f"{np.median([r['factor'] for r in rows if r['factor'] > 1] or [1.0]):.2f})",
        f"Brier score of P(plan), plan = last month + 10%: forecast {brier('p'):.3f}, "
        f"before widening {brier('p_raw'):.3f}, naive {brier('p_naive'):.3f} "
        f"(plan met in {np.mean([r['met'] for r in rows]):.0%} of months)",
    ]
    return "\n".join(lines)


def main(n_worlds: int = 20, n_sims: int = 1000) -> None:
    t0 = time.time()
    rows: list[dict[str, float]] = []
    for seed in range(n_worlds):
        rows += world_rows(seed, n_sims)
        print(f"world {seed}: {time.time() - t0:.0f} s", file=sys.stderr)
    print(summary(rows))


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
