"""A finding: one thing to act on, worded for a person (:mod:`voronka.report.findings` selects
them; :mod:`voronka.report.hygiene_findings` words those of stage hygiene and data quality)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["alert", "warning", "info", "good"]

MAX_NAMES = 3
"""How many stage names a list in one finding shows before ``…``."""


@dataclass(frozen=True)
class Finding:
    """One thing to act on, worded for a person.

    Attributes:
        kind: which section it comes from (``leak``, ``forecast``, ``key_stage``, ``anomaly``,
            ``stuck``, ``statuses``, ``entry_criteria``, ``data_quality``).
        severity: ``alert`` (costs money now), ``warning``, ``info`` or ``good`` (a change for the
            better).
        headline: a few words: what and where.
        detail: one or two sentences with the numbers.
        amount: the money at stake when the audit put a figure on it (a leak's lost revenue).
        stage: the stage the finding is about, when one.
    """

    kind: str
    severity: Severity
    headline: str
    detail: str
    amount: float | None = None
    stage: str | None = None
