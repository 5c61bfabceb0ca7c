"""The per-deal sampler of the piecewise-exponential model: the reference for the count-based
Monte Carlo of ``voronka.audit.simulate`` (tests only).

It moves every deal stage by stage: a deal at age ``a`` leaves when its cumulative hazard ``H(x)``
reaches ``H(a) + E`` with ``E ~ Exp(1)`` (inverse transform, exact for the model); the destination
is drawn with probabilities ``λ[k, b, ·] / Σ_j λ[k, b, j]`` of the bucket it leaves in. The
production code used this until the count-based draws replaced it.
"""

from __future__ import annotations

import numpy as np

from voronka.audit.hazards import FloatArray, HazardModel, IntArray


def sample_exits(
    model: HazardModel, stage: IntArray, age: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, IntArray]:
    """When (days from now) and where each deal leaves its stage; ``inf`` when it never does.

    Inverse transform on the cumulative hazard: the deal leaves at the age ``x`` where
    ``H(x) = H(age) + E``, ``E ~ Exp(1)``, which conditions on its having survived to ``age``.
    """
    n = stage.shape[0]
    wait = np.full(n, np.inf)
    dest = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return wait, dest
    edges = model.edges
    cum = model.cumulative_hazard_at_edges()
    total = model.total_rates()
    with np.errstate(divide="ignore", invalid="ignore"):
        cumprob = np.cumsum(model.rates, axis=2) / total[:, :, None]
    target = model.cumulative_hazard(stage, age) + rng.exponential(size=n)
    n_buckets = edges.shape[0]
    # One search over all stages: each stage's (non-decreasing) row is shifted past the previous.
    inner = cum[:, 1:]
    offset = float(inner.max(initial=0.0) + target.max() + 1.0)
    shifted = (inner + offset * np.arange(inner.shape[0])[:, None]).ravel()
    bucket = np.searchsorted(shifted, target + offset * stage, side="right") - stage * inner.shape[1]
    rate = total[stage, bucket]
    leaves = rate > 0
    # In the open-ended last bucket a zero rate means the deal never leaves.
    leaves &= (bucket < n_buckets) & np.isfinite(target)
    x = edges[bucket[leaves]] + (target[leaves] - cum[stage[leaves], bucket[leaves]]) / rate[leaves]
    wait[leaves] = np.maximum(x - age[leaves], 0.0)
    u = rng.random(int(leaves.sum()))
    probs = cumprob[stage[leaves], bucket[leaves]]
    dest[leaves] = np.argmax(u[:, None] < probs, axis=1)
    return wait, dest


def simulate_win_times(
    model: HazardModel,
    stage: IntArray,
    age: FloatArray,
    start: FloatArray,
    horizon: float,
    rng: np.random.Generator,
) -> FloatArray:
    """The time (days from now) each deal is won, or ``inf`` if not won before ``horizon``.

    Each deal moves stage by stage (skips allowed: the destination may be any later stage) until
    it is won, lost, or its next move falls after ``horizon``.

    Args:
        model: the fitted rates.
        stage: current stage index of each deal.
        age: days already spent in that stage.
        start: the time (days from now) the deal is in that state (0 for open deals, the arrival
            time for new leads).
        horizon: the end of the simulated window, days from now.
        rng: the random generator.
    """
    won_stage = model.n_stages - 1
    won_at = np.where(stage >= won_stage, start, np.inf)  # a path may begin in the won stage
    idx = np.flatnonzero(stage < won_stage)
    k, a, t = stage[idx], age[idx], start[idx]
    while idx.size:
        wait, dest = sample_exits(model, k, a, rng)
        t_exit = t + wait
        moving = (t_exit < horizon) & (dest >= 0) & (dest != model.lost_index)
        won = moving & (dest == won_stage)
        won_at[idx[won]] = t_exit[won]
        go = moving & ~won
        idx, k, a, t = idx[go], dest[go], np.zeros(int(go.sum())), t_exit[go]
    return won_at
