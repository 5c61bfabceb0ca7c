"""The null draws of the change-point scan (:mod:`voronka.audit.stats.glm_scan`), simulated
block by block."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

CHUNK = 2048
"""Null draws simulated at a time: a (T × chunk) block stays in the processor's cache."""

EARLY = 250
"""The first block when drawing may stop early: a series far from significance stops there."""


class NullScores:
    """``max_τ z_τ²`` of draws from the scan's null (module docstring): Gaussian errors with
    variance ``φ W``, AR(1) over the periods, projected off the null model's columns.

    The same numbers, draw for draw, as the whole batch computed at once: the normals are drawn
    row by row as one ``(size, T)`` array would be, and each block is laid out period by period
    (``T × chunk``) so that the AR(1) recursion and the sums from each split on run along
    contiguous rows. ``max_τ`` is taken of the score statistic ``U_τ²/V_τ``, then studentised:
    ``q ↦ q / max(1, (X² − q)/(T − p − 1))`` is non-decreasing (in floating point too: every
    operation in it is monotone), so it commutes with the maximum."""

    def __init__(
        self,
        x: FloatArray,
        w: FloatArray,
        xtwx_inv: NDArray[np.floating],
        sd: FloatArray,
        rho: float,
        splits: NDArray[np.int64],
        var: FloatArray,
        dof: int,
    ) -> None:
        t_len = len(w)
        self.x_t = np.ascontiguousarray(x.T)
        self.wx_map = (w[:, None] * x) @ xtwx_inv  # r = e − W X (XᵀWX)⁻¹ Xᵀ e
        self.sd = sd[:, None]
        self.inv_w = 1.0 / w
        self.rho = rho
        # Sums from split s on are rows T−1−s of the cumulative sum of the reversed draws.
        self.rows = slice(t_len - 1 - int(splits[-1]), t_len - int(splits[0]))
        self.var = var[::-1][:, None]
        self.dof = dof
        self.buffers = np.empty((2, t_len, 0))

    def _block(self, z: FloatArray) -> FloatArray:
        """``max_τ z_τ²`` for the draws ``z`` (chunk × T standard normals)."""
        t_len, size = z.shape[1], z.shape[0]
        if self.buffers.shape[2] < size:
            self.buffers = np.empty((2, t_len, size))
        e, r = self.buffers[0][:, :size], self.buffers[1][:, :size]
        if self.rho > 0:
            # e_0 = z_0, e_t = ρ e_{t−1} + √(1 − ρ²) z_t: stationary, unit variance.
            np.multiply(z.T, np.sqrt(1 - self.rho**2), out=e)  # (T, chunk): periods along rows
            np.copyto(e[0], z[:, 0])
            lag = r[0]
            for t in range(1, t_len):
                np.multiply(e[t - 1], self.rho, out=lag)
                e[t] += lag
        else:
            np.copyto(e, z.T)
        e *= self.sd
        np.matmul(self.wx_map, self.x_t @ e, out=r)
        np.subtract(e, r, out=r)  # the draws projected off the null model: the residuals
        np.multiply(r, r, out=e)
        pearson = self.inv_w @ e
        # U_τ = Σ_{t≥τ} r_t: a running sum from the last period (e reused), row k = τ of T−1−k.
        np.copyto(e[0], r[t_len - 1])
        for k in range(1, self.rows.stop):
            np.add(e[k - 1], r[t_len - 1 - k], out=e[k])
        tail = e[self.rows]
        np.square(tail, out=tail)
        tail /= self.var
        q = tail.max(axis=0)
        phi = np.maximum((pearson - q) / self.dof, 1.0)
        return np.asarray(q / phi, dtype=np.float64)

    def exceedances(
        self, rng: np.random.Generator, size: int, threshold: float, enough: int | None = None
    ) -> int:
        """How many of ``size`` draws (from ``rng``) have ``max_τ z_τ² ≥ threshold``; with
        ``enough``, drawing stops (after a first block of :data:`EARLY` draws, then block by
        block) once that many have: the count is then at least ``enough``, not the whole one."""
        t_len = self.x_t.shape[1]
        count, start = 0, 0
        while start < size and (enough is None or count < enough):
            block = min(CHUNK if enough is None or start else EARLY, size - start)
            z = rng.standard_normal((block, t_len))
            count += int(np.count_nonzero(self._block(z) >= threshold))
            start += block
        return count
