"""The ``key_stage`` section: the stage that decides the sales."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyStageScore:
    """One stage's score in the key-stage ranking.

    Attributes:
        stage: stage id.
        score: how much the stage decides the outcome (higher = more).
    """

    stage: str
    score: float


@dataclass(frozen=True)
class KeyStage:
    """The ``key_stage`` section.

    Attributes:
        stage: the chosen key stage.
        method: how it was chosen (``data`` or ``funnel_file``).
        ranking: every intermediate stage with its score, best first.
    """

    stage: str
    method: str
    ranking: tuple[KeyStageScore, ...]
