"""The deal exports of amoCRM/Kommo, Bitrix24, HubSpot and Pipedrive: their headers, and telling
which CRM wrote a file from its header row.

The formats themselves are in each CRM's profile (:mod:`voronka.io.crm.profiles`). Headers come
from ``../shared/reference/crm-apis.md`` (§1.5 amoCRM, §2.5 Bitrix24, §3.5 HubSpot,
§4.5 Pipedrive), which cites the public code and language files they were seen in. Several are
marked *verify* there; the English Kommo headers are not documented at all and are our best guess
(Kommo's UI calls deals *leads*). Headers are compared after
:func:`voronka.io.aliases.normalize_header` (case, punctuation, ``ё``, a trailing currency word do
not matter), so ``Бюджет ₽`` and ``Бюджет, руб.`` are both the amoCRM budget.

Each profile maps *export fields* onto headers, best first. The fields are the canonical deal
columns of ``docs/internals.md`` (``deal_id``, ``created_at``, ``closed_at``, ``amount``,
``status``, ``source``, ``manager``, ``lost_reason``) plus what an export adds: ``stage`` and
``pipeline`` (names, as shown in the CRM), ``stage_changed_at`` (the last stage change, when the
export has it), ``won_at`` and ``lost_at`` (Pipedrive's close times).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from voronka.io.aliases import normalize_header
from voronka.io.crm.profiles import CRM_IDS as REGISTRY_IDS
from voronka.io.crm.profiles import EXPORT_PROFILES
from voronka.io.crm.profiles import ExportProfile as ExportProfile

CRM_IDS: tuple[str, ...] = REGISTRY_IDS
"""The CRMs whose file exports voronka recognises (also the ids of their funnel templates)."""

DATE_FIELDS = ("created_at", "closed_at", "stage_changed_at", "won_at", "lost_at")
"""Export fields that hold a date."""

TEXT_FIELDS = ("stage", "pipeline", "source", "manager", "lost_reason")
"""Export fields kept as text."""


PROFILES: tuple[ExportProfile, ...] = EXPORT_PROFILES
"""Every known export format, the most specific signatures first (from the CRM profiles,
:mod:`voronka.io.crm.profiles`)."""


@dataclass(frozen=True)
class ExportFormat:
    """A file's header row recognised as a CRM export.

    Attributes:
        profile: the export format.
        mapping: export field → header as written in the file (fields the file lacks are absent).
    """

    profile: ExportProfile

    mapping: Mapping[str, str]

    @property
    def crm(self) -> str:
        """The CRM id."""
        return self.profile.crm


def _find(headers_by_key: Mapping[str, str], wanted: Sequence[str]) -> str | None:
    for header in wanted:
        found = headers_by_key.get(normalize_header(header))
        if found is not None:
            return found
    return None


def recognize_export(headers: Sequence[str]) -> ExportFormat | None:
    """The CRM export format of a file with these ``headers``, or None when it is not one.

    A format is recognised when every group of its signature has a header in the file (e.g.
    amoCRM: ``Этап сделки``, ``Воронка`` and ``Название сделки`` or ``Бюджет``) and the file has a
    deal id and a stage column.
    """
    all_keyed: dict[str, str] = {}
    for header in headers:
        all_keyed.setdefault(normalize_header(header), header)
    for profile in PROFILES:
        keyed = all_keyed
        if profile.prefix is not None:
            prefix = profile.prefix
            keyed = {k: h for k, h in all_keyed.items() if h.strip().lower().startswith(prefix)}
        if not all(_find(keyed, group) for group in profile.signature):
            continue
        mapping: dict[str, str] = {}
        used: set[str] = set()
        for name, wanted in profile.fields.items():
            found = _find({k: h for k, h in keyed.items() if h not in used}, wanted)
            if found is not None:
                mapping[name] = found
                used.add(found)
        if "deal_id" in mapping and "stage" in mapping:
            return ExportFormat(profile=profile, mapping=mapping)
    return None
