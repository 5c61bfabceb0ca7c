"""The ``entry_criteria`` section: deals that reached a stage without the data it requires."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class EntryCriteria:
    """Entry-criteria violations of one stage.

    Attributes:
        stage: stage id.
        violations: deals that reached the stage with at least one required column empty.
        by_field: violations per required column.
    """

    stage: str
    violations: int
    by_field: Mapping[str, int]
