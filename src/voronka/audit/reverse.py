"""The ``reverse_funnel`` section: what each stage needs for the plan."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReverseFunnelRow:
    """Deals a stage needs for the plan.

    Attributes:
        stage: stage id.
        needed: deals that must reach this stage.
    """

    stage: str
    needed: float
