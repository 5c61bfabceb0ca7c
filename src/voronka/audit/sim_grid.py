"""The grid arithmetic of :func:`voronka.audit.simulate.win_probabilities`: the probability of
leaving a stage during each step of the time grid (exact for the piecewise-exponential model), the
open cells' win probabilities from it, and the correlations of the backward equation (FFT).

Everything here is plain numpy on small per-draw arrays; the way the work is split (draws at a
time, stage × bucket pairs) never changes a number (see the tests of
``tests/audit/test_simulate.py``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from voronka.audit.hazards import OpenCells

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

CACHE_CELL_STEPS = 1 << 16
"""Most open-cell × grid-step values processed at once (a few draws of the rates at a time):
512 KB per array, which stays in the processor's cache through the dozen passes over it, where
all draws at once (megabytes) went through memory on each; memory stays bounded whatever the
window and the number of draws."""

def _fft_size(steps: int) -> int:
    """The FFT length of :func:`correlate` for rows of ``steps`` values."""
    return 1 << int(2 * steps - 1).bit_length()


def reversed_spectrum(values: FloatArray) -> FloatArray:
    """The FFT of ``values`` reversed along the rows, the half of :func:`correlate` that depends
    on the values only (a stage's is computed once and correlated with every kernel into it)."""
    return np.fft.rfft(values[:, ::-1], _fft_size(values.shape[1]), axis=1)


def correlate(values: FloatArray, kernel: FloatArray, spectrum: FloatArray | None = None) -> (
    FloatArray
):
    """``out[:, m] = Σ_n kernel[:, n] · values[:, m + n]`` (terms past the end are 0), row by row,
    through the FFT: ``O(T log T)`` per row instead of ``O(T²)``. ``spectrum``: the
    :func:`reversed_spectrum` of ``values``, when already computed."""
    steps = values.shape[1]
    size = _fft_size(steps)
    if spectrum is None:
        spectrum = reversed_spectrum(values)
    product = spectrum * np.fft.rfft(kernel, size, axis=1)
    full = np.fft.irfft(product, size, axis=1)  # full[:, q] = Σ_n kernel[n] · values[T−1−q+n]
    return np.asarray(full[:, steps - 1 :: -1], dtype=np.float64)


def _cumulative_hazard(total: FloatArray, edges: FloatArray) -> FloatArray:
    """``H`` at each bucket's start, ``(draws, stages, buckets)``, from the summed exit rates
    ``total`` (same shape)."""
    widths = np.diff(edges)
    cum = np.zeros(total.shape)
    cum[:, :, 1:] = np.cumsum(total[:, :, :-1] * widths, axis=2)
    return cum


def _age_grid(
    edges: FloatArray, n_buckets: int, stage: IntArray, age: FloatArray, dt: float, steps: int
) -> tuple[IntArray, FloatArray, IntArray]:
    """What :func:`exit_cells` needs of deals of ``stage`` aged ``age`` that does not depend on
    the rates: at each grid point (``(n, steps + 1)``) the flat stage × bucket index and the days
    past the bucket's start, and the bucket at each step's middle (``(n, steps)``)."""
    ages = age[:, None] + dt * np.arange(steps + 1)[None, :]  # (n, steps + 1)
    bucket = np.searchsorted(edges, ages, side="right") - 1
    flat = stage[:, None] * n_buckets + bucket
    middle = np.searchsorted(edges, ages[:, :-1] + dt / 2, side="right") - 1
    return flat, ages - edges[bucket], np.asarray(middle, dtype=np.int64)


def _leave(total: FloatArray, cum: FloatArray, flat: IntArray, past: FloatArray) -> FloatArray:
    """The probability of leaving during each grid step, ``(draws, n, steps)``, from the rates'
    ``total`` and ``cum`` (:func:`_cumulative_hazard`) and the deals' :func:`_age_grid`."""
    draws = total.shape[0]
    # One flat gather per array (stage × bucket), the same values as cum[:, stage, bucket].
    at = np.take(cum.reshape(draws, -1), flat, axis=1)
    at += np.take(total.reshape(draws, -1), flat, axis=1) * past
    # −(H(age + t) − H(age)), written H(age) − H(age + t): the same number, one pass fewer.
    np.subtract(at[:, :, :1].copy(), at, out=at)
    survive = np.exp(at, out=at)
    return np.subtract(survive[:, :, :-1], survive[:, :, 1:])


def exit_cells(
    rates: FloatArray, edges: FloatArray, stage: IntArray, age: FloatArray, dt: float, steps: int
) -> tuple[FloatArray, IntArray]:
    """For deals of ``stage`` aged ``age`` now: the probability of leaving during each grid step
    (``(draws, n, steps)``), and the bucket at each step's middle (``(n, steps)``).

    Exact for the piecewise-exponential model: ``S(t) = exp(−(H(age + t) − H(age)))`` with ``H``
    piecewise linear between the edges.
    """
    total = rates.sum(axis=3)  # (draws, stages, buckets)
    flat, past, middle = _age_grid(edges, total.shape[2], stage, age, dt, steps)
    return _leave(total, _cumulative_hazard(total, edges), flat, past), middle


def open_cell_probabilities(
    total: FloatArray,
    edges: FloatArray,
    share: FloatArray,
    mean_w: FloatArray,
    cells: OpenCells,
    dt: float,
    steps: int,
) -> FloatArray:
    """P(won in the window) for a deal of each open cell, ``(draws, cells)`` (see
    :func:`win_probabilities`; ``total``: the rates summed over the destinations):
    ``Σ_n leave[n] · then[stage, bucket at step n's middle, n]``,
    ``then`` the probability of being won after leaving the stage from that bucket at step n.

    ``then`` is computed only for the stage × bucket pairs the cells pass through, and the
    (draws, cells, steps) arrays a few draws at a time, at most :data:`CACHE_CELL_STEPS` values,
    so they stay in the processor's cache (every number as one pass over all draws gives)."""
    draws, n_stages, n_buckets = share.shape[0], share.shape[1], share.shape[2]
    cum = _cumulative_hazard(total, edges)
    flat, past, middle = _age_grid(edges, n_buckets, cells.stage, cells.age, dt, steps)
    # The stage × bucket pairs passed through (in order), and each (cell, step)'s index in
    # ``then``'s rows of pairs × steps: a lookup over the few pairs, where np.unique sorted.
    key = cells.stage[:, None] * n_buckets + middle
    used = np.zeros(n_stages * n_buckets, dtype=bool)
    used[key] = True
    pairs = np.flatnonzero(used)
    slot = np.cumsum(used) - 1
    at = slot[key] * steps + np.arange(steps)[None, :]
    rows = share.reshape(draws, n_stages * n_buckets, -1)[:, pairs]
    open_p = np.zeros((draws, cells.stage.shape[0]))
    per_pass = max(1, CACHE_CELL_STEPS // max(flat.size, 1))
    for lo in range(0, draws, per_pass):
        part = slice(lo, min(draws, lo + per_pass))
        # then[d, r, n]: P(won | leaving pair r during step n), by the shares (einsum, not
        # matmul: the BLAS threads of a batched product of these small matrices cost more than
        # the product; summed over the destinations in order, as einsum over every pair would).
        then = np.einsum("dri,din->drn", rows[part], mean_w[part])
        leave = _leave(total[part], cum[part], flat, past)
        leave *= np.take(then.reshape(then.shape[0], -1), at, axis=1)
        open_p[part] = leave.sum(axis=2)
    return open_p
