"""Writing the demo data as a CRM would export it: Russian headers, ``DD.MM.YYYY HH:MM`` dates,
status words, ``;``-separated UTF-8 CSV (or XLSX, or Parquet with the same columns)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from voronka.demo.generate import DemoData
from voronka.funnel import save_funnel

DemoFormat = Literal["csv", "xlsx", "parquet"]

EVENT_HEADERS = {"deal_id": "ID сделки", "stage": "Этап", "entered_at": "Дата перехода"}
"""Events columns → export headers."""

DEAL_HEADERS = {
    "deal_id": "ID сделки",
    "created_at": "Дата создания",
    "source": "Источник",
    "campaign": "Кампания",
    "manager": "Ответственный",
    "amount": "Бюджет",
    "status": "Статус",
    "closed_at": "Дата закрытия",
    "lost_reason": "Причина отказа",
    # Custom fields keep their API names, as the funnel's ``requires`` names them.
    "meeting_at": "meeting_at",
    "meeting_place": "meeting_place",
}
"""Deals columns → export headers."""

SPEND_HEADERS = {"source": "Источник", "campaign": "Кампания", "month": "Месяц", "cost": "Расход"}
"""Spend columns → export headers."""

STATUS_WORDS = {"open": "В работе", "won": "Успешно", "lost": "Провалена"}
"""How the CRM writes each status."""

DATE_FORMAT = "%d.%m.%Y %H:%M"
EXCEL_MAX_ROWS = 1_048_575  # one row is the header


@dataclass(frozen=True)
class DemoFiles:
    """The files :func:`write_demo` wrote.

    Attributes:
        folder: the folder holding them.
        events: the stage history (one row each time a deal entered a stage).
        deals: one row a deal.
        spend: monthly ad spend per source and campaign.
        funnel: the funnel file (TOML).
    """

    folder: Path
    events: Path
    deals: Path
    spend: Path
    funnel: Path


def write_demo(data: DemoData, folder: str | Path, *, fmt: DemoFormat = "csv") -> DemoFiles:
    """Write ``data`` into ``folder`` (created if needed) as ``events``, ``deals`` and ``spend``
    files in format ``fmt`` plus ``funnel.toml``; return their paths."""
    if fmt not in ("csv", "xlsx", "parquet"):
        raise ValueError(f"unknown format {fmt!r}; expected csv, xlsx or parquet")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "events": export_events(data.events),
        "deals": export_deals(data.deals),
        "spend": export_spend(data.spend),
    }
    paths = {}
    for name, table in tables.items():
        path = out / f"{name}.{fmt}"
        _write(table, path, fmt)
        paths[name] = path
    funnel_path = out / "funnel.toml"
    save_funnel(data.funnel, funnel_path)
    return DemoFiles(out, paths["events"], paths["deals"], paths["spend"], funnel_path)


def export_events(events: pd.DataFrame) -> pa.Table:
    """The events as exported: dates as text, the garbage of bad dates in their place."""
    when = _date_text(events["entered_at"])
    text = _strings(events["entered_at_text"])
    when = pc.if_else(pc.is_null(text), when, text)
    return pa.table({
        EVENT_HEADERS["deal_id"]: _strings(events["deal_id"]),
        EVENT_HEADERS["stage"]: _strings(events["stage"]),
        EVENT_HEADERS["entered_at"]: when,
    })


def export_deals(deals: pd.DataFrame) -> pa.Table:
    """The deals as exported: status words, dates as text, whole roubles."""
    columns: dict[str, pa.Array] = {}
    for col, header in DEAL_HEADERS.items():
        series = deals[col]
        if col == "status":
            columns[header] = _strings(series.map(STATUS_WORDS))
        elif col == "amount":
            columns[header] = pa.array(series.round().astype("Int64"), type=pa.int64())
        elif pd.api.types.is_datetime64_any_dtype(series):
            columns[header] = _date_text(series)
        else:
            columns[header] = _strings(series)
    return pa.table(columns)


def export_spend(spend: pd.DataFrame) -> pa.Table:
    """The spend as exported: month as ``YYYY-MM``, whole roubles."""
    month = pa.array(spend["month"].to_numpy(dtype="datetime64[us]"), type=pa.timestamp("us"))
    return pa.table({
        SPEND_HEADERS["source"]: _strings(spend["source"]),
        SPEND_HEADERS["campaign"]: _strings(spend["campaign"]),
        SPEND_HEADERS["month"]: pc.strftime(month, format="%Y-%m"),
        SPEND_HEADERS["cost"]: pa.array(spend["cost"].round().astype("int64"), type=pa.int64()),
    })


def _write(table: pa.Table, path: Path, fmt: DemoFormat) -> None:
    if fmt == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(delimiter=";"))
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        _write_xlsx(table, path)


def _write_xlsx(table: pa.Table, path: Path) -> None:
    import xlsxwriter

    if table.num_rows > EXCEL_MAX_ROWS:
        raise ValueError(
            f"{path.name}: {table.num_rows} rows do not fit in one Excel sheet; use csv or parquet"
        )
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Лист1")
    sheet.write_row(0, 0, table.column_names)
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    for r in range(table.num_rows):
        for c, values in enumerate(columns):
            value = values[r]
            if value is not None:
                sheet.write(r + 1, c, value)
    book.close()


def _date_text(series: pd.Series) -> pa.Array:
    """``DD.MM.YYYY HH:MM`` (null for NaT), assembled from components: Arrow's ``strftime`` is
    several times slower on millions of values."""
    values = pa.array(series.to_numpy(dtype="datetime64[us]"), type=pa.timestamp("us"))

    def two(part: pa.Array) -> pa.Array:
        return pc.utf8_lpad(pc.cast(part, pa.string()), 2, "0")

    year = pc.cast(pc.year(values), pa.string())
    return pc.binary_join_element_wise(
        two(pc.day(values)), ".", two(pc.month(values)), ".", year, " ",
        two(pc.hour(values)), ":", two(pc.minute(values)), "",
    )


def _strings(series: pd.Series) -> pa.Array:
    return pa.array(series, type=pa.string(), from_pandas=True)
