"""The ``entry_criteria`` section: deals that reached a stage without the data it requires.

A stage's ``requires`` (funnel file) lists deal columns that must be filled once a deal reaches
the stage (entered it or any later stage of the line). A column counts as empty when null or
blank text. A required column absent from the data altogether cannot be checked: it is listed in
``missing_columns`` and not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from voronka.engine import EventLog, entry_violations


@dataclass(frozen=True)
class EntryCriteria:
    """Entry-criteria violations of one stage.

    Attributes:
        stage: stage id.
        violations: deals that reached the stage with at least one required column empty.
        by_field: violations per required column.
        reached: deals that reached the stage (the denominator of ``violations``).
        missing_columns: required columns absent from the data (not checked).
    """

    stage: str
    violations: int
    by_field: Mapping[str, int]
    reached: int = 0
    missing_columns: tuple[str, ...] = ()


def build_entry_criteria(log: EventLog) -> tuple[EntryCriteria, ...]:
    """One entry per stage with ``requires``, in funnel order."""
    funnel = log.funnel
    if funnel is None:
        raise RuntimeError("this needs a funnel: build the log with one or call with_funnel")
    present = set(log.deal_columns())
    requires = {i: s.requires for i, s in enumerate(funnel.stages) if s.requires}
    if not requires:
        return ()
    stage_frame, field_frame = entry_violations(log, requires)
    per_stage = {int(r.stage_index): r for r in stage_frame.itertuples(index=False)}
    out: list[EntryCriteria] = []
    for index, columns in requires.items():
        fields = field_frame[field_frame["stage_index"] == index]
        row = per_stage.get(index)
        out.append(
            EntryCriteria(
                stage=funnel.stage_ids[index],
                violations=int(row.violations) if row is not None else 0,
                by_field={str(r.column): int(r.violations) for r in fields.itertuples()},
                reached=int(row.reached) if row is not None else 0,
                missing_columns=tuple(c for c in columns if c not in present),
            )
        )
    return tuple(out)
