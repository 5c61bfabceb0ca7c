"""Why a source's lead-volume step was missed: three ways to scan one source, on arrivals alone.

Run by anyone (numbers quoted in docs/methods.md, "Simulation study")::

    PYTHONPATH=src python studies/volume_reference.py --worlds 40

The worlds are the volume side of ``studies/anomalies_segments.py``'s step worlds (the demo's
arrivals: growth ×1.5, season, trade shows ×3 in March/September/November, New Year; 12 000
leads over 18 months; one of four sources ×0.75 or ×1.25 from 1 March 2026, same seeds), weekly
counts per source. For the stepped source, two scans (the reference method of a Poisson GLM with the other
sources' plain total as offset is, conditioned on the period's leads, the binomial ``share``):

* ``share`` — its share of all leads (what was scanned before issue 12's fix; here with today's
  statistic, so the difference is the series alone; the same as against the others' plain total);
* ``reference`` — binomial against its steadiness-weighted reference (``stats.reference``), the
  scan in use.

Reported: dated (right direction, ``since`` within 28 days of 1 March), dated with p ≤ 0.001, the
median dispersion; and for ``reference`` the share of null scans (no step, all six sources) with
p ≤ 5 %.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta

import numpy as np

from voronka.audit.stats.glm_scan import model_scan
from voronka.audit.stats.reference import reference_counts
from voronka.demo import DemoEffects, VolumeShift
from voronka.demo import generate as sim
from voronka.demo.clock import US_PER_DAY
from voronka.demo.profile import SOURCES as PROFILES

NAMES = [s.name for s in PROFILES]
STUDY = ("Яндекс Директ", "SEO", "Холодные звонки", "Google Ads")
START, END, SHIFT = date(2025, 5, 1), date(2026, 11, 1), date(2026, 3, 1)


def weekly(seed: int, shift: VolumeShift | None) -> tuple[list[date], np.ndarray, np.ndarray]:
    """Periods (Mondays), leads per week × source, exposure days — as ``lead_volume`` reads them."""
    effects = DemoEffects(volume_shifts=(shift,) if shift else ())
    created, src = sim._arrivals(np.random.default_rng(seed), 12_000, START, END, effects)
    day = created // US_PER_DAY
    first = date(1970, 1, 1) + timedelta(days=int(day.min()))
    monday = first - timedelta(days=first.weekday())
    m0 = (monday - date(1970, 1, 1)).days
    weeks = ((END - monday).days + 6) // 7
    counts = np.zeros((weeks, len(NAMES)))
    np.add.at(counts, ((day - m0) // 7, src), 1)
    starts = m0 + 7 * np.arange(weeks)
    as_of = (END - date(1970, 1, 1)).days
    exposure = np.minimum(starts + 7, as_of) - np.maximum(starts, created.min() / US_PER_DAY)
    return [monday + timedelta(weeks=w) for w in range(weeks)], counts, exposure


def scans(periods: list[date], counts: np.ndarray, j: int, seed: int) -> dict[str, object]:
    y = counts[:, j]
    reference = reference_counts(counts)[:, j]
    return {
        "share": model_scan(y, counts.sum(axis=1), periods, kind="share", simulations=999,
                            seed=seed),
        "reference": model_scan(y, y + reference, periods, kind="share", simulations=999,
                                seed=seed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worlds", type=int, default=40)
    args = parser.parse_args()
    rows: dict[str, list[tuple[bool, float, float]]] = {}
    for i in range(args.worlds):
        seed = 1000 + i
        source = STUDY[(i + 1) % 4]
        factor = 0.75 if i % 2 == 0 else 1.25
        periods, counts, _ = weekly(seed, VolumeShift(source, SHIFT, factor))
        for name, scan in scans(periods, counts, NAMES.index(source), seed).items():
            assert scan is not None
            since = periods[scan.index]  # type: ignore[attr-defined]
            dated = abs((since - SHIFT).days) <= 28 and (scan.ratio > 1) == (factor > 1)  # type: ignore[attr-defined]
            rows.setdefault(name, []).append((dated, scan.p_value, scan.dispersion))  # type: ignore[attr-defined]
    for name, r in rows.items():
        dated = np.array([x[0] for x in r])
        p = np.array([x[1] for x in r])
        print(f"{name:9s} dated {dated.mean():.0%}  dated & p ≤ 0.001 {np.mean(dated & (p <= 1e-3)):.0%}"
              f"  median φ {np.median([x[2] for x in r]):.2f}")
    null = []
    for i in range(args.worlds):
        periods, counts, _ = weekly(1000 + i, None)
        reference = reference_counts(counts)
        for j in range(counts.shape[1]):
            y = counts[:, j]
            scan = model_scan(y, y + reference[:, j], periods, kind="share", simulations=999, seed=i)
            assert scan is not None
            null.append(scan.p_value)
    print(f"reference null scans with p ≤ 5 %: {np.mean(np.array(null) <= 0.05):.1%} of {len(null)}")


if __name__ == "__main__":
    main()
