"""The Python API: voronka.audit, voronka.load, the result in a notebook."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import voronka
from voronka.errors import UsageError


def test_audit_returns_a_frozen_result(small_events: Path) -> None:
    result = voronka.audit(small_events)
    assert isinstance(result, voronka.AuditResult)
    assert [s.reached for s in result.funnel.stages[:3]] == [4, 3, 2]
    with pytest.raises(AttributeError):
        result.language = "en"  # type: ignore[misc]


def test_load_gives_the_event_log_with_aggregates_only(small_events: Path) -> None:
    log = voronka.load(small_events)
    reach = log.reach(by="source")
    assert isinstance(reach, pd.DataFrame)
    assert set(reach["segment"]) == {"SEO", "Директ"}
    seo = reach[(reach["segment"] == "SEO") & (reach["stage_id"] == "meeting_scheduled")]
    assert int(seo["reached"].iloc[0]) == 2
    assert len(reach) <= 2 * len(log.funnel.stages)  # one row per segment × stage


def test_result_shows_itself_as_html_in_a_notebook(small_events: Path) -> None:
    html = voronka.audit(small_events, lang="en")._repr_html_()
    assert html.lstrip().startswith("<!DOCTYPE html>") and '<html lang="en"' in html


def test_plan_and_plan_revenue_exclude_each_other(small_events: Path) -> None:
    with pytest.raises(UsageError):
        voronka.audit(small_events, plan=10, plan_revenue=1000)


def test_bad_as_of_is_a_usage_error(small_events: Path) -> None:
    with pytest.raises(UsageError, match="as-of"):
        voronka.audit(small_events, as_of="yesterday")
