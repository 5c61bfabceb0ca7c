"""Simulation study of the key stage (issue 13): is a planted key stage found?

Planted worlds (``worlds.planted_key``): the conversion into every stage up to the key stage swings
from week to week (logit sd 0.8), the conversion after it is steady. Null worlds: nothing swings and
nothing drifts (the number of leads decides the wins up to chance: the audit should say "no clear
key stage"). Run from the repository root:

    PYTHONPATH=src:studies python studies/key_stage_study.py [worlds]

and copy the printed table into docs/methods.md.
"""

from __future__ import annotations

import sys
import time

from worlds import World, generate, planted_key

from voronka.audit.key_stage import build_key_stage
from voronka.engine import EventLog


def truth_p_won(world: World, k: int) -> float:
    """The generator's P(won | reached stage k): the product of the base conversions from k on
    (the swings and drifts are symmetric on the logit scale around them)."""
    p = 1.0
    for c in world.conversion[k:]:
        p *= c
    return p


def run(n_worlds: int = 21) -> None:
    t0 = time.time()
    found = close = 0
    rows = []
    for i in range(n_worlds):
        key = 1 + i % 3
        world = planted_key(key, seed=100 + i, swing=0.8)
        events, deals = generate(world)
        funnel = world.funnel()
        log = EventLog.build(events, deals, funnel, as_of=world.as_of)
        ks = build_key_stage(log, funnel, seed=i)
        hit = ks.stage == funnel.line[key].id and ks.status in ("clear", "close")
        found += hit
        close += ks.status == "close"
        planted = next(r for r in ks.ranking if r.stage == funnel.line[key].id)
        rows.append((i, funnel.line[key].id, ks.stage, ks.status, ks.runner_up,
                     f"{planted.p_won:.3f}", f"{planted.p_won_before:.3f}",
                     f"{truth_p_won(world, key):.3f}", f"{truth_p_won(world, key - 1):.3f}"))
    nulls = 0
    n_null = max(n_worlds // 2, 5)
    for i in range(n_null):
        world = World(months=20, seed=500 + i, drift_sd=(0.0,) * 4, growth=1.2)
        events, deals = generate(world)
        funnel = world.funnel()
        log = EventLog.build(events, deals, funnel, as_of=world.as_of)
        ks = build_key_stage(log, funnel, seed=i)
        nulls += ks.status in ("clear", "close")
    print("world", "planted", "found", "status", "runner_up", "p_won", "p_won_before",
          "true_p_won", "true_p_won_before", sep="\t")
    for row in rows:
        print(*row, sep="\t")
    err = [abs(float(r[5]) - float(r[7])) for r in rows] + [
        abs(float(r[6]) - float(r[8])) for r in rows
    ]
    print(f"P(won | reached) of the planted stage and the one before vs the truth: mean error "
          f"{sum(err) / len(err):.3f}, worst {max(err):.3f}")
    print(f"planted key stage found: {found}/{n_worlds} ({found / n_worlds:.0%}); "
          f"of them or missed, 'close' (two named): {close}")
    print(f"null worlds with a key stage claimed (false alarms): {nulls}/{n_null}")
    print(f"{time.time() - t0:.0f} s")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 21)
