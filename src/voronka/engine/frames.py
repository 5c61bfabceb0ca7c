"""Small pandas helpers shared by the engine's aggregates: key columns as text with None for null,
and the sort order every aggregate returns its rows in."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def nullable(values: pd.Series) -> pd.Series:
    """A key column as ``object`` with ``None`` for null."""
    return pd.Series(
        [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in values],
        index=values.index,
        dtype=object,
    )


def sort_key(values: pd.Series) -> pd.Series:
    """Sort key that puts None last and compares mixed values as text where needed.

    The order of the tuples ``(v is None, str(v))``, as dense integer ranks: the distinct values
    are found by hashing (:func:`pandas.factorize`) and only they are turned into text and
    sorted, so a frame of tens of thousands of rows sorts in a few milliseconds instead of the
    tenth of a second a column of tuples took (the anomalies' weekly cohorts).
    """
    if values.dtype != object:
        return values
    codes, uniques = pd.factorize(values)  # every missing value (None, NaN, NaT) is -1
    texts = [str(u) for u in uniques]
    missing = np.flatnonzero(codes < 0)
    # Only None sorts last: another missing value compares as its text, as in the tuples.
    others = {int(i): str(v) for i, v in zip(missing, values.to_numpy()[missing], strict=True)
              if v is not None}
    rank = {t: i for i, t in enumerate(sorted({*texts, *others.values()}))}
    ranks = np.array([*(rank[t] for t in texts), len(rank)], dtype=np.int64)
    key = ranks[codes]  # code -1 takes the last entry: None's rank, after every text
    for i, t in others.items():
        key[i] = rank[t]
    return pd.Series(key, index=values.index)


def split_quantiles(frame: pd.DataFrame, column: str, names: Sequence[str]) -> pd.DataFrame:
    """``frame`` with its list column ``column`` (the values of one multi-quantile aggregate,
    ``x.quantile([…])``) replaced by one float column per name of ``names``, in order, NaN where
    null. One aggregate sorts each group once for all its quantiles: DuckDB took half the time of
    one aggregate per quantile (three quantiles of the 1,000,000 deals' stage times: 0.10 →
    0.05 s), with the same values."""
    lists = frame.pop(column)
    for i, name in enumerate(names):
        frame[name] = pd.Series(
            [np.nan if v is None or v[i] is None else float(v[i]) for v in lists],
            index=frame.index,
            dtype="float64",
        )
    return frame
