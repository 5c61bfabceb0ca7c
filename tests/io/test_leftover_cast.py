"""``leftovers._cast_agrees`` (is Arrow's ISO cast of the leftover dates the forgiving parser's
answer wherever it accepts one?) against the one-value-at-a-time rule it implements."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voronka.io import leftovers


def _reference(values: list[str | None], slow: np.ndarray) -> bool:
    """The rule spelt out: every value Arrow casts on its own (naive or UTC) gives ``slow``."""
    for target in (pa.timestamp("us"), pa.timestamp("us", "UTC")):
        for value, expected in zip(values, slow, strict=True):
            try:
                one = pc.cast(pa.array([value], pa.string()), target).cast(pa.int64())[0]
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
            if one.as_py() != int(expected):
                return False
    return True


_ISO = "2024-03-05 10:15:00"
_ISO_MICROS = 1_709_633_700_000_000
_FORMS = [_ISO, "2024-03-05T10:15:00", "2024-03-05 10:15:00+00:00", "2024-03-05 10:15:00Z",
          "сегодня 23:40", "31.02.2025 09:20", "5 марта 2024", "1709596800", "2024-3-5"]


def test_mixed_leftovers_agree_as_one_value_at_a_time() -> None:
    rng = random.Random(11)
    outcomes = set()
    for _ in range(200):
        values = [rng.choice(_FORMS) for _ in range(rng.randint(1, 12))]
        slow = np.array([_ISO_MICROS if "2024-03-05" in v else rng.choice([0, _ISO_MICROS])
                         for v in values], dtype=np.int64)
        if rng.random() < 0.3:  # a forgiving answer that differs from Arrow's
            slow[rng.randrange(len(values))] += 60_000_000
        got = leftovers._cast_agrees(pa.array(values, pa.string()), slow)
        assert got == _reference(values, slow), values
        outcomes.add(got)
    assert outcomes == {True, False}  # both answers were exercised


def test_a_value_arrow_reads_differently_is_found_among_many_it_refuses() -> None:
    values = ["сегодня 23:40"] * 500 + ["2024-03-05 10:15:00"] + ["31.02.2025 09:20"] * 500
    slow = np.zeros(len(values), dtype=np.int64)
    assert not leftovers._cast_agrees(pa.array(values), slow)
    slow[500] = _ISO_MICROS
    assert leftovers._cast_agrees(pa.array(values), slow)
