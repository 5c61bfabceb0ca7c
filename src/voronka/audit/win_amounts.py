"""The revenue of simulated wins: amounts drawn from a distribution given by its quantiles, one
by one, or, for many wins, by how many fall between each pair of quantiles (the Monte Carlo of
:mod:`voronka.audit.simulate`)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

EXACT_SUM_MAX = 200
"""Most wins in a simulation whose amounts are drawn one by one (see :func:`sum_of_amounts`)."""


def sample_amounts(quantiles: FloatArray, n: int, rng: np.random.Generator) -> FloatArray:
    """Draw ``n`` amounts from a distribution given by equally spaced quantiles (0 … 1).

    Inverse transform on the piecewise-linear quantile function: exact for the empirical
    distribution the quantiles were read from, up to interpolation between them.
    """
    grid = np.linspace(0.0, 1.0, quantiles.shape[0])
    return np.asarray(np.interp(rng.random(n), grid, quantiles), dtype=np.float64)


def sum_of_amounts(wins: IntArray, quantiles: FloatArray, rng: np.random.Generator) -> FloatArray:
    """The sum of ``wins[s]`` amounts drawn from ``quantiles`` (:func:`sample_amounts`), for each
    simulation ``s``.

    A draw from the piecewise-linear quantile function picks one of the ``S`` segments between
    consecutive quantiles with probability ``1/S`` and is uniform inside it. A simulation with at
    most :data:`EXACT_SUM_MAX` wins draws its amounts one by one. A larger one draws how many of
    its amounts fall in each segment, ``Multinomial(wins, 1/S …)``, exactly, and the sum of the
    ``c`` uniforms inside segment *i* from its normal limit, mean ``c·(q_i + q_{i+1})/2``, variance
    ``c·(q_{i+1} − q_i)²/12`` (the Irwin–Hall sum, already close to normal for a few terms and a
    tiny share of the total's spread); the cost is then ``S`` per simulation whatever the wins.
    """
    out = np.zeros(wins.shape[0])
    small = np.flatnonzero(wins <= EXACT_SUM_MAX)
    if small.size:
        counts = wins[small]
        amounts = sample_amounts(quantiles, int(counts.sum()), rng)
        owner = np.repeat(np.arange(small.size), counts)
        out[small] = np.bincount(owner, weights=amounts, minlength=small.size)
    large = np.flatnonzero(wins > EXACT_SUM_MAX)
    if large.size:
        segments = quantiles.shape[0] - 1
        per_segment = rng.multinomial(wins[large], np.full(segments, 1.0 / segments))
        middle = (quantiles[:-1] + quantiles[1:]) / 2
        spread = np.diff(quantiles) ** 2 / 12
        sd = np.sqrt(per_segment @ spread)
        out[large] = per_segment @ middle + sd * rng.standard_normal(large.size)
    return out
