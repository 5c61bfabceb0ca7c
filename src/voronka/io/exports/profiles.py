"""The deal exports of amoCRM/Kommo, Bitrix24, HubSpot and Pipedrive: their headers, and telling
which CRM wrote a file from its header row.

Headers come from ``../shared/reference/crm-apis.md`` (§1.5 amoCRM, §2.5 Bitrix24, §3.5 HubSpot,
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

CRM_IDS = ("amocrm", "bitrix24", "hubspot", "pipedrive")
"""The CRMs whose file exports voronka recognises (also the ids of their funnel templates)."""

DATE_FIELDS = ("created_at", "closed_at", "stage_changed_at", "won_at", "lost_at")
"""Export fields that hold a date."""

TEXT_FIELDS = ("stage", "pipeline", "source", "manager", "lost_reason")
"""Export fields kept as text."""


@dataclass(frozen=True)
class ExportProfile:
    """The export format of one CRM in one language.

    Attributes:
        crm: the CRM id (one of :data:`CRM_IDS`).
        language: the language of the headers, ``"ru"`` or ``"en"``.
        fields: export field → accepted headers, best first (see the module docstring).
        signature: groups of headers that identify the format: each group must have one header
            present in the file.
        status_from_stage: whether won and lost are stages in this CRM (amoCRM, Bitrix24, HubSpot:
            the stage of a closed deal is its outcome, the stage it was lost at is gone) rather
            than a status beside the stage (Pipedrive: the deal keeps its last stage).
        prefix: a prefix the headers carry as written (Pipedrive's ``Deal - ``); only headers
            with it are looked at, because normalising would make ``Deal - Stage`` HubSpot's
            ``Deal Stage``.
    """

    crm: str
    language: str
    fields: Mapping[str, tuple[str, ...]]
    signature: tuple[tuple[str, ...], ...]
    status_from_stage: bool = True
    prefix: str | None = None


_AMO_RU = ExportProfile(
    crm="amocrm",
    language="ru",
    fields={
        "deal_id": ("ID", "id сделки"),
        "stage": ("Этап сделки", "Этап"),
        "pipeline": ("Воронка",),
        "amount": ("Бюджет", "Бюджет сделки"),
        "manager": ("Ответственный", "Ответственный за сделку"),
        "created_at": ("Дата создания сделки", "Дата создания"),
        "closed_at": ("Дата закрытия", "Дата закрытия сделки"),
        "lost_reason": ("Причина отказа",),
        "source": ("Источник", "Источник трафика", "Источник сделки", "utm_source", "UTM Source"),
    },
    signature=(("Этап сделки",), ("Воронка",), ("Название сделки", "Бюджет")),
)
# Kommo (the international amoCRM): headers not documented anywhere we could check (verify).
_AMO_EN = ExportProfile(
    crm="amocrm",
    language="en",
    fields={
        "deal_id": ("ID", "Lead ID"),
        "stage": ("Lead stage", "Stage", "Status"),
        "pipeline": ("Pipeline",),
        "amount": ("Sale", "Budget", "Lead budget"),
        "manager": ("Responsible user", "Lead responsible", "Responsible"),
        "created_at": ("Date created", "Created date", "Lead created"),
        "closed_at": ("Closing date", "Date closed", "Closed date"),
        "lost_reason": ("Loss reason", "Lost reason"),
        "source": ("Source", "utm_source", "UTM Source"),
    },
    signature=(("Lead title", "Lead name"), ("Lead stage", "Stage", "Status"), ("Pipeline",)),
)
_BITRIX_RU = ExportProfile(
    crm="bitrix24",
    language="ru",
    fields={
        "deal_id": ("ID",),
        "stage": ("Стадия сделки", "Стадия"),
        "pipeline": ("Направление", "Воронка"),
        "amount": ("Сумма", "Сумма сделки"),
        "manager": ("Ответственный",),
        "created_at": ("Дата создания",),
        # CLOSEDATE: planned while the deal is open (dropped then), the close date once closed.
        "closed_at": ("Предполагаемая дата закрытия", "Дата закрытия"),
        "stage_changed_at": ("Дата перемещения", "Дата изменения стадии"),
        "source": ("Источник", "UTM Source", "utm_source"),
    },
    signature=(
        ("Стадия сделки",),
        ("Направление", "Сумма", "Группа стадий", "Сделка закрыта", "Название", "Название сделки"),
    ),
)
_BITRIX_EN = ExportProfile(
    crm="bitrix24",
    language="en",
    fields={
        "deal_id": ("ID",),
        "stage": ("Stage",),
        "pipeline": ("Pipeline",),
        "amount": ("Income",),
        "manager": ("Responsible",),
        "created_at": ("Created",),
        "closed_at": ("Assumed close date", "Close date"),
        "stage_changed_at": ("Moved on", "Stage changed"),
        "source": ("Source", "UTM Source", "utm_source"),
    },
    signature=(("Stage",), ("Income", "Assumed close date", "Deal status")),
)
_HUBSPOT = ExportProfile(
    crm="hubspot",
    language="en",
    fields={
        "deal_id": ("Record ID", "Deal ID"),
        "stage": ("Deal Stage",),
        "pipeline": ("Pipeline",),
        "amount": ("Amount",),
        "manager": ("Deal owner", "Deal Owner", "HubSpot Owner"),
        "created_at": ("Create Date", "Created Date"),
        "closed_at": ("Close Date",),
        "stage_changed_at": ("Date entered current stage",),
        "lost_reason": ("Closed Lost Reason",),
        "source": ("Original Traffic Source", "Original Source Type", "Original Source"),
    },
    signature=(("Record ID", "Deal ID"), ("Deal Stage",)),
)
_PIPEDRIVE = ExportProfile(
    crm="pipedrive",
    language="en",
    fields={
        "deal_id": ("Deal - ID",),
        "stage": ("Deal - Stage",),
        "pipeline": ("Deal - Pipeline",),
        "status": ("Deal - Status",),
        "amount": ("Deal - Value",),
        "manager": ("Deal - Owner",),
        "created_at": ("Deal - Deal created", "Deal - Add time", "Deal - Created"),
        "stage_changed_at": ("Deal - Last stage change", "Deal - Stage change time"),
        "won_at": ("Deal - Won time",),
        "lost_at": ("Deal - Lost time",),
        "closed_at": ("Deal - Deal closed on", "Deal - Close time"),
        "lost_reason": ("Deal - Lost reason",),
        "source": (
            "Deal - Source origin", "Deal - Source", "Deal - Source channel", "Deal - Channel",
            "Deal - deal_utm_source", "Deal - UTM source",
        ),
    },
    signature=(("Deal - ID",), ("Deal - Stage", "Deal - Status")),
    status_from_stage=False,
    prefix="deal - ",
)

PROFILES: tuple[ExportProfile, ...] = (
    _PIPEDRIVE, _HUBSPOT, _AMO_RU, _BITRIX_RU, _BITRIX_EN, _AMO_EN,
)
"""Every known export format, the most specific signatures first."""


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
