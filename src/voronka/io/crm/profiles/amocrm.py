"""amoCRM / Kommo: credentials, pull, file exports, outcome words and template (:class:`CrmProfile`)."""

from __future__ import annotations

from voronka.funnel import Stage
from voronka.io.crm.profiles.base import CrmProfile, ExportProfile

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
    rank=2,
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
    rank=5,
)

PROFILE = CrmProfile(
    id="amocrm",
    title="amoCRM",
    credential_keys=("subdomain", "token", "domain", "base_url"),
    required_keys=(("token",), ("subdomain", "base_url")),
    connector="voronka.io.crm.amocrm:AmoCrmConnector",
    exports=(_AMO_RU, _AMO_EN),
    extra_aliases={"won": ("Closed-Won", "Closed - Won", "Успешно реализована")},
    extra_lost=("Closed-Lost", "Closed - Lost"),
    # Stages seen in real accounts' default pipeline (crm-apis.md §1.7), inserted after the
    # template stage named first.
    extra_stages=(
        ("first_contact", Stage(id="negotiation", name="Переговоры", aliases=("Negotiation",),
                                names={"en": "Negotiation"})),
        ("deciding", Stage(id="contract_approval", name="Согласование договора",
                           aliases=("Contract approval",), names={"en": "Contract approval"})),
    ),
)
