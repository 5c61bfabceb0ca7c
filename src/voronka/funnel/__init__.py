"""The funnel model: stages, outcomes, the funnel file, built-in templates, name matching."""

from voronka.funnel.infer import StageNameStats, infer_funnel
from voronka.funnel.loading import funnel_from_dict, funnel_to_dict, load_funnel, save_funnel
from voronka.funnel.matching import normalize_stage_name
from voronka.funnel.model import LOST, Funnel, Stage
from voronka.funnel.templates import (
    TEMPLATE_IDS,
    TemplateFit,
    choose_template,
    load_template,
    rate_templates,
)

__all__ = [
    "LOST",
    "TEMPLATE_IDS",
    "Funnel",
    "Stage",
    "StageNameStats",
    "TemplateFit",
    "choose_template",
    "funnel_from_dict",
    "funnel_to_dict",
    "infer_funnel",
    "load_funnel",
    "load_template",
    "normalize_stage_name",
    "rate_templates",
    "save_funnel",
]
