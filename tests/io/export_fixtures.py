"""CRM deal exports written by the tests, with the headers documented in
``../shared/reference/crm-apis.md`` (§1.5 amoCRM, §2.5 Bitrix24, §3.5 HubSpot, §4.5 Pipedrive).

The rows are made up here; only the header spellings and the file conventions (``;``-separated
Bitrix24 CSV, Windows-1251, XLSX) follow the reference.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

Row = Sequence[str | float | int | None]


def write_csv(path: Path, headers: Sequence[str], rows: Sequence[Row], *, delimiter: str = ",",
              encoding: str = "utf-8", quoting: int = csv.QUOTE_MINIMAL) -> Path:
    """Write a CSV export."""
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter, quoting=quoting)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


def write_xlsx(path: Path, headers: Sequence[str], rows: Sequence[Row]) -> Path:
    """Write an XLSX export (one sheet)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Export"
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


# amoCRM: the "second real export" of crm-apis.md §1.5 [S26], plus utm_source and a custom field.
AMO_HEADERS = (
    "ID", "Название сделки", "Бюджет ₽", "Ответственный", "Дата создания сделки",
    "Кем создана сделка", "Дата редактирования", "Кем редактирована", "Дата закрытия", "Теги",
    "Этап сделки", "Воронка", "Полное имя контакта", "Причина отказа", "utm_source",
)


def amo_row(deal: int, stage: str, created: str, closed: str = "", *, budget: str = "10 000",
            manager: str = "Анна", reason: str = "", source: str = "yandex") -> Row:
    """One amoCRM deal row (dates as amoCRM writes them: ``DD.MM.YYYY HH:MM:SS``)."""
    return (deal, f"Сделка {deal}", budget, manager, created, manager, created, manager, closed,
            "", stage, "Воронка", f"Клиент {deal}", reason, source)


AMO_ROWS: tuple[Row, ...] = (
    amo_row(101, "Первичный контакт", "01.03.2025 10:00:00"),
    amo_row(102, "Первичный контакт", "02.03.2025 10:00:00", source="google"),
    amo_row(103, "Переговоры", "03.03.2025 10:00:00"),
    amo_row(104, "Принимают решение", "04.03.2025 10:00:00", manager="Борис"),
    amo_row(105, "Успешно реализовано", "05.03.2025 10:00:00", "20.03.2025 15:00:00"),
    amo_row(106, "Закрыто и не реализовано", "06.03.2025 10:00:00", "21.03.2025 15:00:00",
            reason="Дорого"),
    amo_row(107, "Закрыто и не реализовано", "07.03.2025 10:00:00", "22.03.2025 15:00:00",
            reason="Не отвечает", manager="Борис"),
)
"""7 deals: 2 in Первичный контакт, 1 in Переговоры, 1 in Принимают решение, 1 won, 2 lost."""

# Bitrix24: the grid's Russian column titles, crm-apis.md §2.5 [S57][S58].
BITRIX_RU_HEADERS = (
    "ID", "Название сделки", "Стадия сделки", "Направление", "Группа стадий", "Сумма", "Валюта",
    "Ответственный", "Дата создания", "Дата изменения", "Предполагаемая дата закрытия",
    "Сделка закрыта", "Источник",
)
BITRIX_RU_ROWS: tuple[Row, ...] = (
    ("11", "Окна", "Новая", "Общая", "В работе", "15000.00", "RUB", "Иван", "10.01.2025 09:00:00",
     "11.01.2025 09:00:00", "28.02.2025", "Нет", "Звонок"),
    # Bitrix24's own docs spell this stage with a Latin "C" (crm-stage-names SOURCE.md).
    ("12", "Двери", "Cчет на предоплату", "Общая", "В работе", "22000.00", "RUB", "Иван",
     "11.01.2025 09:00:00", "15.01.2025 09:00:00", "28.02.2025", "Нет", "Веб-сайт"),
    ("13", "Крыша", "Сделка успешна", "Общая", "Успешные", "50000.00", "RUB", "Ольга",
     "12.01.2025 09:00:00", "25.01.2025 18:00:00", "25.01.2025", "Да", "Звонок"),
    ("14", "Забор", "Сделка провалена", "Общая", "Провалены", "9000.00", "RUB", "Ольга",
     "13.01.2025 09:00:00", "20.01.2025 12:00:00", "20.01.2025", "Да", "Звонок"),
    ("15", "Баня", "Анализ причины провала", "Общая", "Провалены", "7000.00", "RUB", "Иван",
     "14.01.2025 09:00:00", "21.01.2025 12:00:00", "21.01.2025", "Да", "Веб-сайт"),
)

# Bitrix24: the English column titles of the same table.
BITRIX_EN_HEADERS = (
    "ID", "Deal Name", "Stage", "Pipeline", "Income", "Currency", "Responsible", "Created",
    "Modified", "Assumed close date", "Closed", "Source",
)
BITRIX_EN_ROWS: tuple[Row, ...] = (
    ("21", "Windows", "New", "General", 1500, "USD", "John", "2025-01-10 09:00", "2025-01-11 09:00",
     "2025-03-01", "No", "Call"),
    ("22", "Doors", "In progress", "General", 2200, "USD", "John", "2025-01-11 09:00",
     "2025-01-15 09:00", "2025-03-01", "No", "Website"),
    ("23", "Roof", "Deal successful", "General", 5000, "USD", "Mary", "2025-01-12 09:00",
     "2025-01-25 18:00", "2025-01-25", "Yes", "Call"),
    ("24", "Fence", "Deal failed", "General", 900, "USD", "Mary", "2025-01-13 09:00",
     "2025-01-20 12:00", "2025-01-20", "Yes", "Call"),
)

# HubSpot: crm-apis.md §3.5 [S86][S98] and the stage-calculated "Date entered" columns.
HUBSPOT_STAGES = ("Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled",
                  "Closed Won", "Closed Lost")
HUBSPOT_HEADERS = (
    "Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Close Date", "Create Date",
    "Deal owner", "Original Traffic Source",
    *(f'Date entered "{s} (Sales Pipeline)"' for s in HUBSPOT_STAGES),
)
HUBSPOT_ROWS: tuple[Row, ...] = (
    # open, went through two stages; its Close Date is a planned date.
    ("901", "Acme", "Qualified To Buy", "Sales Pipeline", 1000, "2025-06-30 00:00",
     "2025-02-01 10:00", "Kate", "Organic Search",
     "2025-02-01 10:00", "2025-02-05 12:00", "", "", ""),
    # won, skipped Presentation Scheduled.
    ("902", "Globex", "Closed Won", "Sales Pipeline", 3000, "2025-03-01 09:00",
     "2025-02-02 10:00", "Kate", "Paid Search",
     "2025-02-02 10:00", "2025-02-10 12:00", "", "2025-03-01 09:00", ""),
    # lost after a presentation: the history keeps where it was lost.
    ("903", "Initech", "Closed Lost", "Sales Pipeline", 500, "2025-03-02 09:00",
     "2025-02-03 10:00", "Leo", "Organic Search",
     "2025-02-03 10:00", "2025-02-04 10:00", "2025-02-20 10:00", "", "2025-03-02 09:00"),
    # open, with no Date entered cells (the columns were added later): a snapshot event only.
    ("904", "Umbrella", "Presentation Scheduled", "Sales Pipeline", 700, "",
     "2025-02-04 10:00", "Leo", "Direct Traffic", "", "", "", "", ""),
)

# Pipedrive: crm-apis.md §4.5 [S129][S130][S131].
PIPEDRIVE_HEADERS = (
    "Deal - ID", "Deal - Title", "Deal - Value", "Deal - Currency", "Deal - Stage",
    "Deal - Pipeline", "Deal - Status", "Deal - Owner", "Deal - Deal created", "Deal - Won time",
    "Deal - Lost time", "Deal - Lost reason", "Deal - Source origin", "Deal - Organization",
)
PIPEDRIVE_ROWS: tuple[Row, ...] = (
    ("1", "Deal one", "1000", "EUR", "Contact Made", "Pipeline", "Open", "Ann",
     "2025-04-01 09:00:00", "", "", "", "Web forms", "Org 1"),
    ("2", "Deal two", "2500", "EUR", "Negotiations Started", "Pipeline", "Won", "Ann",
     "2025-04-02 09:00:00", "2025-04-20 16:00:00", "", "", "Manually created", "Org 2"),
    ("3", "Deal three", "800", "EUR", "Demo Scheduled", "Pipeline", "Lost", "Bob",
     "2025-04-03 09:00:00", "", "2025-04-15 11:00:00", "Too expensive", "Web forms", "Org 3"),
    ("4", "Deal four", "1200", "EUR", "Lead In", "Pipeline", "Open", "Bob",
     "2025-04-04 09:00:00", "", "", "", "Import", "Org 4"),
)
