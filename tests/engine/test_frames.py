"""The engine's row order: :func:`voronka.engine.frames.sort_key` sorts as the tuples
``(v is None, str(v))`` did (None last, mixed values compared as text), ties kept in place."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from voronka.engine.frames import sort_key


def _tuple_order(values: list[object]) -> list[int]:
    return sorted(range(len(values)),
                  key=lambda i: (values[i] is None, "" if values[i] is None else str(values[i]), i))


@pytest.mark.parametrize(
    "values",
    [
        [None, "b", float("nan"), "a", None, "nan", pd.NaT, True, "True", dt.date(2024, 1, 1)],
        ["b", "a", "b", None, "a"],
        [dt.date(2024, 3, 4), dt.date(2023, 12, 25), None, dt.date(2024, 3, 4)],
        [None, None],
        ["x"],
        [],
    ],
)
def test_sort_key_orders_as_the_tuples(values: list[object]) -> None:
    """Same order as the tuples; equal texts (``True`` and ``"True"``) tie; NaN sorts as "nan"."""
    key = sort_key(pd.Series(values, dtype=object))
    assert sorted(range(len(values)), key=lambda i: (int(key[i]), i)) == _tuple_order(values)


def test_sort_key_in_a_multi_column_sort() -> None:
    """A frame sorted by text, date and integer columns comes out in the tuples' order."""
    rng = np.random.default_rng(1)
    seg = np.array(["b", None, "a", "c", "A"], dtype=object)[rng.integers(0, 5, 300)]
    day = np.array([dt.date(2024, 1, d) for d in (1, 8, 15)] + [None], dtype=object)
    frame = pd.DataFrame({"segment": seg, "period": day[rng.integers(0, 4, 300)],
                          "stage_index": rng.integers(0, 3, 300)})
    got = frame.sort_values(["segment", "period", "stage_index"], key=sort_key)
    want = sorted(range(len(frame)), key=lambda i: (
        *_key(frame["segment"][i]), *_key(frame["period"][i]), int(frame["stage_index"][i])))
    assert [tuple(r) for r in got.itertuples(index=False)] == [
        tuple(frame.iloc[i]) for i in want
    ]


def _key(v: object) -> tuple[bool, str]:
    return (v is None, "" if v is None else str(v))


def test_sort_key_leaves_other_columns() -> None:
    """A numeric column is its own key."""
    column = pd.Series([3, 1, 2])
    assert sort_key(column) is column


def test_split_quantiles_gives_one_float_column_per_level() -> None:
    """A multi-quantile list column becomes one float column per name, in order; a null list (or
    a null element) is NaN; the other columns stay, the list column goes."""
    from voronka.engine.frames import split_quantiles

    frame = pd.DataFrame({"stage_index": [0, 1, 2],
                          "_q": pd.Series([np.array([1.0, 2.5]), None, [3.0, None]], dtype=object)})
    out = split_quantiles(frame, "_q", ["median_days", "p90_days"])
    assert list(out.columns) == ["stage_index", "median_days", "p90_days"]
    assert out["median_days"].tolist()[0::2] == [1.0, 3.0]
    assert out["p90_days"].tolist()[0] == 2.5
    assert out[["median_days", "p90_days"]].isna().to_numpy().tolist() == [
        [False, False], [True, True], [False, True]
    ]
    assert str(out["p90_days"].dtype) == "float64"
