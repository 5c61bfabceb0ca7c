"""CRM deal exports: recognised by their documented headers, read into deals and events without
``--map``, and audited honestly as snapshots.

Fixtures are written by the tests (``export_fixtures.py``) with the headers of
``../shared/reference/crm-apis.md``; expected values are counted by hand from those rows.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from export_fixtures import (
    AMO_HEADERS,
    AMO_ROWS,
    BITRIX_EN_HEADERS,
    BITRIX_EN_ROWS,
    BITRIX_RU_HEADERS,
    BITRIX_RU_ROWS,
    HUBSPOT_HEADERS,
    HUBSPOT_ROWS,
    PIPEDRIVE_HEADERS,
    PIPEDRIVE_ROWS,
    amo_row,
    write_csv,
    write_xlsx,
)

import voronka
from voronka.errors import InputError
from voronka.io import ReadResult
from voronka.io.exports import history_columns, read_export, recognize_export
from voronka.io.inputs import open_inputs


def _events(read: ReadResult) -> list[tuple[str, str, datetime]]:
    t = read.table
    return list(zip(t.column("deal_id").to_pylist(), t.column("stage").to_pylist(),
                    t.column("entered_at").to_pylist(), strict=True))


def _accounted(read: ReadResult) -> bool:
    return read.rows_read == read.table.num_rows + read.rejects.num_rows


def _status(read: ReadResult) -> dict[str, str]:
    t = read.table
    return dict(zip(t.column("deal_id").to_pylist(), t.column("status").to_pylist(), strict=True))


# -- recognition -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "crm", "language"),
    [
        (AMO_HEADERS, "amocrm", "ru"),
        # The AdvantShop importer's amoCRM headers [S25] with the ID of the third importer [S27].
        (("ID", "Название сделки", "Компания", "Основной контакт", "Бюджет", "Дата создания",
          "Ответственный", "Воронка", "Этап сделки"), "amocrm", "ru"),
        (BITRIX_RU_HEADERS, "bitrix24", "ru"),
        (("ID", "Название", "Стадия сделки", "Сумма", "Ответственный", "Дата создания",
          "Источник"), "bitrix24", "ru"),
        (BITRIX_EN_HEADERS, "bitrix24", "en"),
        (HUBSPOT_HEADERS, "hubspot", "en"),
        (("Deal ID", "Deal Name", "Deal Stage", "Amount", "Create Date"), "hubspot", "en"),
        (PIPEDRIVE_HEADERS, "pipedrive", "en"),
    ],
)
def test_export_headers_are_recognised(headers: tuple[str, ...], crm: str, language: str) -> None:
    fmt = recognize_export(headers)
    assert fmt is not None
    assert (fmt.crm, fmt.profile.language) == (crm, language)
    assert {"deal_id", "stage"} <= set(fmt.mapping)
    assert set(fmt.mapping.values()) <= set(headers)


@pytest.mark.parametrize(
    "headers",
    [
        ("deal_id", "stage", "entered_at"),
        ("ID сделки", "Этап", "Дата перехода", "Источник"),
        ("deal_id", "created_at", "source", "amount", "status"),
        ("source", "month", "cost"),
    ],
)
def test_plain_inputs_are_not_taken_for_exports(headers: tuple[str, ...]) -> None:
    assert recognize_export(headers) is None


def test_bitrix_yes_no_closed_flag_is_not_read_as_a_date() -> None:
    """``Closed`` (Y/N) is an alias of closed_at for plain files; in a Bitrix24 export it is the
    ``Сделка закрыта`` flag and must stay an ordinary column."""
    fmt = recognize_export(BITRIX_EN_HEADERS)
    assert fmt is not None
    assert "Closed" not in fmt.mapping.values()
    assert "Modified" not in fmt.mapping.values()


def test_hubspot_date_entered_headers_name_their_stage() -> None:
    cols = history_columns([
        'Date entered "Appointment Scheduled (Sales Pipeline)"',
        'Date entered "Closed Won" (Sales Pipeline)',
        "hs_v2_date_entered_qualifiedtobuy",
        "hs_date_entered_closedlost",
        "Date entered current stage",
        "Deal Stage",
    ])
    assert [(c.stage, c.pipeline) for c in cols] == [
        ("Appointment Scheduled", "Sales Pipeline"),
        ("Closed Won", "Sales Pipeline"),
        ("qualifiedtobuy", None),
        ("closedlost", None),
    ]


# -- reading each CRM ----------------------------------------------------------------------------


def test_amocrm_csv_snapshot(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "amocrm_export.csv", AMO_HEADERS, AMO_ROWS, delimiter=";",
                     encoding="utf-8-sig")
    export = read_export(path)
    assert export.crm == "amocrm"
    assert not export.has_history
    deals = export.deals.read
    assert _accounted(deals) and deals.rows_read == 7 and deals.rejects.num_rows == 0
    assert _status(deals) == {"101": "open", "102": "open", "103": "open", "104": "open",
                              "105": "won", "106": "lost", "107": "lost"}
    t = deals.table
    assert t.column("amount").to_pylist()[0] == 10000.0
    assert t.column("source").to_pylist()[:2] == ["yandex", "google"]
    assert t.column("lost_reason").to_pylist()[5] == "Дорого"
    # The close date is kept for closed deals only; the stage column stays as written.
    assert t.column("closed_at").to_pylist()[4] == datetime(2025, 3, 20, 15)
    assert t.column("closed_at").to_pylist()[0] is None
    assert "Этап сделки" in t.column_names and "Теги" in t.column_names
    # One event per deal: open deals at creation, closed deals at their close date.
    events = export.events
    assert _accounted(events)
    assert _events(events) == [
        ("101", "Первичный контакт", datetime(2025, 3, 1, 10)),
        ("102", "Первичный контакт", datetime(2025, 3, 2, 10)),
        ("103", "Переговоры", datetime(2025, 3, 3, 10)),
        ("104", "Принимают решение", datetime(2025, 3, 4, 10)),
        ("105", "Успешно реализовано", datetime(2025, 3, 20, 15)),
        ("106", "Закрыто и не реализовано", datetime(2025, 3, 21, 15)),
        ("107", "Закрыто и не реализовано", datetime(2025, 3, 22, 15)),
    ]
    assert events.table.column("_row").to_pylist() == [1, 2, 3, 4, 5, 6, 7]
    assert export.lost_stage_unknown == 2
    assert export.funnel is not None and export.funnel.template == "amocrm"


def test_amocrm_xlsx_reads_like_the_csv(tmp_path: Path) -> None:
    csv_export = read_export(write_csv(tmp_path / "a.csv", AMO_HEADERS, AMO_ROWS, delimiter=";"))
    xlsx_export = read_export(write_xlsx(tmp_path / "a.xlsx", AMO_HEADERS, AMO_ROWS))
    assert xlsx_export.crm == "amocrm"
    assert _events(xlsx_export.events) == _events(csv_export.events)
    assert _status(xlsx_export.deals.read) == _status(csv_export.deals.read)


def test_bitrix24_semicolon_cp1251_csv(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "DEAL_20250201.csv", BITRIX_RU_HEADERS, BITRIX_RU_ROWS,
                     delimiter=";", encoding="cp1251", quoting=csv.QUOTE_ALL)
    export = read_export(path)
    assert export.crm == "bitrix24"
    assert _status(export.deals.read) == {"11": "open", "12": "open", "13": "won", "14": "lost",
                                          "15": "lost"}
    # Closed deals are dated by the close date column, open ones by creation.
    assert [e[2] for e in _events(export.events)] == [
        datetime(2025, 1, 10, 9), datetime(2025, 1, 11, 9), datetime(2025, 1, 25),
        datetime(2025, 1, 20), datetime(2025, 1, 21),
    ]
    # The planned close date of an open deal is not an outcome.
    assert export.deals.read.table.column("closed_at").to_pylist()[:2] == [None, None]
    # The funnel is Bitrix24's, the Latin "C" of "Cчет на предоплату" notwithstanding.
    assert export.funnel is not None and export.funnel.template == "bitrix24"
    assert export.funnel.match("Cчет на предоплату") == "PREPAYMENT_INVOICE"


def test_bitrix24_english_xlsx(tmp_path: Path) -> None:
    export = read_export(write_xlsx(tmp_path / "deals.xlsx", BITRIX_EN_HEADERS, BITRIX_EN_ROWS))
    assert export.crm == "bitrix24"
    assert export.deals.read.rejects.num_rows == 0  # "Closed" (No/Yes) is not parsed as a date
    assert _status(export.deals.read) == {"21": "open", "22": "open", "23": "won", "24": "lost"}
    assert export.funnel is not None and export.funnel.template == "bitrix24"


def test_hubspot_date_entered_columns_give_history(tmp_path: Path) -> None:
    export = read_export(write_csv(tmp_path / "hubspot-crm-exports.csv", HUBSPOT_HEADERS,
                                   HUBSPOT_ROWS))
    assert export.crm == "hubspot" and export.has_history
    assert _events(export.events) == [
        ("901", "Appointment Scheduled", datetime(2025, 2, 1, 10)),
        ("901", "Qualified To Buy", datetime(2025, 2, 5, 12)),
        ("902", "Appointment Scheduled", datetime(2025, 2, 2, 10)),
        ("902", "Qualified To Buy", datetime(2025, 2, 10, 12)),
        ("902", "Closed Won", datetime(2025, 3, 1, 9)),
        ("903", "Appointment Scheduled", datetime(2025, 2, 3, 10)),
        ("903", "Qualified To Buy", datetime(2025, 2, 4, 10)),
        ("903", "Presentation Scheduled", datetime(2025, 2, 20, 10)),
        ("903", "Closed Lost", datetime(2025, 3, 2, 9)),
        # No "Date entered" cell: the snapshot event of its current stage, at creation.
        ("904", "Presentation Scheduled", datetime(2025, 2, 4, 10)),
    ]
    assert _accounted(export.events) and export.events.rows_read == 10
    assert export.lost_stage_unknown == 0  # the history keeps where deal 903 was lost
    assert export.deals.read.table.column("closed_at").to_pylist()[0] is None  # planned date
    assert export.funnel is not None and export.funnel.template == "hubspot"


def test_hubspot_bad_date_entered_cell_is_rejected_with_its_column(tmp_path: Path) -> None:
    rows = [list(r) for r in HUBSPOT_ROWS]
    rows[0][10] = "someday"
    export = read_export(write_csv(tmp_path / "hs.csv", HUBSPOT_HEADERS, rows))
    rejects = export.events.rejects.to_pylist()
    assert [(r["row"], r["column"], r["reason"]) for r in rejects] == [
        (1, 'Date entered "Qualified To Buy (Sales Pipeline)"', "bad_date")
    ]
    # Its current stage lost its dated entry, so it gets the snapshot event (at creation).
    assert ("901", "Qualified To Buy", datetime(2025, 2, 1, 10)) in _events(export.events)
    assert _accounted(export.events) and export.events.rows_read == 11


def test_pipedrive_status_beside_the_stage(tmp_path: Path) -> None:
    export = read_export(write_csv(tmp_path / "deals-export.csv", PIPEDRIVE_HEADERS,
                                   PIPEDRIVE_ROWS))
    assert export.crm == "pipedrive"
    assert _status(export.deals.read) == {"1": "open", "2": "won", "3": "lost", "4": "open"}
    # A closed deal keeps its stage and gets an outcome event at its won/lost time.
    assert _events(export.events) == [
        ("1", "Contact Made", datetime(2025, 4, 1, 9)),
        ("2", "Negotiations Started", datetime(2025, 4, 2, 9)),
        ("2", "Won", datetime(2025, 4, 20, 16)),
        ("3", "Demo Scheduled", datetime(2025, 4, 3, 9)),
        ("3", "Lost", datetime(2025, 4, 15, 11)),
        ("4", "Lead In", datetime(2025, 4, 4, 9)),
    ]
    assert export.lost_stage_unknown == 0  # Pipedrive keeps the stage a deal was lost at
    closed = export.deals.read.table.column("closed_at").to_pylist()
    assert closed == [None, datetime(2025, 4, 20, 16), datetime(2025, 4, 15, 11), None]
    assert export.funnel is not None and export.funnel.template == "pipedrive"


# -- bad rows --------------------------------------------------------------------------------


def test_bad_rows_are_rejected_and_counted(tmp_path: Path) -> None:
    rows = [*AMO_ROWS, amo_row(108, "Переговоры", "08.03.2025 10:00:00", budget="много"),
            amo_row(109, "Переговоры", "вчера"), amo_row(110, "", "09.03.2025 10:00:00")]
    export = read_export(write_csv(tmp_path / "amo.csv", AMO_HEADERS, rows, delimiter=";"))
    deals = export.deals.read
    assert _accounted(deals) and deals.rows_read == 10
    assert [(r["row"], r["column"], r["reason"]) for r in deals.rejects.to_pylist()] == [
        (8, "Бюджет ₽", "bad_number"),
        (9, "Дата создания сделки", "bad_date"),
    ]
    # The deal without a stage is a deal, but its event is rejected.
    events = export.events
    assert _accounted(events) and events.rows_read == 8
    assert [(r["row"], r["column"], r["reason"]) for r in events.rejects.to_pylist()] == [
        (10, "Этап сделки", "missing_value")
    ]


def test_strict_mode_stops_at_the_first_bad_row(tmp_path: Path) -> None:
    rows = [*AMO_ROWS, amo_row(108, "Переговоры", "08.03.2025 10:00:00", budget="много")]
    path = write_csv(tmp_path / "amo.csv", AMO_HEADERS, rows, delimiter=";")
    with pytest.raises(InputError) as err:
        read_export(path, strict=True)
    assert (err.value.row, err.value.column) == (8, "Бюджет ₽")


def test_map_overrides_a_recognised_header(tmp_path: Path) -> None:
    headers = (*AMO_HEADERS, "Канал")
    rows = [(*r, "Партнёр") for r in AMO_ROWS]
    export = read_export(write_csv(tmp_path / "amo.csv", headers, rows, delimiter=";"),
                         column_map={"source": "Канал"})
    assert set(export.deals.read.table.column("source").to_pylist()) == {"Партнёр"}


def test_export_without_any_date_is_a_clear_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", ("ID", "Название сделки", "Этап сделки", "Воронка"),
                     [("1", "a", "Переговоры", "Воронка")])
    with pytest.raises(InputError, match="no date column"):
        read_export(path)


# -- the audit of a snapshot -----------------------------------------------------------------


def test_snapshot_limits_are_listed(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "amo.csv", AMO_HEADERS, AMO_ROWS, delimiter=";")
    inputs = open_inputs(path)
    assert (inputs.kind, inputs.crm) == ("export", "amocrm")
    assert inputs.deals is not None and inputs.deals.file == str(path)
    assert inputs.events.file == f"{path}#events"
    assert {
        "exports.limit.snapshot", "exports.limit.no_time_in_stage",
        "exports.limit.no_skipped_stages", "exports.limit.reach_from_current",
        "exports.limit.lost_stage_unknown", "exports.limit.pull.amocrm",
    } <= set(inputs.limitations)
    hubspot = open_inputs(write_csv(tmp_path / "hs.csv", HUBSPOT_HEADERS, HUBSPOT_ROWS))
    assert "exports.limit.history_columns" in hubspot.limitations
    assert "exports.limit.snapshot" not in hubspot.limitations


def test_snapshot_audit_reaches_from_the_current_stage(tmp_path: Path) -> None:
    """Reach by hand from AMO_ROWS on the amoCRM funnel (Неразобранное, Первичный контакт,
    Переговоры, Принимают решение, Согласование договора, Успешно реализовано): open deals at
    stages 1, 1, 2, 3, the won deal at every stage; the two lost deals (stage unknown) in no
    stage's reach but among the lost."""
    path = write_csv(tmp_path / "amo.csv", AMO_HEADERS, AMO_ROWS, delimiter=";")
    result = voronka.audit(path)
    fr = result.funnel
    assert (fr.deals, fr.won, fr.lost, fr.open) == (7, 1, 2, 4)
    assert [(s.id, s.reached) for s in fr.stages] == [
        ("incoming", 5), ("first_contact", 5), ("negotiation", 3), ("deciding", 2),
        ("contract_approval", 1), ("won", 1),
    ]
    assert "exports.limit.lost_stage_unknown" in result.data_quality.notes
    dq = result.data_quality
    for file, read in dq.rows_read.items():
        assert read == dq.rows_used[file] + dq.rows_rejected[file]


def test_pipedrive_audit_keeps_where_lost_deals_were_lost(tmp_path: Path) -> None:
    """Pipedrive keeps a lost deal's stage: deal 3 (Demo Scheduled, lost) is in the reach of the
    first three stages and lost there; the won deal 2 reached every stage."""
    result = voronka.audit(write_csv(tmp_path / "pd.csv", PIPEDRIVE_HEADERS, PIPEDRIVE_ROWS))
    fr = result.funnel
    assert (fr.deals, fr.won, fr.lost, fr.open) == (4, 1, 1, 2)
    assert [(s.id, s.reached) for s in fr.stages] == [
        ("qualified", 4), ("contact_made", 3), ("demo_scheduled", 2), ("proposal_made", 1),
        ("negotiations_started", 1), ("won", 1),
    ]
    assert {s.id: s.lost_here for s in fr.stages}["demo_scheduled"] == 1


def test_custom_stage_names_of_a_snapshot_ask_for_a_funnel_file(tmp_path: Path) -> None:
    """A snapshot cannot tell the order of stages the CRM's default pipeline does not have."""
    rows = [amo_row(1, "Замер назначен", "01.03.2025 10:00:00"),
            amo_row(2, "КП отправлено", "02.03.2025 10:00:00"),
            amo_row(3, "Успешно реализовано", "03.03.2025 10:00:00", "09.03.2025 10:00:00")]
    path = write_csv(tmp_path / "amo.csv", AMO_HEADERS, rows, delimiter=";")
    inputs = open_inputs(path)
    assert inputs.funnel is None
    assert "exports.limit.stage_order_unknown" in inputs.limitations
    given = open_inputs(path, funnel=tmp_path / "funnel.toml")
    assert "exports.limit.stage_order_unknown" not in given.limitations


def test_several_pipelines_are_noted(tmp_path: Path) -> None:
    rows = [list(r) for r in AMO_ROWS]
    rows[0][11] = "Партнёры"  # the Воронка column
    export = read_export(write_csv(tmp_path / "amo.csv", AMO_HEADERS, rows, delimiter=";"))
    assert export.pipelines == ("Воронка", "Партнёры")
    assert "exports.limit.several_pipelines" in open_inputs(tmp_path / "amo.csv").limitations
