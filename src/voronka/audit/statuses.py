"""The ``statuses`` section: each stage name judged result or process."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from voronka.funnel import Funnel
from voronka.lang import judge_stage_name


@dataclass(frozen=True)
class StatusVerdict:
    """The verdict on one stage name.

    Attributes:
        stage: stage id.
        name: the name judged.
        verdict: ``result``, ``process`` or ``unclear``.
        reason: why, in words a person understands (in the audit's language).
        suggestion: a result-style rename (None when the name is fine).
        reason_key: the catalogue key of ``reason`` (for a report rendering another language).
        reason_params: the words ``reason`` quotes.
        language: the language the name was judged in (``ru`` or ``en``).
    """

    stage: str
    name: str
    verdict: str
    reason: str
    suggestion: str | None
    reason_key: str = ""
    reason_params: Mapping[str, str] = field(default_factory=dict)
    language: str = "ru"


def build_statuses(funnel: Funnel, lang: str | None = None) -> tuple[StatusVerdict, ...]:
    """A verdict for every stage of ``funnel``, in funnel order.

    The name judged is the stage's display name in the funnel's language (``Stage.name``); the
    first stage is judged as the entry stage; ``reason`` is rendered in ``lang`` (default: the
    funnel's language).
    """
    out: list[StatusVerdict] = []
    for i, stage in enumerate(funnel.stages):
        v = judge_stage_name(stage.name, entry=i == 0)
        out.append(
            StatusVerdict(
                stage=stage.id,
                name=stage.name,
                verdict=v.verdict,
                reason=v.reason(lang or funnel.language),
                suggestion=v.suggestion,
                reason_key=v.reason_key,
                reason_params=dict(v.reason_params),
                language=v.language,
            )
        )
    return tuple(out)
