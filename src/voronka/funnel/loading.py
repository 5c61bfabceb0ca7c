"""Reading and writing the funnel file (TOML) of the public contract."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from voronka.errors import FunnelError
from voronka.funnel.model import Funnel, FunnelOrigin, Stage

_STAGE_KEYS = {
    "id", "name", "aliases", "key_task", "entry", "max_days", "requires", "benchmark",
    "names", "key_tasks",
}


def load_funnel(path: str | Path) -> Funnel:
    """Load a funnel file; a malformed one raises :class:`FunnelError` naming the file and key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise FunnelError("the funnel file does not exist", file=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FunnelError(f"not a valid TOML file: {exc}", file=str(path)) from None
    return funnel_from_dict(data, file=str(path))


def funnel_from_dict(
    data: dict[str, Any],
    *,
    file: str | None = None,
    origin: FunnelOrigin = "file",
    template: str | None = None,
) -> Funnel:
    """Build a :class:`Funnel` from the parsed TOML structure."""
    raw_stages = data.get("stage")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise FunnelError("no [[stage]] tables", file=file, expected="at least one [[stage]]")
    stages = []
    for i, raw in enumerate(raw_stages, start=1):
        where = f"[[stage]] number {i}"
        if not isinstance(raw, dict):
            raise FunnelError(f"{where} is not a table", file=file)
        unknown = set(raw) - _STAGE_KEYS
        if unknown:
            raise FunnelError(
                f"{where}: unknown keys {sorted(unknown)}", file=file,
                expected=f"keys among {sorted(_STAGE_KEYS)}",
            )
        name = raw.get("name") or raw.get("id")
        if not name:
            raise FunnelError(f"{where} has neither id nor name", file=file)
        stage_id = str(raw.get("id") or _slug(str(name), i))
        try:
            stages.append(
                Stage(
                    id=stage_id,
                    name=str(name),
                    aliases=tuple(str(a) for a in raw.get("aliases", ())),
                    key_task=raw.get("key_task"),
                    entry=raw.get("entry"),
                    max_days=_number(raw.get("max_days"), f"{where}.max_days", file),
                    requires=tuple(str(r) for r in raw.get("requires", ())),
                    benchmark=_number(raw.get("benchmark"), f"{where}.benchmark", file),
                    names=dict(raw.get("names", {})),
                    key_tasks=dict(raw.get("key_tasks", {})),
                )
            )
        except (TypeError, ValueError) as exc:
            raise FunnelError(f"{where}: {exc}", file=file) from None
    outcomes = data.get("outcomes", {}) or {}
    lost = outcomes.get("lost", ())
    if isinstance(lost, str):
        lost = (lost,)
    language = str(data.get("language", "ru"))
    if language not in ("ru", "en"):
        raise FunnelError(f"language {language!r} is not supported", file=file, expected="ru or en")
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


def _number(value: Any, where: str, file: str | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FunnelError(f"{where} is {value!r}", file=file, expected="a number")
    return float(value)


def _slug(name: str, i: int) -> str:
    import re

    slug = re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()
    return slug or f"stage_{i}"
