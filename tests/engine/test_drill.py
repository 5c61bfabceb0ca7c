"""Filters and drill-down pages (``voronka.engine.drill``) against a pandas oracle on the demo data.

The oracle reads the demo's own deals table (pandas), so the filter's deal set and the selections'
counts are checked against an independent computation, and the pages against the audit's numbers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from voronka import api
from voronka.demo import generate_demo, write_demo
from voronka.engine import DealFilter, DealSelection, apply_filter, count_deals, deal_page
from voronka.errors import UsageError


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("demo")
    files = write_demo(generate_demo(600, seed=3, months=8, end_day=15), folder)
    deals = pd.read_csv(files.deals, sep=";", dtype=str)
    return folder, deals


@pytest.fixture(scope="module")
def loaded(demo: tuple[Path, pd.DataFrame]) -> tuple[api.Inputs, object]:
    inputs = api.read_inputs(demo[0])
    return inputs, api.log_of(inputs)


def test_filter_keeps_exactly_the_managers_deals(demo, loaded) -> None:
    _, deals = demo
    manager = deals["Ответственный"].value_counts().index[0]
    log = apply_filter(loaded[1], DealFilter(where=(("manager", manager),)))
    oracle = deals[deals["Ответственный"] == manager]
    assert count_deals(log, DealSelection("all")) == len(oracle)
    page = deal_page(log, DealSelection("all"), limit=500)
    assert set(page.rows["manager"]) == {manager}


def test_filter_by_period_counts_deals_created_on_those_days(loaded) -> None:
    # The oracle: every deal of the unfiltered log (two pages), filtered in pandas.
    everyone = pd.concat(
        [deal_page(loaded[1], DealSelection("all"), offset=o, limit=500).rows for o in (0, 500)]
    )
    created = pd.to_datetime(everyone["created_at"])
    start, end = created.quantile(0.3).date(), created.quantile(0.6).date()
    oracle = ((created.dt.date >= start) & (created.dt.date <= end)).sum()
    log = apply_filter(loaded[1], DealFilter(created_from=start, created_to=end))
    assert count_deals(log, DealSelection("all")) == oracle > 0


def test_selections_equal_the_audit_numbers(loaded) -> None:
    inputs, log = loaded
    result = api.audit_log(log, inputs.reads)
    funnel = log.require_funnel()
    for k, stage in enumerate(result.funnel.stages):
        assert count_deals(log, DealSelection("reached", k)) == stage.reached
        assert count_deals(log, DealSelection("lost_here", k)) == stage.lost_here
    stuck = [s for s in result.stuck.stages if s.stuck]
    assert stuck, "the demo has stuck deals"
    for s in stuck:
        sel = DealSelection("stuck", funnel.index(s.stage), s.max_days)
        page = deal_page(log, sel, sort="days_in_stage", descending=True, limit=500)
        assert page.total == s.stuck == len(page.rows)
        assert (page.rows["stage"] == s.stage).all()
        assert (page.rows["days_in_stage"] > s.max_days).all()
    assert count_deals(log, DealSelection("won")) == result.funnel.won


def test_pages_are_bounded_sorted_and_disjoint(loaded) -> None:
    log = loaded[1]
    first = deal_page(log, DealSelection("all"), sort="created_at", limit=20)
    second = deal_page(log, DealSelection("all"), sort="created_at", limit=20, offset=20)
    assert len(first.rows) == len(second.rows) == 20
    assert not set(first.rows["deal_id"]) & set(second.rows["deal_id"])
    assert first.rows["created_at"].is_monotonic_increasing
    assert first.rows["created_at"].max() <= second.rows["created_at"].min()
    assert len(deal_page(log, DealSelection("all"), limit=10**6).rows) == 500


def test_unknown_filter_column_is_a_usage_error(loaded) -> None:
    with pytest.raises(UsageError, match="no deal column"):
        apply_filter(loaded[1], DealFilter(where=(("nope", "x"),)))
    with pytest.raises(UsageError):
        apply_filter(loaded[1], DealFilter(dt.date(2025, 5, 1), dt.date(2025, 4, 1)))
