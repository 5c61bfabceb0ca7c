"""Simulation study: false alarms, power and coverage of the anomalies and segment-leak methods.

Run by anyone (results table in docs/methods.md, "Simulation study")::

    PYTHONPATH=src python studies/anomalies_segments.py --worlds 20

Each world is a generated CRM history (``voronka.demo.generate_demo``, 18 months, 12 000 deals)
in which conversion rates are the same for every source and manager but lead volume grows ×1.5
and follows the demo's yearly season and trade-show months, and every conversion wobbles week to
week (multiplied by exp(N(0, 0.08²)) per week and step). Three kinds of world:

* **null** — nothing planted: every significant anomaly or segment leak is a false alarm;
* **step** — one source's first-call conversion ×1.25 or ×0.75 (alternating) from month 11: found
  when an anomaly of that source and step is significant, in the right direction, with ``since``
  within four weeks of the true date; in the same world another source's lead volume steps ×1.25
  or ×0.75 (the opposite direction) on the same date: found when a significant volume anomaly of
  that source is in the right direction with ``since`` within four weeks;
* **manager** — one manager converts the qualification step at ×0.7: found when that manager ×
  step is a significant segment row; covered when the row's shrunk-shortfall interval (in rate
  points, ``peers_expected − conversion``: the gap to the peers, before the row's price is capped to
  its stage's) contains the true gap (``p × 0.3`` at the funnel's rate).
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from unittest import mock

import numpy as np

from voronka.audit.anomalies import build_anomalies
from voronka.audit.leaks import build_leaks
from voronka.audit.maturity import build_maturity
from voronka.demo import ConversionShift, DemoEffects, ManagerLeak, VolumeShift, generate_demo
from voronka.demo import generate as sim
from voronka.demo.clock import US_PER_DAY
from voronka.engine import EventLog

DEALS = 12_000
"""Deals per world."""

WOBBLE = 0.08
"""Standard deviation of the log of the weekly conversion factor."""

SOURCES = ("Яндекс Директ", "SEO", "Холодные звонки", "Google Ads")
MANAGERS = ("Попова Елена", "Васильев Сергей", "Петрова Анна", "Смирнов Алексей")


@contextmanager
def growing_seasonal_with_wobble(seed: int):  # type: ignore[no-untyped-def]
    """Stable conversions (no source or manager differences) but the demo's growth, season and
    trade shows in lead volume, and a weekly wobble on every conversion."""
    real_arrivals, real_conversion = sim._arrivals, sim._conversion

    def arrivals(rng, n, start, end, effects):  # type: ignore[no-untyped-def]
        return real_arrivals(rng, n, start, end, DemoEffects(volume_shifts=effects.volume_shifts))

    def conversion(rng, effects, created, src, mgr, month_index, months):  # type: ignore[no-untyped-def]
        base, prob = real_conversion(rng, effects, created, src, mgr, month_index, months)
        week = (created - created.min()) // (7 * US_PER_DAY)
        noise = np.exp(np.random.default_rng(seed + 7).normal(0, WOBBLE, (week.max() + 1, prob.shape[1])))
        prob = np.clip(prob * noise[week], 0, sim.MAX_CONVERSION)
        return base, prob

    with mock.patch.object(sim, "_arrivals", arrivals), mock.patch.object(sim, "_conversion", conversion):
        yield


def world(seed: int, effects: DemoEffects) -> EventLog:
    with growing_seasonal_with_wobble(seed):
        data = generate_demo(DEALS, seed=seed, months=18, effects=effects)
    events = data.events.drop(columns=["entered_at_text"])
    return EventLog.build(events, data.deals, data.funnel, as_of=data.as_of)


def run(worlds: int, simulations: int, first: int = 0) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {k: [] for k in (
        "null_anomalies", "null_volume", "null_conversion", "null_segments", "step_found",
        "volume_found", "volume_any", "step_other", "manager_found", "manager_covered",
        "manager_gap", "manager_est", "manager_capped",
    )}
    start = date(2025, 5, 1)
    shift_date = date(2026, 3, 1)
    for i in range(first, first + worlds):
        seed = 1000 + i
        log = world(seed, DemoEffects(stable=True, data_errors=False))
        maturity = build_maturity(log)
        anomalies = build_anomalies(log, maturity=maturity, simulations=simulations, seed=seed)
        leaks = build_leaks(log, maturity=maturity)
        out["null_anomalies"].append(len(anomalies))
        out["null_volume"].append(sum(1 for a in anomalies if a.kind == "volume"))
        out["null_conversion"].append(sum(1 for a in anomalies if a.kind != "volume"))
        out["null_segments"].append(sum(1 for x in leaks if x.segment is not None and x.significant))

        source = SOURCES[i % len(SOURCES)]
        factor = 1.25 if i % 2 == 0 else 0.75
        shift = ConversionShift(source, "new_request", shift_date, factor)
        v_source = SOURCES[(i + 1) % len(SOURCES)]
        v_factor = 0.75 if factor > 1 else 1.25
        v_shift = VolumeShift(v_source, shift_date, v_factor)
        log = world(seed, DemoEffects(stable=True, data_errors=False, conversion_shifts=(shift,),
                                      volume_shifts=(v_shift,)))
        found = [a for a in build_anomalies(log, simulations=simulations, seed=seed) if a.significant]
        planted = [
            a for a in found
            if a.kind == "conversion" and a.segment is not None and a.segment.value == source
            and a.stage == "new_request" and a.direction == ("up" if factor > 1 else "down")
            and abs((a.since - shift_date).days) <= 28
        ]
        v_planted = [
            a for a in found
            if a.kind == "volume" and a.segment is not None and a.segment.value == v_source
            and a.direction == ("up" if v_factor > 1 else "down")
            and abs((a.since - shift_date).days) <= 28
        ]
        hit, v_hit = bool(planted), bool(v_planted)
        out["volume_any"].append(float(any(
            a.kind == "volume" and a.segment is not None and a.segment.value == v_source
            and a.direction == ("up" if v_factor > 1 else "down") for a in found
        )))
        out["step_found"].append(float(hit))
        out["volume_found"].append(float(v_hit))
        # Alarms that are neither planted step (e.g. the other sources' share of leads moves
        # when one source's volume steps; the funnel-wide series move with the planted ones).
        out["step_other"].append(sum(
            1 for a in found if all(a is not b for b in (*planted, *v_planted))
            and a.segment is not None
        ))

        manager = MANAGERS[i % len(MANAGERS)]
        log = world(seed, DemoEffects(stable=True, data_errors=False,
                                      manager_leaks=(ManagerLeak(manager, "qualified", 0.7),)))
        leaks = build_leaks(log, by=("manager",), all_segments=True)
        row = next(
            x for x in leaks
            if x.segment is not None and x.segment.value == manager and x.stage == "qualified"
        )
        # True gap: the manager's rate is 0.7 × the others' (0.60 base, wobble averages out).
        true_gap = sim.BASE_CONVERSION["qualified"] * 0.3
        low, high = row.shrunk_ci or (np.nan, np.nan)
        # The gap to the peers (before a cap to the stage's price lowers ``expected``).
        peers = row.peers_expected if row.peers_expected is not None else row.expected
        assert peers is not None
        gap_ci = (peers - high, peers - low)
        out["manager_found"].append(float(row.significant))
        out["manager_covered"].append(float(gap_ci[0] <= true_gap <= gap_ci[1]))
        out["manager_gap"].append(true_gap)
        out["manager_est"].append(peers - (row.conversion or 0.0))
        out["manager_capped"].append(float(row.capped))
        print(f"world {i}: null anomalies {out['null_anomalies'][-1]} (volume "
              f"{out['null_volume'][-1]}), null segment leaks "
              f"{out['null_segments'][-1]}, step found {hit}, volume step found {v_hit}, other "
              f"segment alarms {out['step_other'][-1]}, manager found {row.significant} "
              f"gap {out['manager_est'][-1]:.3f} [{gap_ci[0]:.3f}, {gap_ci[1]:.3f}] truth "
              f"{true_gap:.3f}", flush=True)
    _ = start
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worlds", type=int, default=20)
    parser.add_argument("--simulations", type=int, default=199)
    parser.add_argument("--first", type=int, default=0,
                        help="index of the first world (seed 1000 + index): more worlds, same design")
    args = parser.parse_args()
    t0 = time.time()
    r = run(args.worlds, args.simulations, args.first)
    n = args.worlds
    print()
    print(f"| measure ({n} worlds) | result | required |")
    print("|---|---|---|")
    print(f"| significant anomalies per null world (mean; max) | {np.mean(r['null_anomalies']):.2f}; "
          f"{max(r['null_anomalies'])} | ≤ 0.2; ≤ 2 |")
    print(f"| of which volume; conversion (mean; max) | {np.mean(r['null_volume']):.2f}; "
          f"{max(r['null_volume'])} / {np.mean(r['null_conversion']):.2f}; "
          f"{max(r['null_conversion'])} | — |")
    print(f"| significant segment leaks per null world (mean; max) | {np.mean(r['null_segments']):.2f}; "
          f"{max(r['null_segments'])} | ≤ 0.2; ≤ 2 |")
    print(f"| ±25% source step found within 4 weeks | {np.mean(r['step_found']):.0%} | ≥ 80% |")
    print(f"| ±25% source volume step found within 4 weeks | {np.mean(r['volume_found']):.0%} | ≥ 80% |")
    print(f"| ±25% source volume step found at any date (right direction) | "
          f"{np.mean(r['volume_any']):.0%} | — |")
    print(f"| other segment alarms per step world (mean; max) | {np.mean(r['step_other']):.2f}; "
          f"{max(r['step_other'])} | — |")
    print(f"| manager ×0.7 shortfall significant | {np.mean(r['manager_found']):.0%} | — |")
    print(f"| manager shortfall interval covers the truth | {np.mean(r['manager_covered']):.0%} | ≥ 80% |")
    print(f"| manager row capped to its stage's price | {np.mean(r['manager_capped']):.0%} | — |")
    print(f"| manager gap: mean estimate vs truth | {np.mean(r['manager_est']):.3f} vs "
          f"{np.mean(r['manager_gap']):.3f} | — |")
    print(f"\n({time.time() - t0:.0f} s)", file=sys.stderr)
    _ = Path


if __name__ == "__main__":
    main()
