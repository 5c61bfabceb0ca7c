"""The known amounts of the largest open deals in the revenue forecast (issue 13, point 2): two
big deals decide the month. Reference: the two-step chain of rate 1/day, where a deal in stage 1
is won within two days with probability 1 − e^(−2) and one in stage 0 with the Gamma(2, 1) CDF."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from voronka.audit.forecast_inputs import big_deals
from voronka.audit.hazards import HazardModel, OpenCells
from voronka.audit.simulate import Arrivals, BigDeals, simulate_plan


def chain() -> HazardModel:
    rates = np.zeros((3, 1, 4))
    rates[0, 0, 1] = 1.0
    rates[1, 0, 2] = 1.0
    return HazardModel(edges=np.array([0.0]), rates=rates)


def test_two_big_deals_are_won_with_their_own_probability_and_amount() -> None:
    p1 = 1 - np.exp(-2.0)  # the deal in stage 1
    p0 = 1 - 3 * np.exp(-2.0)  # the deal in stage 0 (Gamma(2, 1) CDF at 2)
    big = BigDeals(stage=np.array([1, 0]), age=np.array([0.0, 0.0]),
                   amount=np.array([1e9, 5e8]))
    cells = OpenCells(np.array([0]), np.array([0.0]), np.array([20]))
    none = Arrivals(np.zeros(0), np.zeros(0), np.zeros(0), np.eye(3)[0])
    q = np.linspace(1000.0, 2000.0, 101)
    sim = simulate_plan(chain(), cells, none, window_start=0.0, horizon=2.0, n_sims=20_000,
                        amount_quantiles=q, seed=3, big=big)
    assert sim.revenue is not None
    big_part = sim.revenue - 0.0
    # P(revenue ≥ 1e9) = P(the first big deal is won); the second adds 5e8 with p0.
    assert np.mean(big_part >= 1e9) == pytest.approx(p1, abs=0.015)
    assert np.mean((big_part % 1e9) >= 5e8) == pytest.approx(p0, abs=0.015)
    small_wins_mean = 20 * p0
    assert sim.wins.mean() == pytest.approx(small_wins_mean + p1 + p0, abs=0.15)


def test_big_deals_are_taken_out_of_their_cell() -> None:
    edges = np.array([0.0, 7.0, 14.0])
    cells = OpenCells(np.array([0, 1, 1]), np.array([3.0, 2.0, 9.0]), np.array([5, 4, 2]))
    largest = pd.DataFrame({"stage_index": [1, 1, 0], "days": [10.0, 1.0, 20.0],
                            "amount": [7e6, 3e6, 1e6]})
    big, rest = big_deals(largest, cells, edges)
    assert big is not None
    # stage 1 aged 10 d → bucket 1 (cell 2); stage 1 aged 1 d → bucket 0 (cell 1); stage 0 aged
    # 20 d → bucket 2, where no cell is: not a deal of the histogram, left out.
    assert rest.count.tolist() == [5, 3, 1]
    assert big.amount.tolist() == [7e6, 3e6]
