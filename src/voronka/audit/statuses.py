"""The ``statuses`` section: each stage name judged result or process."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StatusVerdict:
    """The verdict on one stage name.

    Attributes:
        stage: stage id.
        name: the name judged.
        verdict: ``result``, ``process`` or ``unclear``.
        reason: why, in words a person understands.
        suggestion: a result-style rename (None when the name is fine).
    """

    stage: str
    name: str
    verdict: str
    reason: str
    suggestion: str | None
