"""Spend is summed by the engine (``voronka.engine.spend_totals``): per source × campaign × month,
names matched trimmed and case-folded; the audit asks these totals (issue 11, point 3)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa

from voronka.engine import SpendTotals, spend_totals

MARCH, APRIL, MAY = dt.date(2024, 3, 1), dt.date(2024, 4, 1), dt.date(2024, 5, 1)


def _table() -> pa.Table:
    return pa.table({
        "source": [" SEO", "seo", "Директ", "директ ", "Директ"],
        "campaign": [None, None, "Поиск", "поиск", "РСЯ"],
        "month": [MARCH, APRIL, MARCH, MARCH, APRIL],
        "date": pa.nulls(5, pa.date32()),
        "cost": [100.0, 50.0, 10.0, 5.5, 7.0],
    })


def test_totals_by_key_campaign_and_months() -> None:
    totals = spend_totals(_table())
    assert totals.total("seo") == 150.0
    assert totals.total("директ") == 22.5
    assert totals.total("директ", "поиск") == 15.5
    assert totals.total("директ", "рся", start=MARCH, end=APRIL) is None
    assert totals.total("директ", start=APRIL, end=MAY) == 7.0
    assert totals.total("vk") is None
    assert dict(totals.by_source(start=MARCH, end=APRIL)) == {"seo": 100.0, "директ": 15.5}


def test_pandas_and_arrow_give_the_same_totals_and_totals_pass_through() -> None:
    arrow = spend_totals(_table())
    frame = spend_totals(_table().to_pandas())
    assert sorted(arrow.rows, key=str) == sorted(frame.rows, key=str)
    assert spend_totals(arrow) is arrow
    assert isinstance(arrow, SpendTotals)


def test_the_backends_sums_summed_again_are_unchanged() -> None:
    """``--engine`` hands over spend already summed per source × campaign × month."""
    once = spend_totals(_table())
    summed = pd.DataFrame([{"source": s, "campaign": c, "month": m, "cost": v}
                           for s, c, m, v in once.rows])
    assert sorted(spend_totals(summed).rows, key=str) == sorted(once.rows, key=str)
