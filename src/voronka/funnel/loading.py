"""Reading and writing the funnel file (TOML) of the public contract."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from voronka.errors import FunnelError, Msg
from voronka.funnel.matching import normalize_stage_name
from voronka.funnel.model import Funnel, FunnelOrigin, Stage

_STAGE_KEYS = {
    "id", "name", "aliases", "key_task", "entry", "max_days", "requires", "benchmark",
    "names", "key_tasks",
}
_TOP_KEYS = {"name", "language", "key_stage", "stage", "outcomes", "deal_url"}
# ``deal_url`` ("https://….amocrm.ru/leads/detail/{deal_id}") is the CRM link of a deal, read by the
# web dashboard's deal lists; the audit does not use it.
_OUTCOME_KEYS = {"won", "lost"}


def _unknown(keys: Any, allowed: set[str], where: str, file: str | None) -> None:
    """A strict schema: an unknown key is an error, with the nearest known key suggested."""
    unknown = sorted(str(k) for k in set(keys) - allowed)
    if not unknown:
        return
    key = unknown[0]
    near = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    message = (Msg("errors.raised.unknown_key_did_you_mean", where=where, key=repr(key),
                   near=repr(near[0])) if near
               else Msg("errors.raised.unknown_key", where=where, key=repr(key)))
    raise FunnelError(message, file=file,
                      expected=Msg("errors.expected.keys_among", value=str(sorted(allowed))))


def _names(value: Any, table: str, field: str, file: str | None) -> tuple[str, ...]:
    """A list of names (``aliases``, ``requires``, ``lost``) of key ``field`` of ``table``: a lone
    string is a mistake that would otherwise be split into letters."""
    where = Msg("errors.part.key_of", where=table, key=field)
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise FunnelError(
            Msg("errors.raised.is", where=where, text=repr(value)), file=file,
            expected=Msg("errors.expected.a_list_such_as", value=field),
        )
    return tuple(str(v) for v in value)


def load_funnel(path: str | Path) -> Funnel:
    """Load a funnel file; a malformed one raises :class:`FunnelError` naming the file and key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise FunnelError(Msg("errors.msg.funnel_missing"), file=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FunnelError(
            Msg("errors.raised.not_a_valid_toml_file", exc=exc), file=str(path)
        ) from None
    return funnel_from_dict(data, file=str(path))


def funnel_from_dict(
    data: dict[str, Any],
    *,
    file: str | None = None,
    origin: FunnelOrigin = "file",
    template: str | None = None,
) -> Funnel:
    """Build a :class:`Funnel` from the parsed TOML structure."""
    _unknown(data, _TOP_KEYS, Msg("errors.part.funnel_file"), file)
    raw_stages = data.get("stage")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise FunnelError(
            Msg("errors.raised.no_stage_tables"),
            file=file,
            expected=Msg("errors.expected.at_least_one_stage"),
        )
    stages = []
    for i, raw in enumerate(raw_stages, start=1):
        where = Msg("errors.part.stage_number", i=i)
        if not isinstance(raw, dict):
            raise FunnelError(Msg("errors.raised.is_not_a_table", where=where), file=file)
        _unknown(raw, _STAGE_KEYS, where, file)
        max_days = _number(
            raw.get("max_days"), Msg("errors.part.key_of", where=where, key="max_days"), file
        )
        if max_days is not None and max_days <= 0:
            raise FunnelError(
                Msg("errors.raised.max_days_is", where=where, max_days=format(max_days, "g")),
                file=file,
                expected=Msg("errors.expected.a_positive_number_of_days"),
            )
        name = raw.get("name") or raw.get("id")
        if not name:
            raise FunnelError(Msg("errors.raised.has_neither_id_nor_name", where=where), file=file)
        stage_id = str(raw.get("id") or _slug(str(name), i))
        benchmark = Msg("errors.part.key_of", where=where, key="benchmark")
        try:
            stages.append(
                Stage(
                    id=stage_id,
                    name=str(name),
                    aliases=_names(raw.get("aliases"), where, "aliases", file),
                    key_task=raw.get("key_task"),
                    entry=raw.get("entry"),
                    max_days=max_days,
                    requires=_names(raw.get("requires"), where, "requires", file),
                    benchmark=_number(raw.get("benchmark"), benchmark, file),
                    names=dict(raw.get("names", {})),
                    key_tasks=dict(raw.get("key_tasks", {})),
                )
            )
        except (TypeError, ValueError) as exc:
            raise FunnelError(Msg("errors.raised.where_detail", where=where, detail=str(exc)),
                              file=file) from None
    outcomes = data.get("outcomes", {}) or {}
    if not isinstance(outcomes, dict):
        raise FunnelError(
            Msg("errors.raised.outcomes_is_not_a_table"),
            file=file,
            expected=Msg("errors.expected.won_and_lost"),
        )
    _unknown(outcomes, _OUTCOME_KEYS, "[outcomes]", file)
    lost = outcomes.get("lost", ())
    lost = (lost,) if isinstance(lost, str) else _names(lost, "[outcomes]", "lost", file)
    _contradictions(stages, str(outcomes.get("won", stages[-1].id)), lost, file)
    language = str(data.get("language", "ru"))
    if language not in ("ru", "en"):
        raise FunnelError(
            Msg("errors.raised.language_is_not_supported", language=repr(language)),
            file=file,
            expected=Msg("errors.expected.ru_or_en"),
        )
    try:
        return Funnel(
            name=str(data.get("name", "")) or (stages[-1].name if not file else Path(file).stem),
            stages=tuple(stages),
            won_stage=str(outcomes.get("won", stages[-1].id)),
            lost_names=tuple(str(x) for x in lost),
            language=language,
            key_stage=data.get("key_stage"),
            origin=origin,
            template=template,
        )
    except FunnelError as exc:
        exc.file = file
        raise FunnelError(exc.message, file=file, expected=exc.expected) from None


def funnel_to_dict(funnel: Funnel) -> dict[str, Any]:
    """The TOML structure of a funnel (inverse of :func:`funnel_from_dict`)."""
    out: dict[str, Any] = {"name": funnel.name, "language": funnel.language}
    if funnel.key_stage:
        out["key_stage"] = funnel.key_stage
    out["stage"] = []
    for s in funnel.stages:
        raw: dict[str, Any] = {"id": s.id, "name": s.name}
        if s.aliases:
            raw["aliases"] = list(s.aliases)
        for key in ("key_task", "entry", "max_days", "benchmark"):
            value = getattr(s, key)
            if value is not None:
                raw[key] = value
        if s.requires:
            raw["requires"] = list(s.requires)
        if s.names:
            raw["names"] = dict(s.names)
        if s.key_tasks:
            raw["key_tasks"] = dict(s.key_tasks)
        out["stage"].append(raw)
    out["outcomes"] = {"won": funnel.won_stage, "lost": list(funnel.lost_names)}
    return out


def save_funnel(funnel: Funnel, path: str | Path) -> None:
    """Write ``funnel`` as a funnel file."""
    Path(path).write_text(tomli_w.dumps(funnel_to_dict(funnel)), encoding="utf-8")


def _contradictions(
    stages: list[Stage], won: str, lost: tuple[str, ...], file: str | None
) -> None:
    """A won stage that is the first stage (nothing to convert) or is also listed as lost."""
    ids = [s.id for s in stages]
    if len(set(ids)) > 1 and won == ids[0]:
        raise FunnelError(
            Msg("errors.raised.outcomes_won_is_the_first_stage", won=repr(won)),
            file=file, expected=Msg("errors.expected.the_success_stage_after_the_stages"),
        )
    won_stage = next((s for s in stages if s.id == won), None)
    if won_stage is None:
        return
    won_names = {normalize_stage_name(n) for n in (won_stage.id, won_stage.name, *won_stage.aliases)}
    both = [n for n in lost if normalize_stage_name(n) in won_names]
    if both:
        raise FunnelError(
            Msg("errors.raised.is_the_won_stage_and_is", value=repr(both[0])),
            file=file, expected=Msg("errors.expected.a_lost_outcome_that_is_not"),
        )


def _number(value: Any, where: str, file: str | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FunnelError(
            Msg("errors.raised.is", where=where, text=repr(value)),
            file=file,
            expected=Msg("errors.expected.a_number"),
        )
    return float(value)


def _slug(name: str, i: int) -> str:
    import re

    slug = re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()
    return slug or f"stage_{i}"
