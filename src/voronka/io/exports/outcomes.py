"""Each CRM's won and lost stage names, and its default pipeline as a funnel for an export.

The spellings are in each CRM's profile (:mod:`voronka.io.crm.profiles`). The funnels are the
built-in templates (``src/voronka/funnel/templates/<crm>.toml``) with the
spellings a file export shows and the templates lack (``../shared/reference/crm-apis.md``):
Bitrix24's English grid says ``Deal successful`` / ``Deal failed`` / ``Failure reason analysis``
(§2.7); amoCRM's Russian default pipeline is commonly ``Первичный контакт → Переговоры →
Принимают решение → Согласование договора`` (§1.7, *observed, verify*); Kommo writes
``Closed-Won`` / ``Closed-Lost`` (§1.7); Pipedrive's first stage is ``Lead In`` in newer accounts
(§4.7). Won and lost are statuses in Pipedrive, not stages: its events use the stage names
``Won`` and ``Lost``, as ``voronka pull pipedrive`` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import cache

from voronka.funnel import LOST, Funnel, Stage, load_template, normalize_stage_name
from voronka.io.crm.profiles import REGISTRY

MIN_EXPORT_FIT = 1.0
"""Share of the data's stage names a CRM's default funnel must recognise for the audit to use it:
all of them (a custom stage would otherwise be rejected as unknown, its deals lost)."""

OUTCOME_STAGES: Mapping[str, tuple[str, str]] = {
    p.id: p.outcome_stages for p in REGISTRY.values() if p.outcome_stages is not None
}
"""For a CRM where won/lost is a status beside the stage: the stage names of its outcome events."""


@cache
def export_funnel(crm: str) -> Funnel:
    """The default pipeline of ``crm`` as a funnel, with the spellings of its file exports."""
    template = load_template(crm)
    profile = REGISTRY[crm]
    extra = profile.extra_aliases
    stages: list[Stage] = []
    for stage in template.stages:
        if stage.id in extra:
            stage = dataclasses.replace(stage, aliases=(*stage.aliases, *extra[stage.id]))
        stages.append(stage)
        for after, new in profile.extra_stages:
            if after == stage.id:
                stages.append(new)
    return dataclasses.replace(
        template,
        stages=tuple(stages),
        lost_names=(*template.lost_names, *profile.extra_lost),
    )


@cache
def stage_outcomes(crm: str) -> tuple[frozenset[str], frozenset[str]]:
    """The normalised stage names that mean won and lost in ``crm``'s default pipeline."""
    funnel = export_funnel(crm)
    won = funnel.stage(funnel.won_stage)
    won_names = {won.id, won.name, *won.aliases, *won.names.values()}
    lost_names = set(funnel.lost_names)
    if crm in OUTCOME_STAGES:
        won_names.add(OUTCOME_STAGES[crm][0])
        lost_names.add(OUTCOME_STAGES[crm][1])
    return (
        frozenset(normalize_stage_name(n) for n in won_names),
        frozenset(normalize_stage_name(n) for n in lost_names),
    )


def fitting_funnel(crm: str, name_counts: Mapping[str, int]) -> Funnel | None:
    """``crm``'s funnel (:func:`export_funnel`) when it recognises every stage name of the data
    (``{stage name: events}``) and one stage of its line; else None: a pipeline with stages of
    its own (almost every real account), whose funnel is then built from the export itself
    (:func:`custom_stages` names what the default pipeline lacks)."""
    funnel = export_funnel(crm)
    total = sum(name_counts.values())
    if total == 0:
        return None
    line = False
    for name, count in name_counts.items():
        found = funnel.match(name)
        if found is None and count > 0:
            return None
        line = line or found != LOST
    return funnel if line else None


def custom_stages(crm: str, name_counts: Mapping[str, int]) -> tuple[str, ...]:
    """The data's stage names that ``crm``'s default pipeline does not have, most deals first."""
    funnel = export_funnel(crm)
    unknown = [(n, c) for n, c in name_counts.items() if c and funnel.match(n) is None]
    return tuple(n for n, _ in sorted(unknown, key=lambda x: (-x[1], x[0])))
