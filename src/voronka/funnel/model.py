"""The funnel: an ordered list of stages, the last one won; *lost* is an outcome, not a stage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from voronka.errors import FunnelError, Msg
from voronka.funnel.matching import normalize_stage_name

LOST = "__lost__"
"""What :meth:`Funnel.match` returns for a name that means a lost deal."""

FunnelOrigin = Literal["file", "template", "inferred"]


@dataclass(frozen=True)
class Stage:
    """One stage of the funnel.

    Attributes:
        id: stable identifier used in every output (``meeting_scheduled``).
        name: display name in the funnel's language; matched against the data.
        aliases: other spellings or translations that also match this stage.
        key_task: what the manager must do to move a deal on from this stage.
        entry: the entry definition: when a deal counts as having entered the stage.
        max_days: an open deal longer than this in the stage is stuck (None: derive from history).
        requires: deal columns that must be filled once the stage is reached.
        benchmark: expected conversion to the next stage, 0..1 (None: no benchmark).
        names: display names by language (``{"en": "Meeting scheduled"}``), beside ``name``.
        key_tasks: the key task by language, beside ``key_task``.
    """

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    key_task: str | None = None
    entry: str | None = None
    max_days: float | None = None
    requires: tuple[str, ...] = ()
    benchmark: float | None = None
    names: Mapping[str, str] = field(default_factory=dict)
    key_tasks: Mapping[str, str] = field(default_factory=dict)

    def display_name(self, lang: str | None = None) -> str:
        """The name to show in language ``lang`` (falls back to ``name``)."""
        if lang and lang in self.names:
            return self.names[lang]
        return self.name

    def key_task_in(self, lang: str | None = None) -> str | None:
        """The key task in language ``lang`` (falls back to ``key_task``)."""
        if lang and lang in self.key_tasks:
            return self.key_tasks[lang]
        return self.key_task


@dataclass(frozen=True)
class Funnel:
    """An ordered funnel.

    Attributes:
        name: the funnel's title.
        stages: stages in funnel order.
        won_stage: id of the success stage (the last stage unless the file says otherwise).
        lost_names: stage names or ids in the data that mean a lost deal.
        language: ``"ru"`` or ``"en"``: the report language default.
        key_stage: id of the key stage when the funnel file sets it (overrides the audit's choice).
        origin: where the funnel came from: a ``"file"``, a built-in ``"template"``, or
            ``"inferred"`` from the order of events in the data.
        template: the built-in template's id when ``origin == "template"``.
    """

    name: str
    stages: tuple[Stage, ...]
    won_stage: str
    lost_names: tuple[str, ...] = ()
    language: str = "ru"
    key_stage: str | None = None
    origin: FunnelOrigin = "file"
    template: str | None = None

    def __post_init__(self) -> None:
        if not self.stages:
            raise FunnelError(
                Msg("errors.msg.no_stages"), expected=Msg("errors.expected.at_least_one_stage")
            )
        ids = [s.id for s in self.stages]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise FunnelError(
                Msg("errors.raised.duplicate_stage_ids", dupes=str(dupes)),
                expected=Msg("errors.expected.unique_stage_ids"),
            )
        if self.won_stage not in ids:
            raise FunnelError(
                Msg("errors.raised.the_won_stage_is_not_a", won_stage=repr(self.won_stage)),
                expected=Msg("errors.expected.one_of", ids=str(ids)),
            )
        if self.key_stage is not None and self.key_stage not in ids:
            raise FunnelError(
                Msg("errors.raised.key_stage_is_not_a_stage", key_stage=repr(self.key_stage)),
                expected=Msg("errors.expected.one_of", ids=str(ids)),
            )
        for s in self.stages:
            if s.benchmark is not None and not 0 <= s.benchmark <= 1:
                raise FunnelError(
                    Msg(
                        "errors.raised.stage_benchmark_is_not_a_fraction",
                        id=repr(s.id),
                        benchmark=s.benchmark,
                    ),
                    expected=Msg("errors.expected.a_number_between_0_and_1"),
                )
        keys: dict[str, str] = {}
        for s in self.stages:
            for label in (s.id, s.name, *s.aliases, *s.names.values()):
                key = normalize_stage_name(label)
                other = keys.get(key)
                if other is not None and other != s.id:
                    raise FunnelError(
                        Msg(
                            "errors.raised.the_name_matches_both_stage_and",
                            label=repr(label),
                            other=repr(other),
                            id=repr(s.id),
                        ),
                        expected=Msg("errors.expected.each_name_or_alias_used_by"),
                    )
                keys[key] = s.id
        object.__setattr__(self, "_keys", keys)
        object.__setattr__(self, "_lost_keys", {normalize_stage_name(n) for n in self.lost_names})

    # -- lookups -------------------------------------------------------------------------------
    @property
    def stage_ids(self) -> tuple[str, ...]:
        """Stage ids in funnel order."""
        return tuple(s.id for s in self.stages)

    @property
    def won_index(self) -> int:
        """0-based position of the won stage."""
        return self.stage_ids.index(self.won_stage)

    @property
    def line(self) -> tuple[Stage, ...]:
        """The stages up to and including the won stage: the line the conversion runs along."""
        return self.stages[: self.won_index + 1]

    def stage(self, stage_id: str) -> Stage:
        """The stage with id ``stage_id``."""
        for s in self.stages:
            if s.id == stage_id:
                return s
        raise KeyError(stage_id)

    def index(self, stage_id: str) -> int:
        """0-based position of ``stage_id`` in the funnel."""
        return self.stage_ids.index(stage_id)

    def match(self, name: object) -> str | None:
        """The stage id a data stage name means, :data:`LOST` for a lost outcome, else None.

        Matches ids, names, aliases and per-language names, insensitive to case, extra spaces,
        ё/е and Latin look-alike letters (see :func:`normalize_stage_name`).
        """
        if name is None:
            return None
        key = normalize_stage_name(str(name))
        found: str | None = self._keys.get(key)  # type: ignore[attr-defined]
        if found is not None:
            return found
        if key in self._lost_keys:  # type: ignore[attr-defined]
            return LOST
        return None
