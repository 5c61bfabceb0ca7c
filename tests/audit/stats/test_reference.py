"""A source's reference (the other sources' leads weighted by their steadiness): equal to the
quasi-Poisson two-way model statsmodels fits, calibrated under growth, season and a source with a
season of its own, and finding a ±25 % step in one source where the share of all leads does not."""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import numpy as np
import pytest

from voronka.audit.stats.glm_scan import model_scan
from voronka.audit.stats.reference import common_level, reference_counts

WEEKS = 78
PERIODS = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(WEEKS)]
SHARES = np.array([0.28, 0.14, 0.20, 0.10, 0.08, 0.20])
"""The demo's six sources; the fifth has trade shows."""
SHOWS = 4


def _table(rng: np.random.Generator, step: tuple[int, float] | None = None) -> np.ndarray:
    """Weekly leads of six sources: 150 a week growing ×1.5 with a yearly season (common to all);
    the trade-show source ×3 in three months a year and ×0.45 otherwise; optionally one source ×
    a factor from week 52."""
    t = np.arange(WEEKS)
    level = 150 * 1.5 ** (t / WEEKS) * (1 + 0.15 * np.sin(2 * np.pi * t / 52))
    mean = level[:, None] * SHARES[None, :]
    month = (t * 12 // 52) % 12
    mean[:, SHOWS] *= np.where(np.isin(month, (2, 8, 10)), 3.0, 0.45)
    if step is not None:
        source, factor = step
        mean[52:, source] *= factor
    return rng.poisson(mean).astype(float)


def test_common_level_solves_the_quasi_poisson_two_way_model_as_statsmodels() -> None:
    """At the returned dispersions, statsmodels' Poisson GLM with a dummy per period and per
    source and ``var_weights = 1/φ_k`` fits the same means (to 1e-6), and each ``φ_k`` is its
    source's Pearson χ² over ``Σ_t (1 − h_tk) − 1`` (at least 1)."""
    import statsmodels.api as sm

    y = _table(np.random.default_rng(4))[:30]
    level, size, phi = common_level(y)
    assert phi[SHOWS] > 3 and np.all(phi >= 1)
    t_len, s_len = y.shape
    rows = np.repeat(np.arange(t_len), s_len)
    cols = np.tile(np.arange(s_len), t_len)
    exog = np.column_stack([np.eye(t_len)[rows], np.eye(s_len)[cols][:, 1:]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(y.ravel(), exog, family=sm.families.Poisson(),
                     var_weights=(1 / phi)[cols]).fit()
    mu = np.asarray(fit.fittedvalues).reshape(t_len, s_len)
    np.testing.assert_allclose(level[:, None] * size[None, :], mu, rtol=1e-6)
    precision = mu / phi[None, :]
    leverage = precision / precision.sum(axis=1, keepdims=True)
    pearson = ((y - mu) ** 2 / mu).sum(axis=0)
    dof = (1 - leverage).sum(axis=0) - 1
    np.testing.assert_allclose(phi, np.maximum(1.0, pearson / dof), rtol=1e-6)


def test_reference_weights_steady_sources_fully_and_leaves_the_source_out() -> None:
    """Column ``j`` is ``Σ_{k≠j} y_k / φ_k`` with the dispersions fitted without ``j``; steady
    (Poisson) sources weigh about 1 (their φ is 1 up to chance), the trade-show source little;
    a source's own counts never enter its reference; one source alone has none."""
    y = _table(np.random.default_rng(5))
    ref = reference_counts(y)
    for j in range(y.shape[1]):
        others = np.delete(y, j, axis=1)
        np.testing.assert_allclose(ref[:, j], others @ (1 / common_level(others)[2]))
    _, _, phi = common_level(y)
    assert phi[SHOWS] > 5 and np.all(np.delete(phi, SHOWS) < 1.6), phi
    changed = y.copy()
    changed[:, 1] *= 2
    np.testing.assert_array_equal(reference_counts(changed)[:, 1], ref[:, 1])
    assert not reference_counts(y[:, :1]).any()


def _scan(y: np.ndarray, reference: np.ndarray, source: int, seed: int):  # type: ignore[no-untyped-def]
    """The source scanned against its reference, as the anomalies section does."""
    own = y[:, source]
    return model_scan(own, own + reference[:, source], PERIODS, kind="share", simulations=199,
                      seed=seed)


def test_reference_scan_is_calibrated_with_a_trade_show_source() -> None:
    """No step, 40 tables × the five sources without trade shows: p ≤ 5 % in about 5 % of the
    200 scans (at most 9 %)."""
    rng = np.random.default_rng(6)
    hits = total = 0
    for i in range(40):
        y = _table(rng)
        reference = reference_counts(y)
        for source in (0, 1, 2, 3, 5):
            scan = _scan(y, reference, source, seed=i)
            assert scan is not None
            hits += scan.p_value <= 0.05
            total += 1
    assert hits <= 0.09 * total


@pytest.mark.parametrize("factor", [0.75, 1.25])
def test_a_quarter_step_in_one_source_is_found_against_its_reference(factor: float) -> None:
    """One source (of the demo's sizes, ×0.75 or ×1.25 from week 52) among a trade-show source:
    against its reference the step is found (p ≤ 1 %) and dated within 4 weeks in at least 16 of
    20 tables and its size read as the planted factor (median odds ratio within 0.05)."""
    rng = np.random.default_rng(8 if factor < 1 else 9)
    found = 0
    ratios = []
    for i in range(20):
        source = (0, 1, 2, 5)[i % 4]
        y = _table(rng, (source, factor))
        scan = _scan(y, reference_counts(y), source, seed=i)
        assert scan is not None
        found += scan.p_value <= 0.01 and abs(scan.index - 52) <= 4 and (
            (scan.ratio > 1) == (factor > 1))
        ratios.append(scan.ratio)
    assert found >= 16, found
    assert abs(float(np.median(ratios)) - factor) < 0.05
