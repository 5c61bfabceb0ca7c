"""The generator's true conversions of a demo data set (what an estimator should recover).

The demo draws, for every deal, a probability of moving on at each step from its source, manager,
creation date and the planted effects (:func:`voronka.demo.generate._conversion`). The true rate of
the step k → k+1 over the deals created is ``Σ reach_k · p_k / Σ reach_k`` with
``reach_k = Π_{j<k} p_j``: the rate every deal of the period would show once all were closed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from voronka.demo import DemoData
from voronka.demo import generate as sim
from voronka.demo.profile import MANAGER_NAMES, SOURCE_NAMES, STAGE_IDS


def deal_probabilities(data: DemoData) -> tuple[pd.DataFrame, np.ndarray]:
    """The generated deals (first ``n_deals`` ids) and their deals × steps probabilities."""
    ids = {str(sim.FIRST_DEAL_ID + i) for i in range(data.truth.n_deals)}
    deals = data.deals[data.deals["deal_id"].isin(ids)].drop_duplicates("deal_id")
    deals = deals.sort_values("deal_id", key=lambda s: s.astype(int)).reset_index(drop=True)
    created = deals["created_at"].to_numpy("datetime64[us]").astype(np.int64)
    src = deals["source"].map({s: i for i, s in enumerate(SOURCE_NAMES)}).to_numpy()
    mgr = deals["manager"].map({m: i for i, m in enumerate(MANAGER_NAMES)}).to_numpy()
    month = np.zeros(len(deals), dtype=np.int64)
    _, prob = sim._conversion(
        np.random.default_rng(0), data.truth.effects, created, src, mgr, month, data.truth.months
    )
    return deals, prob


def true_step_rates(data: DemoData) -> dict[str, float]:
    """Stage id → the true funnel-wide conversion of the step from it to the next stage."""
    _, prob = deal_probabilities(data)
    reach = np.concatenate([np.ones((len(prob), 1)), np.cumprod(prob, axis=1)[:, :-1]], axis=1)
    rates = (reach * prob).sum(axis=0) / reach.sum(axis=0)
    return dict(zip(STAGE_IDS[:-1], (float(r) for r in rates), strict=True))
