"""Headers recognised by alias (Russian and English), best alias first."""

from __future__ import annotations

import pytest

from voronka.errors import InputError
from voronka.io import COLUMN_ALIASES, match_columns, normalize_header


def test_normalize_header() -> None:
    assert normalize_header("  Бюджет, руб. ") == "бюджет"
    assert normalize_header("Deal_ID") == "deal id"
    assert normalize_header("Дата  создания") == "дата создания"
    assert normalize_header("Amount ($)") == "amount"
    assert normalize_header("Счёт") == "счет"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["ID", "Этап", "Дата"], {"deal_id": "ID", "stage": "Этап", "entered_at": "Дата"}),
        (
            ["Id сделки", "Этап сделки", "Дата перехода"],
            {"deal_id": "Id сделки", "stage": "Этап сделки", "entered_at": "Дата перехода"},
        ),
        (
            ["Deal ID", "Deal Stage", "Timestamp"],
            {"deal_id": "Deal ID", "stage": "Deal Stage", "entered_at": "Timestamp"},
        ),
        (
            ["opportunity_id", "dealstage", "changed_at"],
            {"deal_id": "opportunity_id", "stage": "dealstage", "entered_at": "changed_at"},
        ),
        (
            ["Record ID", "Stage name", "time"],
            {"deal_id": "Record ID", "stage": "Stage name", "entered_at": "time"},
        ),
        (
            ["lead_id", "STAGE", "Entered at"],
            {"deal_id": "lead_id", "stage": "STAGE", "entered_at": "Entered at"},
        ),
    ],
)
def test_required_event_columns(headers: list[str], expected: dict[str, str]) -> None:
    assert dict(match_columns(headers, "events").mapping) == expected


def test_deal_attributes_ru_and_en() -> None:
    ru = [
        "ID",
        "Дата создания",
        "Источник",
        "Ответственный",
        "Бюджет, руб",
        "Статус",
        "Дата закрытия",
        "Причина отказа",
    ]
    en = [
        "Deal ID",
        "Create Date",
        "Original Source",
        "Deal owner",
        "Deal value",
        "Outcome",
        "Close date",
        "Lost reason",
    ]
    for headers in (ru, en):
        mapping = match_columns(headers, "deals").mapping
        assert list(mapping) == [
            "deal_id",
            "created_at",
            "source",
            "manager",
            "amount",
            "status",
            "closed_at",
            "lost_reason",
        ]
        assert list(mapping.values()) == headers


def test_status_of_deal_is_a_stage_only_without_a_better_column() -> None:
    assert match_columns(["ID", "Статус сделки", "Дата"], "events").mapping["stage"] == (
        "Статус сделки"
    )
    match = match_columns(["ID", "Этап", "Статус сделки", "Дата"], "events")
    assert match.mapping["stage"] == "Этап"
    assert "Статус сделки" in match.extras


def test_dates_are_not_confused() -> None:
    mapping = match_columns(["ID", "Этап", "Дата создания", "Дата"], "events").mapping
    assert mapping["entered_at"] == "Дата" and mapping["created_at"] == "Дата создания"


def test_spend_columns() -> None:
    mapping = match_columns(["Источник", "Кампания", "Месяц", "Расход"], "spend").mapping
    assert mapping == {
        "source": "Источник",
        "cost": "Расход",
        "month": "Месяц",
        "campaign": "Кампания",
    }
    assert (
        match_columns(["utm_source", "utm_campaign", "Date", "Spend"], "spend").mapping["campaign"]
        == "utm_campaign"
    )
    with pytest.raises(InputError, match="date or month"):
        match_columns(["source", "cost"], "spend")


def test_map_wins_and_can_rename_extras() -> None:
    match = match_columns(
        ["ID", "Этап", "Дата", "Отрасль"],
        "events",
        column_map={"entered_at": "дата", "segment": "Отрасль"},
    )
    assert match.mapping["entered_at"] == "Дата"  # --map headers match like aliases do
    assert match.mapping["segment"] == "Отрасль"


def test_every_alias_table_lists_its_own_name() -> None:
    assert all(aliases[0] == name for name, aliases in COLUMN_ALIASES.items())


def test_campaign_is_a_deal_column_too() -> None:
    mapping = match_columns(["ID сделки", "Источник", "Кампания"], "deals").mapping
    assert mapping["campaign"] == "Кампания"
