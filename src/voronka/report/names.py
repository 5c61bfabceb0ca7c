"""What a reader sees for a stage id or a segment: display names in the report's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from voronka.funnel import LOST, Funnel
from voronka.i18n import has, normalize_language, t

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.audit.common import Segment


@dataclass(frozen=True)
class Labels:
    """Stage display names and segment labels for one report.

    Attributes:
        lang: the report language (``ru`` or ``en``).
        stage_names: stage id → the name to show.
        key_tasks: stage id → the stage's key task in ``lang`` (only when a funnel is given).
    """

    lang: str
    stage_names: dict[str, str] = field(default_factory=dict)
    key_tasks: dict[str, str] = field(default_factory=dict)

    def stage(self, stage_id: str | None) -> str:
        """The display name of ``stage_id`` (the id itself when unknown)."""
        if stage_id is None:
            return ""
        if stage_id == LOST:
            return t("report.flow.lost", self.lang)
        return self.stage_names.get(stage_id, stage_id)

    def step(self, stage_id: str, next_stage: str | None) -> str:
        """``A → B`` for a conversion step, or just ``A``."""
        if next_stage is None:
            return self.stage(stage_id)
        return f"{self.stage(stage_id)} → {self.stage(next_stage)}"

    def dimension(self, by: str) -> str:
        """A breakdown column's label (``source`` → ``источник``); unknown columns as written."""
        key = f"report.dimension.{by}"
        return t(key, self.lang) if has(key) else by

    def segment(self, segment: Segment | None) -> str:
        """``источник: Яндекс`` for a segment, ``вся воронка`` / ``whole funnel`` for None."""
        if segment is None:
            return t("report.segment.all", self.lang)
        value = segment.value if segment.value is not None else t("report.segment.blank", self.lang)
        return f"{self.dimension(segment.by)}: {value}"


def build_labels(result: AuditResult, lang: str | None, funnel: Funnel | None) -> Labels:
    """Labels for ``result`` in ``lang``: names from ``funnel`` when given, else from the result."""
    code = normalize_language(lang or result.language)
    names = {s.id: s.name for s in result.funnel.stages}
    for verdict in result.statuses:
        names.setdefault(verdict.stage, verdict.name)
    # Without the funnel file, the key tasks the audit attached to leaks and stuck deals (in the
    # audit's language) are the best there is.
    tasks: dict[str, str] = {}
    for leak in result.leaks:
        if leak.key_task:
            tasks.setdefault(leak.stage, leak.key_task)
    for deal in result.stuck.deals:
        if deal.key_task:
            tasks.setdefault(deal.stage, deal.key_task)
    if funnel is not None:
        for stage in funnel.stages:
            names[stage.id] = stage.display_name(code)
            task = stage.key_task_in(code)
            if task:
                tasks[stage.id] = task
    return Labels(lang=code, stage_names=names, key_tasks=tasks)
