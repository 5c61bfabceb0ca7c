"""Ad spend summed by the engine: per source × campaign × month, on DuckDB (the spend file's rows,
or the backend's own sums for ``--engine``). The audit asks these totals; it never sums spend rows.

Names are matched trimmed and case-folded (``" SEO "`` and ``"seo"`` are one source), as the audit
matches them with the deals' sources.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa


def spend_key(name: object) -> str | None:
    """Matching key of a source or campaign name: trimmed, case-folded; None for no name."""
    if name is None or name != name:  # None or NaN
        return None
    return str(name).strip().casefold()


@dataclass(frozen=True)
class SpendTotals:
    """Spend per (source key, campaign key, month): ``rows`` of ``(source, campaign, month,
    cost)`` with keys of :func:`spend_key` (campaign None where the file has none)."""

    rows: tuple[tuple[str | None, str | None, dt.date | None, float], ...]

    def total(self, source: str | None, campaign: Any = ..., *,
              start: dt.date | None = None, end: dt.date | None = None) -> float | None:
        """The spend on ``source`` (a key), on one ``campaign`` (a key; ``...``: all of them),
        in months ``start`` ≤ month < ``end`` (None: no bound); None without any row."""
        found = [cost for s, c, month, cost in self.rows
                 if s == source and (campaign is ... or c == campaign)
                 and _within(month, start, end)]
        return float(sum(found)) if found else None

    def by_source(self, *, start: dt.date | None = None,
                  end: dt.date | None = None) -> Mapping[str | None, float]:
        """Spend per source key in months ``start`` ≤ month < ``end``."""
        out: dict[str | None, float] = {}
        for source, _, month, cost in self.rows:
            if _within(month, start, end):
                out[source] = out.get(source, 0.0) + cost
        return out


def _within(month: dt.date | None, start: dt.date | None, end: dt.date | None) -> bool:
    if start is None and end is None:
        return True
    if month is None:
        return False
    return (start is None or month >= start) and (end is None or month < end)


def spend_totals(spend: Any) -> SpendTotals:
    """The :class:`SpendTotals` of a spend table (Arrow or pandas: ``source``, ``cost``, and
    ``month`` and ``campaign`` when present), summed by DuckDB."""
    if isinstance(spend, SpendTotals):
        return spend
    table = spend if isinstance(spend, pa.Table) else pa.Table.from_pandas(spend,
                                                                          preserve_index=False)
    names = table.column_names
    campaign = '"campaign"' if "campaign" in names else "NULL::VARCHAR"
    month = 'CAST("month" AS DATE)' if "month" in names else "NULL::DATE"
    con = duckdb.connect()
    try:
        con.register("spend_rows", table)
        summed = con.sql(
            f'SELECT CAST("source" AS VARCHAR) AS source, CAST({campaign} AS VARCHAR) AS '
            f'campaign, {month} AS month, sum(CAST("cost" AS DOUBLE)) AS cost FROM spend_rows '
            "WHERE cost IS NOT NULL AND isfinite(CAST(cost AS DOUBLE)) GROUP BY ALL ORDER BY ALL").fetchall()
    finally:
        con.close()
    keyed: dict[tuple[str | None, str | None, dt.date | None], float] = {}
    for source, camp, when, cost in summed:
        key = (spend_key(source), spend_key(camp), when)
        keyed[key] = keyed.get(key, 0.0) + float(cost)
    return SpendTotals(rows=tuple((s, c, m, v) for (s, c, m), v in keyed.items()))
