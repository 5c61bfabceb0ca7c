"""Bitrix24: credentials, pull, file exports, outcome words and template (:class:`CrmProfile`)."""

from __future__ import annotations

from voronka.io.crm.profiles.base import CrmProfile, ExportProfile

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
    rank=3,
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
    rank=4,
)

PROFILE = CrmProfile(
    id="bitrix24",
    title="Bitrix24",
    credential_keys=("webhook", "base_url"),
    required_keys=(("webhook", "base_url"),),
    connector="voronka.io.crm.bitrix24:Bitrix24Connector",
    exports=(_BITRIX_RU, _BITRIX_EN),
    extra_aliases={"WON": ("Deal successful", "Сделка успешно завершена")},
    extra_lost=("Deal failed", "Failure reason analysis"),
)
