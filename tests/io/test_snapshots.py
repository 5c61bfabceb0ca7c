"""A series of snapshots (exports of one CRM on different dates) becomes a stage history: the
stage changes between consecutive snapshots, dated at the later one and marked approximate.

The expected events are written out by hand from the snapshots below.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from export_fixtures import (
    AMO_HEADERS,
    HUBSPOT_HEADERS,
    HUBSPOT_ROWS,
    PIPEDRIVE_HEADERS,
    amo_row,
    write_csv,
)

import voronka
from voronka.errors import UsageError
from voronka.io.inputs import open_inputs
from voronka.io.snapshots import read_snapshots, snapshot_date

END_OF = {  # the date in a file name is taken as the end of that day
    "03-01": datetime(2025, 3, 1, 23, 59, 59),
    "03-15": datetime(2025, 3, 15, 23, 59, 59),
    "04-01": datetime(2025, 4, 1, 23, 59, 59),
}


def _three_amo_snapshots(folder: Path) -> list[Path]:
    s1 = [
        amo_row(201, "Первичный контакт", "01.02.2025 10:00:00"),
        amo_row(202, "Первичный контакт", "02.02.2025 10:00:00"),
        amo_row(203, "Переговоры", "03.02.2025 10:00:00"),
    ]
    s2 = [
        amo_row(201, "Переговоры", "01.02.2025 10:00:00"),               # moved
        amo_row(202, "Первичный контакт", "02.02.2025 10:00:00"),        # same
        amo_row(203, "Переговоры", "03.02.2025 10:00:00"),               # same
        amo_row(204, "Первичный контакт", "10.03.2025 10:00:00"),        # new
    ]
    s3 = [
        # won inside the interval, and the export dates the close: an exact event.
        amo_row(201, "Успешно реализовано", "01.02.2025 10:00:00", "20.03.2025 12:00:00"),
        # lost without a close date: dated at the snapshot, approximate.
        amo_row(202, "Закрыто и не реализовано", "02.02.2025 10:00:00"),
        amo_row(203, "Принимают решение", "03.02.2025 10:00:00"),      # moved
        amo_row(204, "Первичный контакт", "10.03.2025 10:00:00"),        # same
    ]
    paths = []
    for day, rows in (("03-01", s1), ("03-15", s2), ("04-01", s3)):
        paths.append(write_csv(folder / f"export-2025-{day}.csv", AMO_HEADERS, rows,
                               delimiter=";"))
    return paths


def _rows(series_events: object) -> list[tuple[str, str, datetime, bool]]:
    t = series_events.table  # type: ignore[attr-defined]
    return sorted(zip(t.column("deal_id").to_pylist(), t.column("stage").to_pylist(),
                      t.column("entered_at").to_pylist(), t.column("approximate").to_pylist(),
                      strict=True))


def test_three_snapshots_yield_exactly_the_stage_changes(tmp_path: Path) -> None:
    paths = _three_amo_snapshots(tmp_path)
    series = read_snapshots([paths[2], paths[0], paths[1]])  # any order: sorted by date
    assert [s.taken_at for s in series.snapshots] == list(END_OF.values())
    events = _rows(series.events)
    first_seen = [
        ("201", "Первичный контакт", datetime(2025, 2, 1, 10), False),
        ("202", "Первичный контакт", datetime(2025, 2, 2, 10), False),
        ("203", "Переговоры", datetime(2025, 2, 3, 10), False),
        ("204", "Первичный контакт", datetime(2025, 3, 10, 10), False),
    ]
    changes = [
        ("201", "Переговоры", END_OF["03-15"], True),
        ("201", "Успешно реализовано", datetime(2025, 3, 20, 12), False),
        ("202", "Закрыто и не реализовано", END_OF["04-01"], True),
        ("203", "Принимают решение", END_OF["04-01"], True),
    ]
    assert events == sorted(first_seen + changes)
    assert (series.changes, series.approximate) == (4, 3)
    assert [e for e in events if e[3]] == sorted(c for c in changes if c[3])
    assert series.events.rows_read == series.events.table.num_rows + series.events.rejects.num_rows
    # The deals are the latest snapshot's; the earlier ones are accounted for on their own.
    assert series.deals.file == str(paths[2])
    assert [r.file for r in series.earlier] == [str(paths[0]), str(paths[1])]


def test_series_audit_knows_where_a_deal_was_lost(tmp_path: Path) -> None:
    """Deal 202 was in Первичный контакт before it was lost: a series keeps that, a single
    snapshot cannot. Reach by hand: 201 won (every stage), 203 in Принимают решение, 204 and 202
    in Первичный контакт."""
    paths = _three_amo_snapshots(tmp_path)
    inputs = open_inputs(paths)
    assert (inputs.kind, inputs.crm) == ("snapshots", "amocrm")
    assert {"exports.limit.series", "exports.limit.approximate_dates"} <= set(inputs.limitations)
    assert "exports.limit.lost_stage_unknown" not in inputs.limitations
    assert set(inputs.reads) == {"events", "deals", f"snapshot:{paths[0]}",
                                 f"snapshot:{paths[1]}"}
    result = voronka.audit(paths)
    fr = result.funnel
    assert (fr.deals, fr.won, fr.lost, fr.open) == (4, 1, 1, 2)
    reach = {s.id: s.reached for s in fr.stages}
    assert (reach["first_contact"], reach["negotiation"], reach["deciding"], reach["won"]) == (
        4, 2, 2, 1)
    assert {s.id: s.lost_here for s in fr.stages}["first_contact"] == 1
    assert "exports.limit.approximate_dates" in result.data_quality.notes


def test_pipedrive_status_change_between_snapshots(tmp_path: Path) -> None:
    """A Pipedrive deal won between two snapshots gets a ``Won`` event at its won time (exact,
    inside the interval); one whose stage moved gets its new stage at the later snapshot."""
    def row(deal: str, stage: str, status: str, won: str = "") -> tuple[str, ...]:
        return (deal, f"Deal {deal}", "100", "EUR", stage, "Pipeline", status, "Ann",
                "2025-04-01 09:00:00", won, "", "", "Web forms", "Org")

    a = write_csv(tmp_path / "pipedrive_20250501.csv", PIPEDRIVE_HEADERS,
                  [row("1", "Proposal Made", "Open"), row("2", "Contact Made", "Open")])
    b = write_csv(tmp_path / "pipedrive_20250601.csv", PIPEDRIVE_HEADERS,
                  [row("1", "Proposal Made", "Won", "2025-05-20 10:00:00"),
                   row("2", "Demo Scheduled", "Open")])
    series = read_snapshots([a, b])
    changes = [e for e in _rows(series.events) if e[2] > datetime(2025, 5, 1, 23, 59, 59)]
    assert changes == [
        ("1", "Won", datetime(2025, 5, 20, 10), False),
        ("2", "Demo Scheduled", datetime(2025, 6, 1, 23, 59, 59), True),
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("export-2025-02-01.csv", datetime(2025, 2, 1, 23, 59, 59)),
        ("выгрузка_01.02.2025.xlsx", datetime(2025, 2, 1, 23, 59, 59)),
        ("deals20250201.csv", datetime(2025, 2, 1, 23, 59, 59)),
        ("from-2025-01-01-to-2025-02-01.csv", datetime(2025, 2, 1, 23, 59, 59)),
    ],
)
def test_snapshot_date_from_the_file_name(tmp_path: Path, name: str, expected: datetime) -> None:
    path = tmp_path / name
    path.write_text("x", encoding="utf-8")
    assert snapshot_date(path) == (expected, "name")


def test_snapshot_date_falls_back_to_the_modification_time(tmp_path: Path) -> None:
    path = tmp_path / "amocrm.csv"
    path.write_text("x", encoding="utf-8")
    stamp = datetime(2025, 2, 3, 4, 5, 6).timestamp()
    os.utime(path, (stamp, stamp))
    assert snapshot_date(path) == (datetime(2025, 2, 3, 4, 5, 6), "mtime")


def test_two_snapshots_of_the_same_date_are_refused(tmp_path: Path) -> None:
    rows = [amo_row(1, "Переговоры", "01.02.2025 10:00:00")]
    a = write_csv(tmp_path / "a-2025-02-01.csv", AMO_HEADERS, rows, delimiter=";")
    b = write_csv(tmp_path / "b-2025-02-01.csv", AMO_HEADERS, rows, delimiter=";")
    with pytest.raises(UsageError, match="same date"):
        read_snapshots([a, b])


def test_exports_of_different_crms_are_refused(tmp_path: Path) -> None:
    a = write_csv(tmp_path / "a-2025-02-01.csv", AMO_HEADERS,
                  [amo_row(1, "Переговоры", "01.02.2025 10:00:00")], delimiter=";")
    b = write_csv(tmp_path / "b-2025-03-01.csv", HUBSPOT_HEADERS, HUBSPOT_ROWS)
    with pytest.raises(UsageError, match="different CRMs"):
        open_inputs([a, b])
