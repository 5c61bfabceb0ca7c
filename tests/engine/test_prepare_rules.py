"""The prepare step's cheaper forms give what the rules say: the outlier fence is numpy's
percentiles of the non-null event times (on random columns with nulls and several chunks, the
column left as it was), the rows after the fence are those the integer comparison finds, and the
after-close rule equals a row-by-row reading of it on random logs with repeated deals and
closing dates in both tables."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from voronka.engine import prepare
from voronka.engine.prepare import CLOSE_SLACK, after_close, after_fence, fence_of, outlier_fence

_EPOCH = dt.datetime(1970, 1, 1)
_T0 = dt.datetime(2024, 1, 1)


def _times(rng: np.random.Generator, n: int, null_share: float, chunks: int) -> pa.ChunkedArray:
    micros = (rng.normal(0, 40, n) * 86_400e6).astype(np.int64) + int(
        (_T0 - _EPOCH) / dt.timedelta(microseconds=1))
    micros[rng.random(n) < 0.01] += 80 * 365 * 86_400_000_000  # a few typed far in the future
    nulls = rng.random(n) < null_share
    array = pa.array(micros, pa.timestamp("us"), mask=nulls)
    cuts = np.sort(rng.choice(np.arange(1, n), size=chunks - 1, replace=False)) if chunks > 1 \
        else np.array([], dtype=int)
    bounds = [0, *cuts.tolist(), n]
    return pa.chunked_array([array.slice(a, b - a) for a, b in zip(bounds, bounds[1:],
                                                                      strict=False)])


@pytest.mark.parametrize(("null_share", "chunks"), [(0.0, 1), (0.0, 4), (0.2, 1), (0.3, 5)])
def test_outlier_fence_is_numpys_percentiles_of_the_non_null_times(null_share: float,
                                                                    chunks: int) -> None:
    rng = np.random.default_rng(int(null_share * 10) + chunks)
    for _ in range(5):
        times = _times(rng, int(rng.integers(2, 5000)), null_share, min(chunks, 2))
        if chunks > 2:
            times = _times(rng, int(rng.integers(chunks + 1, 5000)), null_share, chunks)
        before = times.to_pylist()
        values = np.array([int((t - _EPOCH) / dt.timedelta(microseconds=1)) for t in before
                           if t is not None], dtype=np.int64)
        not_after = _T0 + dt.timedelta(days=int(rng.integers(0, 200)))
        got = outlier_fence(times, not_after=not_after)
        if not len(values):
            assert got is None
            continue
        q1, q3, p99 = np.percentile(values, [25, 75, 99])
        assert got == fence_of(float(q1), float(q3), float(p99), not_after)
        assert times.to_pylist() == before  # percentiles of a copy, never of Arrow's buffers


def test_outlier_fence_of_no_times_is_none() -> None:
    assert outlier_fence(pa.chunked_array([pa.array([None, None], pa.timestamp("us"))])) is None
    assert outlier_fence(pa.chunked_array([], pa.timestamp("us"))) is None


def test_after_fence_is_the_integer_comparison_nulls_never_after() -> None:
    rng = np.random.default_rng(7)
    times = _times(rng, 3000, 0.25, 3)
    fence = _T0 + dt.timedelta(days=10, microseconds=17)
    got = after_fence(times, fence)
    expected = [t is not None and t > fence for t in times.to_pylist()]
    assert got.dtype == bool
    assert got.tolist() == expected
    assert 0 < got.sum() < len(times)
    # A value equal to the fence is not after it; a zoned column is compared in UTC.
    exact = pa.array([fence, fence + dt.timedelta(microseconds=1), None], pa.timestamp("us"))
    assert after_fence(exact, fence).tolist() == [False, True, False]
    zoned = pa.array([fence, fence + dt.timedelta(hours=1)], pa.timestamp("us", tz="UTC"))
    assert after_fence(zoned, fence).tolist() == [False, True]


def _reference_after_close(events: pa.Table, deals: pa.Table | None) -> list[bool]:
    """The rule read row by row: a deal's closing date is the deals table's first non-null
    ``closed_at`` in file order (``_row``), else the first one on its event rows; an event row
    more than :data:`CLOSE_SLACK` after it is late."""
    def firsts(table: pa.Table | None) -> dict[str, dt.datetime]:
        out: dict[str, dt.datetime] = {}
        if table is None or "closed_at" not in table.column_names:
            return out
        rows = sorted(zip(table.column("_row").to_pylist(), table.column("deal_id").to_pylist(),
                          table.column("closed_at").to_pylist(), strict=True))
        for _, deal, closed in rows:
            if deal is not None and closed is not None and deal not in out:
                out[deal] = closed
        return out

    close = firsts(events)
    close.update(firsts(deals))  # the deals table wins
    return [deal in close and entered is not None and entered > close[deal] + CLOSE_SLACK
            for deal, entered in zip(events.column("deal_id").to_pylist(),
                                     events.column("entered_at").to_pylist(), strict=True)]


def _maybe(rng: np.random.Generator, values: list[dt.datetime], share: float
           ) -> list[dt.datetime | None]:
    return [None if rng.random() < share else v for v in values]


def test_after_close_with_repeated_closings_in_both_tables_by_hand() -> None:
    day = dt.timedelta(days=1)
    t0 = dt.datetime(2024, 3, 1, 12)
    # A: two deals rows closing t0 + 5 days (row 2) then t0 (row 4); file order, not the
    # earlier date, decides, so t0 + 5 days counts. Its event rows close at t0 - 3 days twice,
    # which the deals table overrides. B: only on event rows, the same closing twice and a
    # later one (row 9): the first in file order (row 7, t0 + 2 days) counts.
    events = pa.table({
        "deal_id": ["A", "A", "A", "B", "B", "B", "B"],
        "entered_at": pa.array([t0 + 6 * day + dt.timedelta(hours=1), t0 + 6 * day, t0 + 2 * day,
                                t0 + 3 * day, t0 + 3 * day + dt.timedelta(microseconds=1),
                                t0 + 2 * day, t0 + 10 * day], pa.timestamp("us")),
        "closed_at": pa.array([t0 - 3 * day, t0 - 3 * day, None, None, t0 + 2 * day,
                               t0 + 2 * day, t0 + 8 * day], pa.timestamp("us")),
        "_row": pa.array([3, 4, 5, 6, 7, 8, 9], pa.int64()),
    })
    deals = pa.table({
        "deal_id": ["A", "A", "A", "C"],
        "closed_at": pa.array([None, t0 + 5 * day, t0, t0], pa.timestamp("us")),
        "_row": pa.array([2, 3, 4, 5], pa.int64()),
    })
    late = after_close(events, deals).tolist()
    # A: closing t0 + 5 days, so t0 + 6 days 1 hour is late and t0 + 6 days exactly is not.
    # B: closing t0 + 2 days: t0 + 3 days is not after it (the slack), one microsecond more is.
    assert late == [True, False, False, False, True, False, True]
    assert late == _reference_after_close(events, deals)


_ID_KINDS = {
    "text": lambda i: f"d{i}",  # joined in DuckDB
    "digits": lambda i: f"{7000 + i:06d}",  # one width, leading zeros: looked up by value
    "sparse digits": lambda i: f"{i * 10_000_019 % 999_999_937:09d}",  # too wide a range: joined
}


@pytest.mark.parametrize("kind", list(_ID_KINDS))
@pytest.mark.parametrize("seed", range(6))
def test_after_close_equals_the_rule_row_by_row_on_random_logs(
    monkeypatch: pytest.MonkeyPatch, seed: int, kind: str
) -> None:
    used = _by_value_used(monkeypatch)
    rng = np.random.default_rng(seed)
    ids = [_ID_KINDS[kind](i) for i in range(int(rng.integers(3, 40)))]
    n_events, n_deals = int(rng.integers(1, 300)), int(rng.integers(1, 80))
    moments = [_T0 + dt.timedelta(hours=int(h)) for h in rng.integers(0, 24 * 20, 600)]
    events = pa.table({
        "deal_id": [None if rng.random() < 0.02 else ids[i]
                    for i in rng.integers(0, len(ids), n_events)],
        "entered_at": pa.array(_maybe(rng, moments[:n_events], 0.05), pa.timestamp("us")),
        "closed_at": pa.array(_maybe(rng, moments[300:300 + n_events], 0.8), pa.timestamp("us")),
        "_row": pa.array(rng.permutation(n_events) + 2, pa.int64()),
    })
    deals = pa.table({
        "deal_id": [ids[i] for i in rng.integers(0, len(ids), n_deals)],  # ids repeat
        "closed_at": pa.array(_maybe(rng, moments[200:200 + n_deals], 0.4), pa.timestamp("us")),
        "_row": pa.array(rng.permutation(n_deals) + 2, pa.int64()),
    })
    got = after_close(events, deals).tolist()
    assert got == _reference_after_close(events, deals)
    assert after_close(events, None).tolist() == _reference_after_close(events, None)
    no_event_closings = events.drop_columns(["closed_at"])
    assert after_close(no_event_closings, deals).tolist() == _reference_after_close(
        no_event_closings, deals)
    assert set(used) == {kind == "digits"}


def _by_value_used(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record whether each :func:`after_close` call answered by value (not joined)."""
    used: list[bool] = []
    real = prepare._after_close_by_value

    def spy(*args: object) -> np.ndarray | None:
        out = real(*args)  # type: ignore[arg-type]
        used.append(out is not None)
        return out

    monkeypatch.setattr(prepare, "_after_close_by_value", spy)
    return used


@pytest.mark.parametrize(
    ("ids", "by_value"),
    [
        (["0012", "0013", "0099", "0100"], True),  # one width, leading zeros
        (["12", "13", "099", "100"], False),  # two widths: "099" is not "99"
        (["12", "13", "1e3", "100"], False),  # not digits
        (["000000001", "999999999", "5", "6"], False),  # widths differ
        (["100000000", "999999999", "100000001", "100000002"], False),  # range too wide
    ],
)
def test_after_close_by_value_only_for_digit_ids_of_one_width_in_a_short_range(
    monkeypatch: pytest.MonkeyPatch, ids: list[str], by_value: bool
) -> None:
    used = _by_value_used(monkeypatch)
    day = dt.timedelta(days=1)
    t0 = dt.datetime(2024, 3, 1)
    # Each deal closes at t0 (the deals table, rows out of file order, one id twice: its first
    # row in file order, row 2, closes at t0 + 9 days) and has events at t0 + 2 days and
    # t0 + 20 days; a null id and a null time are never late.
    deal_ids = [*ids, ids[0]]
    deals = pa.table({
        "deal_id": deal_ids,
        "closed_at": pa.array([t0, t0, t0, t0, t0 + 9 * day], pa.timestamp("us")),
        "_row": pa.array([6, 3, 4, 5, 2], pa.int64()),
    })
    event_ids = [i for i in ids for _ in (0, 1)] + [None, ids[1]]
    events = pa.table({
        "deal_id": pa.array(event_ids, pa.string()),
        "entered_at": pa.array([t0 + d * day for _ in ids for d in (2, 20)] + [t0 + 20 * day, None],
                               pa.timestamp("us")),
        "_row": pa.array(range(2, 2 + len(event_ids)), pa.int64()),
    })
    late = after_close(events, deals).tolist()
    assert used == [by_value]
    assert late == _reference_after_close(events, deals)
    assert late == [False, True, True, True, True, True, True, True, False, False]
