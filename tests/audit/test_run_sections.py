"""``run_audit(sections=…)``: a part of the audit is exactly that part of the whole audit, and the
sections not asked for keep their empty defaults."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from voronka import api
from voronka.audit.run import FIRST_SCREEN, SECTIONS, run_audit
from voronka.demo import generate_demo, write_demo


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    folder = tmp_path_factory.mktemp("demo")
    files = write_demo(generate_demo(300, seed=3, months=6, end_day=15), folder, fmt="csv")
    inputs = api.read_inputs(files.events, deals=files.deals, spend=files.spend,
                             funnel=files.funnel)
    log = api._log_from_inputs(inputs, files.funnel, as_of=None, backend=None)
    return log, inputs


def test_the_first_screen_equals_those_sections_of_the_whole_audit(
    loaded: tuple[Any, Any],
) -> None:
    log, inputs = loaded
    whole = run_audit(log, inputs.reads)
    part = run_audit(log, inputs.reads, sections=FIRST_SCREEN)
    assert whole.leaks and whole.forecast is not None and whole.key_stage is not None
    for name in ("funnel", "data_quality", "maturity", *FIRST_SCREEN):
        assert getattr(part, name) == getattr(whole, name), name
    defaults = {f.name: f for f in dataclasses.fields(part)}
    for name in set(SECTIONS) - set(FIRST_SCREEN):
        default = defaults[name].default
        assert getattr(part, name) == default, name
    assert part.forecast is None and part.anomalies == ()


def test_a_section_brings_what_it_is_derived_from(loaded: tuple[Any, Any]) -> None:
    log, inputs = loaded
    part = run_audit(log, inputs.reads, sections=["what_if"])
    assert part.forecast is not None and part.leaks


def test_an_unknown_section_is_refused(loaded: tuple[Any, Any]) -> None:
    log, inputs = loaded
    with pytest.raises(ValueError, match="forcast"):
        run_audit(log, inputs.reads, sections=["forcast"])


def test_the_api_passes_sections_through(loaded: tuple[Any, Any]) -> None:
    log, inputs = loaded
    part = api.audit_log(log, inputs.reads, sections=FIRST_SCREEN)
    direct = run_audit(log, inputs.reads, sections=FIRST_SCREEN)
    assert part.forecast is None and part.key_stage is None and part.anomalies == ()
    for name in ("funnel", "data_quality", "maturity", *FIRST_SCREEN):
        assert getattr(part, name) == getattr(direct, name), name
    assert part.leaks and part.stuck is not None
    with pytest.raises(ValueError, match="forcast"):
        api.audit_log(log, inputs.reads, sections=["forcast"])
