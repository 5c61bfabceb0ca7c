"""The same export saved in every supported format reads into the same canonical table."""

from __future__ import annotations

import gzip
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from voronka.io import detect_encoding, read_deals, read_events, read_raw, read_spend

EXPORT = pd.DataFrame(
    {
        "ID сделки": ["101", "101", "102", "103", "103", "103"],
        "Этап сделки": [
            "Первичный контакт",
            "Переговоры",
            "Первичный контакт",
            "Первичный контакт",
            "Переговоры",
            "Успешно реализовано",
        ],
        "Дата перехода": [
            datetime(2024, 3, 1, 9, 30),
            datetime(2024, 3, 5, 14, 0),
            datetime(2024, 3, 2, 10, 0),
            datetime(2024, 3, 3, 11, 15),
            datetime(2024, 3, 9, 16, 45),
            datetime(2024, 3, 20, 12, 0),
        ],
        "Источник": [
            "Яндекс Директ",
            "Яндекс Директ",
            "SEO",
            "ВКонтакте",
            "ВКонтакте",
            "ВКонтакте",
        ],
        "Бюджет": [15000.5, 15000.5, 2000.0, 99000.0, 99000.0, 99000.0],
        "Статус": [
            "в работе",
            "в работе",
            "Закрыто и не реализовано",
            "Успешно реализовано",
            "Успешно реализовано",
            "Успешно реализовано",
        ],
    }
)


def _as_text(frame: pd.DataFrame, date_format: str, decimal: str) -> pd.DataFrame:
    out = frame.copy()
    out["Дата перехода"] = out["Дата перехода"].dt.strftime(date_format)
    out["Бюджет"] = out["Бюджет"].map(lambda v: f"{v:.2f}".replace(".", decimal))
    return out


def write_all_formats(folder: Path) -> dict[str, Path]:
    """The export as a CRM user would save it in each format (written here, not shipped)."""
    paths = {
        "comma-utf8": folder / "events_comma.csv",
        "semicolon-cp1251": folder / "events_semicolon.csv",
        "utf8-bom": folder / "events_bom.csv",
        "tab": folder / "events_tab.tsv",
        "gzip": folder / "events.csv.gz",
        "xlsx": folder / "events.xlsx",
        "parquet": folder / "events.parquet",
    }
    iso = _as_text(EXPORT, "%Y-%m-%d %H:%M:%S", ".")
    russian = _as_text(EXPORT, "%d.%m.%Y %H:%M", ",")
    iso.to_csv(paths["comma-utf8"], index=False, encoding="utf-8")
    russian.to_csv(paths["semicolon-cp1251"], index=False, sep=";", encoding="cp1251")
    russian.to_csv(paths["utf8-bom"], index=False, sep=";", encoding="utf-8-sig")
    iso.to_csv(paths["tab"], index=False, sep="\t")
    with gzip.open(paths["gzip"], "wt", encoding="utf-8") as f:
        iso.to_csv(f, index=False)
    EXPORT.to_excel(paths["xlsx"], index=False, engine="xlsxwriter", sheet_name="Сделки")
    EXPORT.to_parquet(paths["parquet"], index=False)
    return paths


@pytest.fixture
def formats(tmp_path: Path) -> dict[str, Path]:
    return write_all_formats(tmp_path)


def test_every_format_reads_to_the_same_table(formats: dict[str, Path]) -> None:
    tables = {name: read_events(path).table for name, path in formats.items()}
    reference = tables["comma-utf8"]
    assert reference.column_names[:6] == [
        "deal_id",
        "stage",
        "entered_at",
        "source",
        "amount",
        "status",
    ]
    assert reference.column("deal_id").to_pylist() == ["101", "101", "102", "103", "103", "103"]
    assert reference.column("status").to_pylist() == ["open", "open", "lost", "won", "won", "won"]
    assert reference.column("amount").to_pylist()[0] == 15000.5
    for name, table in tables.items():
        assert table.schema.field("entered_at").type == pa.timestamp("us"), name
        assert table.select(reference.column_names).equals(reference), name


def test_detected_encoding_and_delimiter(formats: dict[str, Path]) -> None:
    semicolon = read_raw(formats["semicolon-cp1251"])
    assert (semicolon.encoding, semicolon.delimiter) == ("cp1251", ";")
    assert semicolon.headers[0] == "ID сделки"
    bom = read_raw(formats["utf8-bom"])
    assert bom.encoding == "utf-8-sig" and bom.headers[0] == "ID сделки"
    assert read_raw(formats["tab"]).delimiter == "\t"
    assert read_raw(formats["xlsx"]).format == "xlsx"
    assert read_raw(formats["xlsx"]).sheet == "Сделки"
    parquet = read_raw(formats["parquet"])
    assert parquet.format == "parquet"
    assert all(parquet.table.schema.field(h).type == pa.string() for h in parquet.headers)
    assert parquet.table.column("Бюджет").to_pylist()[2] == "2000"


def test_read_result_reports_format(formats: dict[str, Path]) -> None:
    result = read_events(formats["semicolon-cp1251"])
    assert (result.format, result.encoding, result.delimiter) == ("csv", "cp1251", ";")
    assert result.column_mapping["stage"] == "Этап сделки"
    assert result.rows_read == 6 and result.rows_rejected == 0


def test_xlsx_sheet_with_required_columns_is_chosen(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        pd.DataFrame({"Заметки": ["выгрузка от 01.04.2024"]}).to_excel(
            writer, sheet_name="Инфо", index=False
        )
        EXPORT.to_excel(writer, sheet_name="Данные", index=False)
    result = read_events(path)
    assert result.rows_read == 6
    assert result.table.column("entered_at").to_pylist()[0] == datetime(2024, 3, 1, 9, 30)


def test_excel_serial_numbers_in_xlsx(tmp_path: Path) -> None:
    """Dates stored as plain numbers (Excel serial days) are dates in a date column."""
    frame = EXPORT.copy()
    frame["Дата перехода"] = [45352.0, 45356.5, 45353.0, 45354.0, 45360.0, 45371.0]
    path = tmp_path / "serial.xlsx"
    frame.to_excel(path, index=False)
    dates = read_events(path).table.column("entered_at").to_pylist()
    assert dates[0] == datetime(2024, 3, 1)  # 45352 = 2024-03-01 (1900 date system)
    assert dates[1] == datetime(2024, 3, 5, 12, 0)


def test_deals_and_spend_files(tmp_path: Path) -> None:
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "Deal ID;Created;Deal owner;Amount;Outcome;Close date;Lost reason\n"
        "7;2024-01-05;Ann;1 200,50;Closed Won;10.02.2024;\n"
        "8.0;2024-01-06;Bob;$3,000.00;Closed Lost;2024-02-11;Too expensive\n"
        "9;2024-01-07;Ann;;In progress;;\n",
        encoding="utf-8",
    )
    result = read_deals(deals)
    table = result.table
    assert table.column("deal_id").to_pylist() == ["7", "8", "9"]
    assert table.column("amount").to_pylist() == [1200.5, 3000.0, None]
    assert table.column("status").to_pylist() == ["won", "lost", "open"]
    assert table.column("closed_at").to_pylist()[0] == datetime(2024, 2, 10)
    assert table.column("lost_reason").to_pylist() == [None, "Too expensive", None]
    assert table.schema.field("created_at").type == pa.timestamp("us")

    spend = tmp_path / "spend.csv"
    spend.write_text(
        "Источник,Кампания,Месяц,Расход\n"
        'Яндекс Директ,Весна,2024-03,"10 000,00"\n'
        "VK,,03.2024,5000\n"
        "SEO,Блог,Апрель 2024,1500\n",
        encoding="utf-8",
    )
    result = read_spend(spend)
    table = result.table
    assert table.column_names[:5] == ["source", "campaign", "month", "date", "cost"]
    assert [str(d) for d in table.column("month").to_pylist()] == [
        "2024-03-01",
        "2024-03-01",
        "2024-04-01",
    ]
    assert table.column("date").to_pylist() == [None, None, None]
    assert table.column("cost").to_pylist() == [10000.0, 5000.0, 1500.0]
    assert table.column("campaign").to_pylist() == ["Весна", None, "Блог"]


def test_spend_by_day_gives_month_and_date(tmp_path: Path) -> None:
    spend = tmp_path / "spend.csv"
    spend.write_text("date,source,cost\n2024-03-15,google,10\n2024-04-02,google,20.5\n")
    table = read_spend(spend).table
    assert [str(d) for d in table.column("month").to_pylist()] == ["2024-03-01", "2024-04-01"]
    assert [str(d) for d in table.column("date").to_pylist()] == ["2024-03-15", "2024-04-02"]
    assert table.column("campaign").null_count == 2


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        ("ID;Этап;Дата\n1;Ёж;Да\n", "cp1251", "cp1251"),  # too short for a general detector
        ("Этап", "cp1251", "cp1251"),
        ("ID;Этап\n1;Переговоры\n", "utf-8", "utf-8"),
        ("ID;Этап\n1;Переговоры\n", "utf-8-sig", "utf-8-sig"),
    ],
)
def test_encoding_detection(text: str, encoding: str, expected: str) -> None:
    assert detect_encoding(text.encode(encoding)) == expected


def test_windows_1251_after_an_ascii_first_megabyte(tmp_path: Path) -> None:
    """The encoding sample is plain ASCII; the Russian word comes later in the file."""
    path = tmp_path / "late.csv"
    rows = b"".join(b"%d;A;2024-01-01\n" % i for i in range(120_000))
    path.write_bytes(b"id;stage;date\n" + rows + "x;Переговоры;2024-01-02\n".encode("cp1251"))
    result = read_events(path)
    assert result.encoding == "cp1251"
    assert result.table.column("stage")[-1].as_py() == "Переговоры"


def test_parquet_native_types(tmp_path: Path) -> None:
    path = tmp_path / "typed.parquet"
    table = pa.table(
        {
            "deal_id": pa.array([1, 2], pa.int64()),
            "stage": ["A", "B"],
            "entered_at": pa.array(
                [datetime(2024, 3, 1, 12, 0), datetime(2024, 3, 2, 12, 0)],
                pa.timestamp("ms", "UTC"),
            ),
            "amount": pa.array([10, 20], pa.int32()),
        }
    )
    import pyarrow.parquet as pq

    pq.write_table(table, path)
    read = read_events(path).table
    assert read.column("deal_id").to_pylist() == ["1", "2"]
    assert read.schema.field("entered_at").type == pa.timestamp("us")
    assert read.column("entered_at").to_pylist()[0] == datetime(2024, 3, 1, 12, 0)
    assert read.column("amount").to_pylist() == [10.0, 20.0]
