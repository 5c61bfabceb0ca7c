"""The funnel file as a form and back: the structured editor's fields (stage order, names,
aliases, ``max_days``, benchmark, key task, won/lost, key stage) from a funnel file's TOML
structure, and the TOML structure from the submitted fields.

What the form does not edit (``deal_url``, a stage's ``entry``, ``requires``, ``names``,
``key_tasks``) is kept from the file it started from, matched by stage id, so saving from the
form writes the same file the CLI reads with only the edited parts changed.

Fields: ``name``, ``language``, ``won`` (a stage id), ``key_stage`` (a stage id or empty),
``lost`` (one name a line), ``stages`` (how many rows), and per row ``i``: ``stage-i-id``,
``stage-i-name``, ``stage-i-aliases`` (comma-separated), ``stage-i-max_days``,
``stage-i-benchmark`` (percent), ``stage-i-key_task``, ``stage-i-remove`` (any value).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from voronka.errors import InputError, Msg

FILE = "funnel.toml"
MAX_STAGES = 60


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _percent(fraction: object) -> str:
    if fraction is None:
        return ""
    return format(float(fraction) * 100, ".10g")  # type: ignore[arg-type]


def form_rows(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """The form's stage rows of a funnel file's TOML structure (in the file's order)."""
    rows = []
    for i, raw in enumerate(data.get("stage", [])):
        rows.append({
            "id": _text(raw.get("id")) or _slug(_text(raw.get("name")), i + 1),
            "name": _text(raw.get("name") or raw.get("id")),
            "aliases": ", ".join(str(a) for a in raw.get("aliases", ())),
            "max_days": "" if raw.get("max_days") is None else format(raw["max_days"], "g"),
            "benchmark": _percent(raw.get("benchmark")),
            "key_task": _text(raw.get("key_task")),
        })
    return rows


def form_fields(data: Mapping[str, Any]) -> dict[str, str]:
    """Every field of the form for a funnel file's TOML structure (what a browser would post
    back unchanged)."""
    rows = form_rows(data)
    outcomes = data.get("outcomes", {}) or {}
    lost = outcomes.get("lost", ())
    fields = {
        "name": _text(data.get("name")),
        "language": _text(data.get("language", "ru")),
        "won": _stage_id(rows, _text(outcomes.get("won", rows[-1]["id"] if rows else ""))),
        "key_stage": _stage_id(rows, _text(data.get("key_stage"))),
        "lost": "\n".join([lost] if isinstance(lost, str) else [str(x) for x in lost]),
        "stages": str(len(rows)),
    }
    for i, row in enumerate(rows):
        fields.update({f"stage-{i}-{k}": v for k, v in row.items()})
    return fields


def _stage_id(rows: list[dict[str, str]], named: str) -> str:
    """The id of the row ``named`` refers to (by id, name or alias), else ``named`` itself."""
    folded = named.strip().casefold()
    for row in rows:
        aliases = [a.strip().casefold() for a in row["aliases"].split(",")]
        if folded in (row["id"].casefold(), row["name"].casefold(), *aliases):
            return row["id"]
    return named


def _slug(name: str, i: int) -> str:
    slug = re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()
    return slug or f"stage_{i}"


def _number(text: str, where: str) -> float | None:
    text = text.strip().replace(",", ".").replace("%", "").replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(
            Msg("errors.raised.is", where=where, text=repr(text)),
            file=FILE,
            expected=Msg("errors.expected.a_number"),
        ) from None


def submitted_rows(form: Mapping[str, str]) -> list[dict[str, str]]:
    """The stage rows of a submitted form, in the form's order, removed ones left out (a row
    with an empty name and no id is a blank row to add a stage with, skipped when left blank)."""
    try:
        count = min(int(form.get("stages", "0")), MAX_STAGES)
    except ValueError:
        count = 0
    rows = []
    for i in range(count + 1):  # the last one: the blank row for a new stage
        row = {k: _text(form.get(f"stage-{i}-{k}")).strip()
               for k in ("id", "name", "aliases", "max_days", "benchmark", "key_task")}
        if form.get(f"stage-{i}-remove") or not (row["name"] or row["id"]):
            continue
        rows.append(row)
    used: set[str] = set()
    for i, row in enumerate(rows, start=1):
        if not row["id"]:
            base = _slug(row["name"], i)
            row["id"] = next(f"{base}_{n}" if n else base for n in range(len(rows) + 1)
                             if (f"{base}_{n}" if n else base) not in used)
        used.add(row["id"])
    return rows


def move(rows: list[dict[str, str]], action: str) -> list[dict[str, str]]:
    """``rows`` with one moved: ``up:<id>`` or ``down:<id>`` (anything else: unchanged)."""
    direction, _, stage_id = action.partition(":")
    index = next((i for i, r in enumerate(rows) if r["id"] == stage_id), None)
    if index is None or direction not in ("up", "down"):
        return rows
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rows):
        return rows
    out = list(rows)
    out[index], out[other] = out[other], out[index]
    return out


def fields_of_rows(form: Mapping[str, str], rows: list[dict[str, str]]) -> dict[str, str]:
    """The form's fields with ``rows`` as its stages (after a move, to show the form again)."""
    fields = {k: _text(form.get(k)) for k in ("name", "language", "won", "key_stage", "lost")}
    fields["stages"] = str(len(rows))
    for i, row in enumerate(rows):
        fields.update({f"stage-{i}-{k}": v for k, v in row.items()})
    return fields


def form_to_data(form: Mapping[str, str], base: Mapping[str, Any]) -> dict[str, Any]:
    """The funnel file's TOML structure from a submitted form; what the form does not edit is
    kept from ``base`` (the file it started from). :class:`InputError` on a field that is not
    a number where one is needed, or on a funnel without stages."""
    rows = submitted_rows(form)
    if not rows:
        raise InputError(
            Msg("errors.msg.no_stages"),
            file=FILE,
            expected=Msg("errors.expected.at_least_one_stage_2"),
        )
    before = {_text(s.get("id")): s for s in base.get("stage", []) if isinstance(s, Mapping)}
    stages = []
    for n, row in enumerate(rows, start=1):
        where = Msg("errors.part.form_stage", n=n, name=row["name"] or row["id"])
        raw: dict[str, Any] = {
            k: copy.deepcopy(v) for k, v in before.get(row["id"], {}).items()
            if k in ("entry", "requires", "names", "key_tasks")
        }
        raw = {"id": row["id"], "name": row["name"] or row["id"], **raw}
        aliases = [a.strip() for a in row["aliases"].split(",") if a.strip()]
        if aliases:
            raw["aliases"] = aliases
        if row["key_task"]:
            raw["key_task"] = row["key_task"]
        max_days = _number(row["max_days"], Msg("errors.part.form_max_days", where=where))
        if max_days is not None:
            raw["max_days"] = int(max_days) if max_days.is_integer() else max_days
        benchmark = _number(row["benchmark"], Msg("errors.part.form_benchmark", where=where))
        if benchmark is not None:
            if not 0 <= benchmark <= 100:
                raise InputError(
                    Msg("errors.raised.benchmark", where=where, benchmark=format(benchmark, "g")),
                    file=FILE,
                    expected=Msg("errors.expected.a_conversion_between_0_and_100"),
                )
            raw["benchmark"] = float(f"{benchmark / 100:.12g}")
        stages.append(raw)
    ids = [s["id"] for s in stages]
    data: dict[str, Any] = {
        k: copy.deepcopy(v) for k, v in base.items() if k not in ("stage", "outcomes", "key_stage")
    }
    data["name"] = _text(form.get("name")).strip() or _text(base.get("name"))
    data["language"] = _text(form.get("language")).strip() or _text(base.get("language", "ru"))
    key_stage = _text(form.get("key_stage")).strip()
    if key_stage in ids:
        data["key_stage"] = key_stage
    data["stage"] = stages
    won = _text(form.get("won")).strip()
    lost = [x.strip() for x in _text(form.get("lost")).splitlines() if x.strip()]
    data["outcomes"] = {"won": won if won in ids else ids[-1], "lost": lost}
    return data
