"""Every audit number is unchanged by the engine redesign (issue 11): the full JSON of the demo audit
equals the one produced before the change (``demo_reference.py``, commit in ``_produced_by``).

Floats are compared to 1e-9 relative: a fused query may add the same numbers in another order.
Fields the redesign adds are listed in ``ADDED`` and skipped.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from demo_reference import FIXTURE, demo_audit

ADDED: set[tuple[str, ...]] = set()
"""JSON paths (keys, list positions as ``"*"``) this issue adds: not in the fixture."""


def _diff(before: Any, after: Any, path: tuple[str, ...], out: list[str]) -> None:
    if len(out) >= 20:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            sub = (*path, key)
            if key not in before and sub in ADDED:
                continue
            if key not in before or key not in after:
                out.append(f"{'/'.join(sub)}: only in {'after' if key in after else 'before'}")
                continue
            _diff(before[key], after[key], sub, out)
    elif isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            out.append(f"{'/'.join(path)}: {len(before)} items before, {len(after)} after")
            return
        for b, a in zip(before, after, strict=True):
            _diff(b, a, (*path, "*"), out)
    elif isinstance(before, float) and isinstance(after, float | int):
        if not math.isclose(before, after, rel_tol=1e-9, abs_tol=1e-12):
            out.append(f"{'/'.join(path)}: {before!r} before, {after!r} after")
    elif before != after:
        out.append(f"{'/'.join(path)}: {before!r} before, {after!r} after")


def test_the_demo_audit_equals_the_one_before_the_redesign(tmp_path: Path) -> None:
    before = json.loads(FIXTURE.read_text(encoding="utf-8"))
    before.pop("_produced_by")
    after = demo_audit(tmp_path / "demo")
    assert after["funnel"]["deals"] > 1_000  # the demo was audited, not an empty export
    differences: list[str] = []
    _diff(before, after, (), differences)
    assert not differences, "\n".join(differences)


def test_the_comparison_sees_a_changed_number() -> None:
    before = {"funnel": {"stages": [{"reached": 10, "conversion": 0.5}]}}
    after = {"funnel": {"stages": [{"reached": 10, "conversion": 0.5000001}]}}
    differences: list[str] = []
    _diff(before, after, (), differences)
    assert differences == ["funnel/stages/*/conversion: 0.5 before, 0.5000001 after"]


@pytest.mark.parametrize("fmt", ["parquet"])
def test_parquet_input_gives_the_same_audit(tmp_path: Path, fmt: str) -> None:
    csv = demo_audit(tmp_path / "csv")
    other = demo_audit(tmp_path / fmt, fmt=fmt)
    for data in (csv, other):
        data.pop("data_quality")
    differences: list[str] = []
    _diff(csv, other, (), differences)
    assert not differences, "\n".join(differences)
