"""Inferring a funnel's order from the data when no funnel file is given and no template fits."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from voronka.funnel.matching import normalize_stage_name
from voronka.funnel.model import Funnel, Stage

_LOST_WORDS = re.compile(
    r"(lost|lose|declin|cancel|reject|fail|disqualif|unqualif|dead|churn|"
    r"проигр|потер|отказ|провал|не реализ|отмен|закрыт[аоы]? без|нецелев|спам|брак)"
)
_WON_WORDS = re.compile(
    r"(won|win|paid|success|closed won|complet|оплач|успешн|выигр|оплата получена|реализовано)"
)


@dataclass(frozen=True)
class StageNameStats:
    """What the data says of one distinct stage name, as the engine aggregates it.

    Attributes:
        name: the stage name as written in the data.
        deals: number of deals with at least one event of this name.
        mean_position: mean of the event's relative position within its deal's ordered events
            (0 = the deal's first event, 1 = its last).
        terminal_share: share of this name's deals for which it is the deal's last event.
    """

    name: str
    deals: int
    mean_position: float
    terminal_share: float


def infer_funnel(stats: Sequence[StageNameStats], *, language: str = "ru") -> Funnel:
    """A funnel whose stage order follows the data: names sorted by mean position in the deals.

    Names that read as a lost outcome (``lost``, ``отказ``, ``провал`` …) become lost outcomes.
    The won stage is the one whose name reads as a success, else the last by position.
    """
    lost = [s for s in stats if _LOST_WORDS.search(normalize_stage_name(s.name))]
    line = [s for s in stats if s not in lost]
    if not line:
        line, lost = list(stats), []
    line.sort(key=lambda s: (s.mean_position, -s.deals, s.name))
    won_candidates = [s for s in line if _WON_WORDS.search(normalize_stage_name(s.name))]
    won = won_candidates[-1] if won_candidates else line[-1]
    # The won stage ends the line: move it last.
    line = [s for s in line if s is not won] + [won]
    used: set[str] = set()
    stages = []
    for i, s in enumerate(line, start=1):
        base = re.sub(r"[^0-9a-z]+", "_", normalize_stage_name(s.name)).strip("_") or f"stage_{i}"
        sid = base if base not in used else f"{base}_{i}"
        used.add(sid)
        stages.append(Stage(id=sid, name=s.name))
    return Funnel(
        name="inferred",
        stages=tuple(stages),
        won_stage=stages[-1].id,
        lost_names=tuple(s.name for s in lost),
        language=language,
        origin="inferred",
    )
