"""The forecast's open cells (:func:`voronka.audit.hazards.open_state`) computed with numpy give the
pandas ``groupby().sum()`` they replaced, bit for bit: the forecast's Monte Carlo is seeded, and a
cell age that differs in its last bit could change a draw (``test_forecast_determinism.py``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from voronka.audit.hazards import kahan_sums, open_state


def _episodes(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "stage_index": rng.integers(0, 6, n),
            "bucket": rng.integers(0, 4, n),
            "to_index": rng.choice([-2, -2, -1, 3], n),
            "recent": rng.random(n) < 0.5,
            "fresh": rng.random(n) < 0.5,
            "deals": rng.integers(0, 5, n),
            # magnitudes from 1e-3 to 1e7 in one group: a plain sum loses bits Kahan keeps
            "days_sum": rng.random(n) * 10 ** rng.uniform(-3, 7, n),
        }
    )


def _by_pandas(episodes: pd.DataFrame, n_stages: int) -> tuple[np.ndarray, ...]:
    ep = episodes[(episodes["to_index"] == -2) & (episodes["stage_index"] < n_stages - 1)]
    ep = ep[ep["deals"] > 0].groupby(["stage_index", "bucket"], as_index=False, sort=True)[
        ["deals", "days_sum"]
    ].sum()
    counts = ep["deals"].to_numpy(dtype=np.int64)
    age = ep["days_sum"].to_numpy(dtype=np.float64) / np.maximum(counts, 1)
    return ep["stage_index"].to_numpy(dtype=np.int64), age, counts


def test_open_cells_equal_the_pandas_grouped_sum_bit_for_bit() -> None:
    rng = np.random.default_rng(11)
    for n in [0, 1, 2, *rng.integers(3, 80, 300).tolist()]:
        episodes = _episodes(rng, n)
        got = open_state(episodes, 6)
        stage, age, count = _by_pandas(episodes, 6)
        assert got.stage.tobytes() == stage.tobytes()
        assert got.count.tobytes() == count.tobytes()
        assert got.age.tobytes() == age.tobytes()


def test_kahan_sums_keep_what_a_plain_sum_loses() -> None:
    values = np.array([1e16, 1.0, 1.0, -1e16, 5.0])
    group = np.array([0, 0, 0, 0, 1])
    sums = kahan_sums(values, group, 2)
    assert sums[1] == 5.0
    assert sums[0] == 2.0
    assert sum(values[:4].tolist()) == 0.0  # left to right, 1e16 + 1 rounds back to 1e16
    frame = pd.DataFrame({"g": group, "v": values})
    assert frame.groupby("g")["v"].sum().tolist() == sums.tolist()
