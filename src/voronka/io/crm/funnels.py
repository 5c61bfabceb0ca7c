"""A CRM pipeline as a voronka funnel: open stages in order, the won stage last, lost as outcomes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from voronka.funnel import Funnel, Stage, normalize_stage_name
from voronka.io.crm.model import CrmPipeline, CrmStage

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@dataclass(frozen=True)
class PipelineFunnel:
    """A pipeline's funnel and the stage names its events are written with.

    Attributes:
        pipeline: the CRM pipeline.
        funnel: the funnel built from it.
        names: CRM stage key → the name written in ``events.csv`` (unique within the pipeline).
        file_name: ``funnel.toml`` for the main pipeline, ``funnel-<pipeline>.toml`` for others.
    """

    pipeline: CrmPipeline
    funnel: Funnel
    names: dict[str, str]
    file_name: str


def pipeline_funnels(pipelines: Sequence[CrmPipeline]) -> list[PipelineFunnel]:
    """One funnel per pipeline, the main pipeline first (``funnel.toml``)."""
    ordered = sorted(pipelines, key=lambda p: (not p.is_main, p.order, p.key))
    out: list[PipelineFunnel] = []
    used_files: set[str] = set()
    for i, pipeline in enumerate(ordered):
        if i == 0:
            file_name = "funnel.toml"
        else:
            slug = _file_slug(pipeline.name) or pipeline.key
            file_name = f"funnel-{slug}.toml"
            if file_name in used_files:
                file_name = f"funnel-{slug}-{_file_slug(pipeline.key)}.toml"
        used_files.add(file_name)
        funnel, names = build_funnel(pipeline)
        out.append(PipelineFunnel(pipeline, funnel, names, file_name))
    return out


def build_funnel(pipeline: CrmPipeline) -> tuple[Funnel, dict[str, str]]:
    """The funnel of ``pipeline`` and the unique stage name of each CRM stage key.

    Open stages follow the CRM's order; the first won stage ends the line, further won stages
    become its aliases; lost stages become lost outcomes. A pipeline without a won stage ends
    with its last open stage. Names repeated within a pipeline get ``(2)``, ``(3)``… so that every
    event names exactly one stage.
    """
    stages = sorted(pipeline.stages, key=lambda s: (s.order, s.key))
    names = _unique_names(stages)
    line = [s for s in stages if s.outcome == "open"]
    won = [s for s in stages if s.outcome == "won"]
    lost = [s for s in stages if s.outcome == "lost"]
    if won:
        line.append(won[0])
    elif not line:
        # Only closing stages: nothing to convert along, but a funnel needs a stage.
        line = lost[:1]
        lost = lost[1:]
    ids = _stage_ids(line)
    funnel_stages = []
    for s in line:
        aliases = tuple(names[w.key] for w in won[1:]) if won and s is won[0] else ()
        funnel_stages.append(Stage(id=ids[s.key], name=names[s.key], aliases=aliases))
    language = "ru" if any(_CYRILLIC.search(s.name) for s in stages) else "en"
    funnel = Funnel(
        name=pipeline.name,
        stages=tuple(funnel_stages),
        won_stage=funnel_stages[-1].id,
        lost_names=tuple(names[s.key] for s in lost),
        language=language,
        origin="file",
    )
    return funnel, names


def _unique_names(stages: Sequence[CrmStage]) -> dict[str, str]:
    seen: dict[str, int] = {}
    names: dict[str, str] = {}
    for s in stages:
        base = s.name.strip() or s.key
        key = normalize_stage_name(base)
        seen[key] = seen.get(key, 0) + 1
        name = base if seen[key] == 1 else f"{base} ({seen[key]})"
        names[s.key] = name
    return names


def _stage_ids(stages: Sequence[CrmStage]) -> dict[str, str]:
    ids: dict[str, str] = {}
    used: set[str] = set()
    for i, s in enumerate(stages, start=1):
        if s.outcome == "won":
            base = "won"
        else:
            base = re.sub(r"[^0-9a-z]+", "_", s.key.lower()).strip("_") or f"stage_{i}"
            if not base[0].isalpha():
                base = f"stage_{base}"
        sid = base if base not in used else f"{base}_{i}"
        used.add(sid)
        ids[s.key] = sid
    return ids


def _file_slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.strip().lower()).strip("-_")
