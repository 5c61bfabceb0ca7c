"""Fixtures of the report tests: the rich and the empty audit result, and a funnel for them."""

from __future__ import annotations

import pytest
from sample_result import STAGES, make_empty_result, make_result

from voronka.audit import AuditResult
from voronka.funnel import Funnel, Stage


@pytest.fixture
def result() -> AuditResult:
    """The rich result, Russian by default."""
    return make_result()


@pytest.fixture
def empty_result() -> AuditResult:
    """The empty result."""
    return make_empty_result()


@pytest.fixture
def funnel() -> Funnel:
    """A funnel file for the fixture's stages, with English names and key tasks."""
    return Funnel(
        name="Тестовая воронка",
        stages=tuple(
            Stage(
                id=sid,
                name=name,
                names={"en": f"EN {name}"} if sid in ("new", "won") else {},
                key_task=f"Задача {sid}",
                key_tasks={"en": f"Task {sid}"},
            )
            for sid, name, *_ in STAGES
        ),
        won_stage="won",
    )
