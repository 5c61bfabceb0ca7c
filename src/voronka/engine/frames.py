"""Small pandas helpers shared by the engine's aggregates: key columns as text with None for null,
and the sort order every aggregate returns its rows in."""

from __future__ import annotations

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
    """Sort key that puts None last and compares mixed values as text where needed."""
    if values.dtype == object:
        return pd.Series(
            [(v is None, "" if v is None else str(v)) for v in values], index=values.index
        )
    return values
