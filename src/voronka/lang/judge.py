"""Judging stage names: the entry points that pick the language and apply the funnel's context."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from voronka.i18n import LANGUAGES
from voronka.lang.en import judge_en
from voronka.lang.ru import judge_ru
from voronka.lang.verdict import NameVerdict, detect_language


class _StageLike(Protocol):
    id: str
    name: str


class FunnelLike(Protocol):
    """What :func:`lint_stage_names` needs of a :class:`voronka.funnel.Funnel` (``lang`` and
    ``funnel`` are sibling layers and do not import each other)."""

    @property
    def stages(self) -> Sequence[_StageLike]: ...

    def match(self, name: object) -> str | None: ...


def judge_stage_name(name: str, lang: str | None = None, *, entry: bool = False) -> NameVerdict:
    """Whether ``name`` states a result (``Встреча назначена``) or a process (``Думают``).

    Args:
        name: the stage name as written.
        lang: ``ru`` or ``en`` to force the language; None detects it from the letters.
        entry: the name is the funnel's first stage (a bare noun such as ``Лиды`` then counts as
            the entry result rather than ``unclear``).
    """
    language = lang.strip().lower()[:2] if lang else None
    if language not in LANGUAGES:
        language = detect_language(name)
    if language == "ru":
        return judge_ru(name, entry=entry)
    return judge_en(name, entry=entry)


def lint_stage_names(
    names: Iterable[str], funnel: FunnelLike | None = None, lang: str | None = None
) -> list[NameVerdict]:
    """Judge every name, in input order (the ``voronka lint-stages`` command).

    With a ``funnel``, a name that matches its first stage is judged as the entry stage, names
    that mean a lost deal are outcomes (results), and when ``names`` is empty the funnel's own
    stage names are judged.
    """
    todo = list(names)
    if not todo and funnel is not None:
        todo = [s.name for s in funnel.stages]
    first = funnel.stages[0].id if funnel is not None else None
    ids = {s.id for s in funnel.stages} if funnel is not None else set()
    out: list[NameVerdict] = []
    for name in todo:
        match = funnel.match(name) if funnel is not None else None
        verdict = judge_stage_name(name, lang, entry=match is not None and match == first)
        is_lost = match is not None and match not in ids  # Funnel.match returns LOST for these
        if is_lost and verdict.verdict != "result":
            verdict = NameVerdict(
                name, verdict.language, "result", "lang.reason.lost_outcome", {}, None
            )
        out.append(verdict)
    return out
