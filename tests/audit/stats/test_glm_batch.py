"""The scan of many series at once (issue 11: speed) gives what one scan per series gives: the
batched constant-and-step fits equal ``_irls`` one by one, the null draws simulated block by
block equal the whole (draws × periods) batch computed directly, and ``model_scans`` equals
``model_scan`` per series."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from voronka.audit.stats.glm_batch import ScanInput, _fits, model_scans
from voronka.audit.stats.glm_null import CHUNK, NullScores
from voronka.audit.stats.glm_scan import _design, _fit, _studentised, model_scan, prepared


def _binomial(rng: np.random.Generator, weeks: int) -> tuple[np.ndarray, np.ndarray]:
    """Successes and trials: thin or thick, rates anywhere in (0, 1), empty weeks, sometimes a
    step, sometimes a rate at 0 or 1 on one side (near-separation)."""
    n = rng.integers(0, int(rng.choice([4, 40, 400])), weeks).astype(float)
    p = np.full(weeks, rng.uniform(0.01, 0.99))
    at = int(rng.integers(3, weeks - 3))
    p[at:] = rng.choice([p[0], p[0] * 0.7, min(0.99, p[0] * 1.4), 0.0, 1.0])
    return rng.binomial(n.astype(int), p).astype(float), n


def test_batched_constant_and_step_fits_equal_irls_one_by_one() -> None:
    """120 short conversion and share series (a constant null design), each fitted without and
    with a step at a random split: the batched fits equal ``_fit`` (``_irls``) series by series
    to 1e-10 (the expected successes with and without the step, the coefficients); those with a
    rate at 0 or 1 on a side go through ``_fit`` itself and are identical."""
    rng = np.random.default_rng(11)
    jobs = []
    for i in range(120):
        weeks = int(rng.choice([8, 17, 40, 78]))
        periods = [date(2024, 1, 1) + timedelta(weeks=w) for w in range(weeks)]
        y, n = _binomial(rng, weeks)
        s = prepared(y, n, periods, "share" if i % 3 == 0 else "conversion", 3)
        if s is None:
            continue
        step = (np.arange(len(s.y)) >= rng.integers(1, len(s.y))).astype(float)
        jobs += [(s, s.x, False), (s, np.column_stack([s.x, step]), True)]
    assert all(s.x.shape[1] == 1 for s, _, _ in jobs)  # the batched case
    separated = 0
    for (s, x, drop_last), got in zip(jobs, _fits(jobs), strict=True):
        try:
            want = _fit(s.y, s.n, x, s.kind, drop_last)
        except np.linalg.LinAlgError:
            assert got is None
            continue
        assert got is not None
        after = x[:, -1] == 1.0 if x.shape[1] == 2 else np.zeros(len(x), bool)
        sides = [g for g in (after, ~after) if g.any()]
        if any(s.y[g].sum() in (0.0, s.n[g].sum()) for g in sides):
            separated += 1
            for a, b in zip(got, want, strict=True):
                np.testing.assert_array_equal(a, b)
            continue
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert len(jobs) > 150 and separated > 5


def _direct_max_squared_z(
    z: np.ndarray, x: np.ndarray, w: np.ndarray, phi: float, rho: float, lo: int, var: np.ndarray,
    dof: int,
) -> np.ndarray:
    """The null statistic of each draw computed the direct way, draws × periods: the AR(1) by its
    recursion, the explicit projection, the score at every split, studentised, then the max."""
    e = z.copy()
    for t in range(1, z.shape[1]):
        e[:, t] = rho * e[:, t - 1] + np.sqrt(1 - rho**2) * z[:, t]
    e = e * np.sqrt(phi * w)[None, :]
    proj = np.eye(len(w)) - (w[:, None] * x) @ np.linalg.pinv(x.T @ (w[:, None] * x)) @ x.T
    r = e @ proj.T
    scores = np.cumsum(r[:, ::-1], axis=1)[:, ::-1][:, lo : len(w) - lo + 1]
    zs, _ = _studentised(scores, np.sum(r**2 / w, axis=1), var, dof)
    return np.asarray(np.max(zs**2, axis=1))


@pytest.mark.parametrize(("weeks", "season", "rho"), [(20, False, 0.0), (78, False, 0.35),
                                                      (120, True, 0.8)])
def test_null_draws_in_blocks_equal_the_direct_batch(weeks: int, season: bool, rho: float) -> None:
    """``NullScores`` draws its normals in blocks of ``CHUNK`` and works period-major; every draw's
    ``max_τ z_τ²`` equals the direct computation on the same normals (1e-9), so the exceedances
    of any threshold are the same count (here: at its median and its 99th percentile)."""
    rng = np.random.default_rng(weeks)
    days = np.array([date(2023, 1, 2).toordinal() + 7 * t for t in range(weeks)], float)
    x, _ = _design(days, "volume" if season else "conversion")
    w = rng.uniform(0.5, 40, weeks)
    xtwx_inv = np.linalg.pinv(x.T @ (w[:, None] * x))
    lo = 3
    splits = np.arange(lo, weeks - lo + 1)
    var = rng.uniform(1, 50, len(splits))
    dof = weeks - x.shape[1] - 1
    null = NullScores(x, w, xtwx_inv, np.sqrt(1.7 * w), rho, splits, var, dof)
    size = CHUNK + 517  # a whole block and a part
    z = np.random.default_rng(5).standard_normal((size, weeks))
    want = _direct_max_squared_z(z, x, w, 1.7, rho, lo, var, dof)
    got = np.concatenate([null._block(z[:CHUNK]).copy(), null._block(z[CHUNK:]).copy()])
    np.testing.assert_allclose(got, want, rtol=1e-9)
    ranked = np.sort(want)
    for k in (size // 2, size * 99 // 100):  # between two draws: no tie at rounding level
        threshold = (ranked[k - 1] + ranked[k]) / 2
        count = null.exceedances(np.random.default_rng(5), size, float(threshold))
        assert count == np.count_nonzero(want >= threshold)


def test_model_scans_equal_one_scan_per_series() -> None:
    """Forty series of different lengths, kinds and designs (short constant ones, seasonal
    volumes over two years, some too thin to scan) scanned together: each result equals its
    own ``model_scan`` — padding and batching do not mix series."""
    rng = np.random.default_rng(4)
    inputs = []
    for i in range(40):
        weeks = int(rng.choice([7, 15, 60, 110]))
        periods = [date(2023, 1, 2) + timedelta(weeks=w) for w in range(weeks)]
        if i % 4 == 0:
            y, n = rng.poisson(30, weeks).astype(float), np.full(weeks, 7.0)
            inputs.append(ScanInput(y, n, periods, "volume", seed=i))
        else:
            y, n = _binomial(rng, weeks)
            inputs.append(ScanInput(y, n, periods, "conversion", seed=i))
    together = model_scans(inputs, simulations=99)
    assert sum(s is not None for s in together) >= 20
    for item, got in zip(inputs, together, strict=True):
        want = model_scan(item.successes, item.trials, item.periods, kind=item.kind,
                          simulations=99, seed=item.seed)
        assert (got is None) == (want is None)
        if got is None or want is None:
            continue
        assert (got.index, got.seasonal) == (want.index, want.seasonal)
        for a, b in [(got.p_value, want.p_value), (got.statistic, want.statistic),
                     (got.before, want.before), (got.after, want.after),
                     (got.dispersion, want.dispersion), (got.ratio, want.ratio)]:
            assert a == pytest.approx(b, rel=1e-12, abs=1e-15)
        np.testing.assert_allclose(got.expected, want.expected, rtol=1e-12)


def test_stopping_above_the_fdr_level_changes_no_reported_number() -> None:
    """``stop_above=0.05``: 40 conversion series, half with a planted step. A series whose
    p-value is at most 5 % gets every number as without stopping; one above stops with a p-value
    in (5 %, its full p-value] — and the Benjamini–Hochberg q-values at or below 5 % (the only
    ones the anomalies report) are the same, series by series."""
    from voronka.audit.stats import benjamini_hochberg

    rng = np.random.default_rng(8)
    periods = [date(2024, 1, 1) + timedelta(weeks=w) for w in range(40)]
    inputs = []
    for i in range(40):
        n = rng.integers(30, 90, 40)
        p = np.where(np.arange(40) >= 25, 0.3 if i % 2 else 0.4, 0.4)
        inputs.append(ScanInput(rng.binomial(n, p), n, periods, "conversion", seed=i))
    full = model_scans(inputs)
    stopped = model_scans(inputs, stop_above=0.05)
    early = 0
    for a, b in zip(full, stopped, strict=True):
        assert a is not None and b is not None
        if a.p_value <= 0.05:
            assert b.p_value == a.p_value
        else:
            assert 0.05 < b.p_value <= a.p_value
            early += b.p_value < a.p_value
        assert (b.statistic, b.index, b.before, b.after) == (a.statistic, a.index, a.before, a.after)
    q_full = benjamini_hochberg([s.p_value for s in full if s is not None])
    q_stopped = benjamini_hochberg([s.p_value for s in stopped if s is not None])
    assert 5 <= np.sum(q_full <= 0.05) < 40 and early >= 10
    np.testing.assert_array_equal(q_full <= 0.05, q_stopped <= 0.05)
    np.testing.assert_array_equal(q_full[q_full <= 0.05], q_stopped[q_full <= 0.05])
