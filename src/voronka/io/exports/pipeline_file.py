"""The real order of a CRM pipeline's stages, from the CRM's own stage list saved as a file.

A file export (amoCRM, Bitrix24, HubSpot, Pipedrive) has each deal's current stage but not the
order of the pipeline's stages; a pipeline with stages of its own then gets an order inferred from
the data. The order is exact when the user gives the CRM's stage list, as its API returns it
(``../shared/reference/crm-apis.md``; saved with ``curl`` or from the browser), as ``--funnel``
or as a ``*.json`` file in the audited folder:

* amoCRM / Kommo: ``GET /api/v4/leads/pipelines`` (or one pipeline, or its ``/statuses``):
  ``sort`` orders the stages, status 142 is won and 143 lost (§1.2);
* Bitrix24: ``crm.status.list`` (every ``DEAL_STAGE`` / ``DEAL_STAGE_<n>`` entry; ``SORT``,
  ``SEMANTICS`` S = won, F = lost) or ``crm.dealcategory.stage.list`` (§2.2);
* HubSpot: ``GET /crm/v3/pipelines/deals`` (or one pipeline, or its ``/stages``): ``displayOrder``;
  a closed stage of probability 1 is won, other closed stages lost (§3.2);
* Pipedrive: ``GET /api/v2/stages`` (or v1 ``/stages``): ``order_nr`` within each ``pipeline_id``;
  won and lost are statuses, the events' ``Won`` / ``Lost`` (§4.2);
* the ``pipelines.json`` that ``voronka pull`` keeps.

The file may hold several pipelines: the one whose stage names cover most of the data's events is
used (the main pipeline when nothing tells them apart). The funnel is built as ``voronka pull``
builds it (:func:`voronka.io.crm.funnels.build_funnel`), so its ``origin`` is ``file``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from voronka.errors import FunnelError, Msg
from voronka.funnel import LOST, Funnel, load_funnel
from voronka.io.crm.funnels import build_funnel
from voronka.io.crm.model import CrmPipeline, CrmStage, Outcome

PIPELINE_FILE_SUFFIXES = (".json",)
"""File endings read as a CRM's stage list rather than a funnel file (TOML)."""


def read_funnel_file(
    path: str | os.PathLike[str],
    name_counts: Mapping[str, int] | Callable[[], Mapping[str, int]] | None = None,
) -> Funnel:
    """The funnel of a funnel file (TOML) or of a CRM's stage list (``*.json``, see the module
    docstring); ``name_counts`` (``{stage name in the data: events}``, or a function giving it)
    chooses among several pipelines.

    Raises:
        FunnelError: the file is not a funnel file nor a stage list voronka knows.
    """
    if Path(path).suffix.lower() not in PIPELINE_FILE_SUFFIXES:
        return load_funnel(Path(path))
    pipelines = read_pipeline_file(path)
    counts = name_counts() if callable(name_counts) else (name_counts or {})
    return choose_pipeline(pipelines, counts)


def read_pipeline_file(path: str | os.PathLike[str]) -> tuple[CrmPipeline, ...]:
    """The pipelines of a CRM's stage list saved as JSON (see the module docstring).

    Raises:
        FunnelError: missing, not JSON, or not a stage list of a CRM voronka knows.
    """
    file = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise FunnelError(Msg("errors.msg.funnel_missing"), file=file) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise FunnelError(Msg("errors.raised.not_a_json_file", name=type(exc).__name__), file=file,
                          expected=Msg("errors.expected.the_crm_s_stage_list_as")) from None
    pipelines = pipelines_of(data)
    if not pipelines or not any(p.stages for p in pipelines):
        raise FunnelError(
            Msg("errors.raised.the_json_file_is_not_a"),
            file=file,
            expected=Msg("errors.expected.the_crm_s_stage_list_as"),
        )
    return pipelines


def is_pipeline_file(path: Path) -> bool:
    """Whether ``path`` is a CRM stage list voronka can read (a folder's ``*.json``)."""
    if path.suffix.lower() not in PIPELINE_FILE_SUFFIXES or path.stat().st_size > 5_000_000:
        return False
    try:
        return bool(read_pipeline_file(path))
    except FunnelError:
        return False


def pipelines_of(data: Any) -> tuple[CrmPipeline, ...]:
    """The pipelines of a parsed API response (empty when its shape is not known)."""
    for reader in (_amocrm, _bitrix24, _hubspot, _pipedrive, _voronka):
        try:
            found = reader(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        if found:
            return found
    return ()


def choose_pipeline(pipelines: Sequence[CrmPipeline], name_counts: Mapping[str, int]) -> Funnel:
    """The funnel of the pipeline whose stages name most of the data's events (ties: the main
    pipeline, then the CRM's order)."""
    ranked = sorted(pipelines, key=lambda p: (not p.is_main, p.order, p.key))
    best: tuple[int, int] = (-1, 0)
    chosen: Funnel | None = None
    for pipeline in ranked:
        funnel, _ = build_funnel(pipeline)
        covered = sum(n for name, n in name_counts.items() if funnel.match(name) is not None)
        line = sum(n for name, n in name_counts.items()
                   if funnel.match(name) not in (None, LOST))
        score = (covered, line) if name_counts else (0, 0)
        if chosen is None or score > best:
            best, chosen = score, funnel
    assert chosen is not None
    return chosen


# --- one reader per CRM ----------------------------------------------------------------------


def _amocrm(data: Any) -> tuple[CrmPipeline, ...]:
    from voronka.io.crm.amocrm import _pipeline as _amocrm_pipeline  # (httpx only when used)

    embedded = data.get("_embedded", {}) if isinstance(data, Mapping) else {}
    if "pipelines" in embedded:
        return tuple(_amocrm_pipeline(p) for p in embedded["pipelines"])
    statuses = embedded.get("statuses")
    if not statuses or not all("sort" in s for s in statuses):
        return ()
    if "id" in data:  # one pipeline with its statuses
        return (_amocrm_pipeline(data),)
    pipeline_id = statuses[0].get("pipeline_id", 0)
    return (_amocrm_pipeline({"id": pipeline_id, "name": str(pipeline_id), "is_main": True,
                              "_embedded": {"statuses": statuses}}),)


def _bitrix_outcome(row: Mapping[str, Any]) -> Outcome:
    semantics = row.get("SEMANTICS")
    if semantics is None and isinstance(row.get("EXTRA"), Mapping):
        semantics = {"success": "S", "failure": "F", "apology": "F"}.get(
            str(row["EXTRA"].get("SEMANTICS")))
    if semantics in ("S", "F"):
        return "won" if semantics == "S" else "lost"
    status = str(row["STATUS_ID"]).rsplit(":", 1)[-1].upper()
    if "SEMANTICS" not in row and status == "WON":
        return "won"
    if "SEMANTICS" not in row and status in ("LOSE", "APOLOGY"):
        return "lost"
    return "open"


def _bitrix24(data: Any) -> tuple[CrmPipeline, ...]:
    rows = data["result"] if isinstance(data, Mapping) else None
    if not isinstance(rows, list) or not rows or not all("STATUS_ID" in r for r in rows):
        return ()
    groups: dict[str, list[CrmStage]] = {}
    for r in rows:
        entity = str(r.get("ENTITY_ID") or "DEAL_STAGE")
        if not entity.startswith("DEAL_STAGE"):
            continue  # lead statuses, sources … of an unfiltered crm.status.list
        category = entity.removeprefix("DEAL_STAGE").lstrip("_") or str(r.get("CATEGORY_ID") or 0)
        groups.setdefault(category, []).append(CrmStage(
            str(r["STATUS_ID"]), str(r.get("NAME") or r["STATUS_ID"]), _bitrix_outcome(r),
            float(r.get("SORT") or 0)))
    return tuple(
        CrmPipeline(key=key, name=key, is_main=key == "0", order=float(key) if key.isdigit()
                    else 0.0, stages=tuple(stages))
        for key, stages in groups.items())


def _hubspot(data: Any) -> tuple[CrmPipeline, ...]:
    from voronka.io.crm.hubspot import _pipeline as _hubspot_pipeline  # (httpx only when used)

    if not isinstance(data, Mapping):
        return ()
    if "results" in data:
        items = data["results"]
        if items and all("stages" in p for p in items):
            return tuple(_hubspot_pipeline(p) for p in items)
        if items and all("displayOrder" in s and "metadata" in s for s in items):
            return (_hubspot_pipeline({"id": "default", "label": "default", "stages": items}),)
        return ()
    if "stages" in data and "label" in data:
        return (_hubspot_pipeline(data),)
    return ()


def _pipedrive(data: Any) -> tuple[CrmPipeline, ...]:
    items = data.get("data") if isinstance(data, Mapping) else None
    if not isinstance(items, list) or not items or not all(
            "order_nr" in s and "pipeline_id" in s for s in items):
        return ()
    groups: dict[str, list[CrmStage]] = {}
    names: dict[str, str] = {}
    for s in items:
        if s.get("is_deleted") or s.get("active_flag") is False:
            continue
        if s.get("pipeline_name"):  # v1 names the pipeline on each stage
            names[str(s["pipeline_id"])] = str(s["pipeline_name"])
        groups.setdefault(str(s["pipeline_id"]), []).append(CrmStage(
            str(s["id"]), str(s.get("name") or s["id"]), "open", float(s.get("order_nr") or 0)))
    first = min(groups, key=lambda k: (int(k) if k.isdigit() else 0, k), default=None)
    out = []
    for key, line in groups.items():
        top = max((s.order for s in line), default=0.0)
        # Won and Lost are statuses in Pipedrive: its events name them "Won" and "Lost".
        closing = (CrmStage(f"{key}:won", "Won", "won", top + 1),
                   CrmStage(f"{key}:lost", "Lost", "lost", top + 2))
        out.append(CrmPipeline(key=key, name=names.get(key, key), is_main=key == first,
                               order=float(key) if key.isdigit() else 0.0,
                               stages=(*line, *closing)))
    return tuple(out)


def _voronka(data: Any) -> tuple[CrmPipeline, ...]:
    items = data.get("pipelines") if isinstance(data, Mapping) else data
    if not isinstance(items, list) or not items:
        return ()
    return tuple(CrmPipeline.from_json(p) for p in items)
