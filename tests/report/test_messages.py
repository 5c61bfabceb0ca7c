"""The report's messages built from variable parts (f-string keys) exist in the catalogue."""

from __future__ import annotations

import pytest

from voronka.i18n import has

SECTIONS = (
    "funnel",
    "flow",
    "leaks",
    "anomalies",
    "sources",
    "statuses",
    "stuck",
    "time",
    "entry",
    "key_stage",
    "forecast",
    "reverse",
    "quality",
)


@pytest.mark.parametrize(
    "key",
    [
        *(f"report.section.{s}.{part}" for s in SECTIONS for part in ("title", "intro")),
        *(f"report.severity.{s}" for s in ("alert", "warning", "info", "good")),
        *(
            f"report.finding.anomaly.{what}_{d}"
            for what in ("conversion", "volume")
            for d in ("up", "down")
        ),
        *(f"report.verdict.{v}" for v in ("result", "process", "unclear")),
        *(f"report.direction.{d}" for d in ("up", "down")),
        *(f"report.origin.{o}" for o in ("file", "template", "inferred")),
        *(f"report.key_stage.method.{m}" for m in ("data", "funnel_file")),
        *(f"report.finding.key_stage.detail_{m}" for m in ("data", "funnel_file")),
        *(
            f"report.plural.{w}.{f}"
            for w in ("deal", "stage", "row")
            for f in ("one", "few", "many")
        ),
    ],
)
def test_dynamic_report_key_exists(key: str) -> None:
    assert has(key), key
