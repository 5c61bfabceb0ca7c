"""Built-in funnel templates and choosing the one that fits the data."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from voronka.funnel.loading import funnel_from_dict
from voronka.funnel.model import LOST, Funnel

TEMPLATE_IDS = ("reference", "generic", "amocrm", "bitrix24", "hubspot", "pipedrive")
"""Built-in templates, in the order they are tried."""

MIN_TEMPLATE_FIT = 0.9
"""Share of events whose stage a template must recognise for it to be chosen."""

MIN_TEMPLATE_STAGES = 3
"""Distinct stages of a template the data must show for it to be chosen: two names (``First
contact``, ``Won``) say too little to impose a template's other stages on the data."""


@cache
def load_template(template_id: str) -> Funnel:
    """The built-in funnel ``template_id`` (one of :data:`TEMPLATE_IDS`)."""
    if template_id not in TEMPLATE_IDS:
        raise KeyError(f"no built-in template {template_id!r}; known: {TEMPLATE_IDS}")
    text = resources.files("voronka.funnel").joinpath(f"templates/{template_id}.toml").read_text(
        encoding="utf-8"
    )
    return funnel_from_dict(tomllib.loads(text), origin="template", template=template_id)


@dataclass(frozen=True)
class TemplateFit:
    """How well a template recognises the stage names of the data.

    Attributes:
        template_id: the template.
        event_share: share of events (weighted by count) whose stage name the template matches.
        stages_matched: number of distinct funnel stages the data's names hit.
    """

    template_id: str
    event_share: float
    stages_matched: int


def rate_templates(name_counts: Mapping[str, int]) -> list[TemplateFit]:
    """How each built-in template fits ``{stage name in the data: number of events}``, best first."""
    total = sum(name_counts.values()) or 1
    fits = []
    for tid in TEMPLATE_IDS:
        funnel = load_template(tid)
        hit = 0
        stages: set[str] = set()
        for name, count in name_counts.items():
            found = funnel.match(name)
            if found is not None:
                hit += count
                if found != LOST:
                    stages.add(found)
        fits.append(TemplateFit(tid, hit / total, len(stages)))
    return sorted(fits, key=lambda f: (-f.event_share, -f.stages_matched))


def choose_template(name_counts: Mapping[str, int]) -> Funnel | None:
    """The built-in template that recognises the data, or None when none fits well enough.

    A template fits when it matches at least :data:`MIN_TEMPLATE_FIT` of the events and at least
    :data:`MIN_TEMPLATE_STAGES` of its stages occur in the data.
    """
    for fit in rate_templates(name_counts):
        if fit.event_share >= MIN_TEMPLATE_FIT and fit.stages_matched >= MIN_TEMPLATE_STAGES:
            return load_template(fit.template_id)
    return None
