"""What one source's lead volume is compared with: the other sources, each weighted by how steady
it is.

A source's leads are scanned against the leads of the *other* sources (growth, seasons, holidays
and the weekday mix are common to them and cancel), not against all leads: one source with a
season of its own (trade shows: three times its usual leads in a show month) would otherwise move
every other source's share each show month, inflate the overdispersion of every scan and hide the
steps sought (measured: ``docs/methods.md``, "Simulation study").

The model is a two-way quasi-Poisson log-linear model of the ``T × S`` table of leads per period
and source, ``E y_{tk} = μ_{tk} = exp(γ_t + α_k)`` (a free level per period, a size per source),
with a dispersion per source, ``Var y_{tk} = φ_k μ_{tk}``. Its quasi-likelihood estimating
equations (McCullagh & Nelder 1989, §9.2; one dispersion per group as in a double GLM, Smyth 1989)
are solved by alternating their closed forms until they no longer change:

* ``exp(γ_t) = Σ_k (y_{tk} / φ_k) / Σ_k (exp(α_k) / φ_k)`` — the period's level, each source
  weighted by ``1/φ_k``;
* ``exp(α_k) = Σ_t y_{tk} / Σ_t exp(γ_t)``;
* ``φ_k = max(1, X²_k / d_k)``: the source's Pearson χ², ``X²_k = Σ_t (y − μ)² / μ``, over its
  residual degrees of freedom ``d_k = Σ_t (1 − h_{tk}) − 1`` with ``h_{tk} = (μ_{tk}/φ_k) /
  Σ_j (μ_{tj}/φ_j)`` the weight of the source in its period's level (its leverage on ``γ_t``).

The **reference** of source ``j`` is then ``R_{tj} = Σ_{k≠j} y_{tk} / φ_k`` with the model fitted
to the other sources only (leave one out: a step in ``j`` must not move its own reference). With
weights ``1/φ_k`` the reference's variance equals its mean (``Σ_k φ_k μ_{tk} / φ_k² = Σ_k
μ_{tk}/φ_k``, up to the floor at 1): it behaves like a count, so ``y_{tj}`` given ``y_{tj} + R_{tj}``
is close to binomial, exactly so when every other source is Poisson (``φ_k = 1``: the plain total
of the others, the conditional multinomial). A steady source counts fully, a source with its
own seasons or campaigns little (a trade-show source with ``φ ≈ 12`` gets weight ``≈ 0.08``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def common_level(
    counts: ArrayLike, *, max_iterations: int = 200, tol: float = 1e-10
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Fit the two-way quasi-Poisson model of the module docstring to a ``T × S`` table.

    Returns ``(level, size, dispersion)``: ``exp(γ_t)`` per period (0 where no source has any
    count), ``exp(α_k)`` per source and ``φ_k`` per source (≥ 1). A source with no counts gets
    size 0 and dispersion 1.
    """
    y = np.asarray(counts, dtype=float)
    if y.ndim != 2 or y.shape[1] == 0:
        raise ValueError("counts must be a T × S table with at least one column")
    t_len, s_len = y.shape
    phi = np.ones(s_len)
    size = y.sum(axis=0) / max(float(y.sum()), 1e-300)
    level = np.zeros(t_len)
    for _ in range(max_iterations):
        weight = 1.0 / phi
        level = (y @ weight) / max(float(size @ weight), 1e-300)
        total_level = float(level.sum())
        new_size = y.sum(axis=0) / max(total_level, 1e-300)
        mu = level[:, None] * new_size[None, :]
        precision = mu * weight[None, :]
        period_precision = precision.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            leverage = np.where(period_precision > 0, precision / period_precision, 0.0)
            pearson = np.where(mu > 0, (y - mu) ** 2 / mu, 0.0).sum(axis=0)
        dof = np.maximum((1.0 - leverage).sum(axis=0) - 1.0, 1.0)
        new_phi = np.where(new_size > 0, np.maximum(1.0, pearson / dof), 1.0)
        change = max(float(np.max(np.abs(new_phi - phi) / phi)),
                     float(np.max(np.abs(new_size - size) / np.maximum(size, 1e-300))))
        phi, size = new_phi, new_size
        if change <= tol:
            break
    return level, size, phi


def reference_counts(counts: ArrayLike) -> FloatArray:
    """Each source's reference per period (module docstring): a ``T × S`` table whose column
    ``j`` is ``Σ_{k≠j} y_{tk} / φ_k^{(−j)}``, the dispersions fitted without source ``j``. With a
    single source the reference is zero (nothing to compare with)."""
    y = np.asarray(counts, dtype=float)
    if y.ndim != 2:
        raise ValueError("counts must be a T × S table")
    out = np.zeros_like(y)
    s_len = y.shape[1]
    if s_len < 2:
        return out
    for j in range(s_len):
        others = np.delete(y, j, axis=1)
        _, _, phi = common_level(others)
        out[:, j] = others @ (1.0 / phi)
    return out
