"""Events and deals files read by DuckDB (``voronka.engine.read``) give exactly what the Python
readers give: the same accepted rows, rejects (reason, row, column, value, message), field issues,
row accounting, strict-mode error, and the same audit JSON; files it cannot read so are left to
the Python readers by a stated rule (issue 11, point 2)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from voronka.engine.read import read_fast
from voronka.errors import InputError
from voronka.io.readers import read_deals, read_events
from voronka.io.result import ReadResult

EVENTS_HEADER = "ID сделки;Этап;Дата перехода;Канал"
GOOD_EVENTS = [f"{100 + i};{stage};{day:02d}.03.2024 {hour:02d}:{minute:02d};seo"
               for i, (stage, day, hour, minute) in enumerate(
                   (s, d, h, m) for s in ("Новая", "Встреча", "Счёт") for d in (1, 5, 9, 20)
                   for h, m in ((9, 5), (17, 45)))]
PLANTED_EVENTS = [
    ";Новая;01.03.2024 10:00;seo",              # missing id
    "   ;Новая;01.03.2024 10:00;seo",           # id of spaces: missing
    "7\x01;Новая;01.03.2024 10:00;seo",         # control character: bad_id
    "12 345;Новая;01.03.2024 10:00;seo",        # Excel-grouped id
    "123.0;Встреча;2024-03-02;seo",             # float id, ISO date
    " 55 ;Новая; 02.03.2024 10:00 ;seo",        # spaces around id and date
    "56;;01.03.2024 10:00;seo",                 # missing stage
    "57;\u00a0 ;01.03.2024 10:00;seo",          # stage of (non-breaking) spaces: missing
    "58;Новая;;seo",                            # missing date
    "59;Новая;31.02.2024 10:00;seo",            # no such day: bad_date
    "60;Новая;01.03.2024 24:00;seo",            # no such hour
    "61;Новая;01.03.2024 10:60;seo",            # no such minute
    "62;Новая;1.3.2024 7:05;seo",               # single digits (the forgiving parser)
    "63;Новая;2024-03-04T10:11:12;seo",         # ISO with T
    "64;Новая;2024-03-04 10:11:12.5;seo",       # ISO with a fraction
    "65;Новая;1709251200;seo",                  # Unix seconds
    "66;Новая;45352;seo",                       # Excel serial day
    "67;Новая;вчера;seo",                       # not a date
    "68;Новая;00.00.0000 00:00;seo",            # zeros
    "69;Новая;01.03.0000 10:00;seo",            # year 0
    "70;Новая;01.03.2024, 10:00;seo",           # another template
    "71;Новая;01.03.2024 10:00:59;seo",         # seconds
    "72;Новая;01.03.2024 10:00:60;seo",         # second 60
    ";;;",                                      # a wholly empty row: not data
    "73;Новая;01.03.2024 10:00;",               # empty extra
]
DEALS_HEADER = "ID сделки;Дата создания;Бюджет;Статус;Дата закрытия;Ответственный"
GOOD_DEALS = [f"{100 + i};01.03.2024 09:00;{1000 * (i + 1)};{status};{close};Анна"
              for i, (status, close) in enumerate(
                  [("в работе", ""), ("Успешно реализовано", "20.03.2024 12:00"),
                   ("Закрыто и не реализовано", "21.03.2024 12:00")] * 8)]
PLANTED_DEALS = [
    ";01.03.2024 09:00;100;в работе;;Анна",          # missing id: rejected
    "201;31.02.2024 09:00;100;в работе;;Анна",       # bad optional date: field issue
    "202;01.03.2024 09:00;сто;в работе;;Анна",       # bad number
    "203;01.03.2024 09:00;1 234,56;в работе;;Анна",  # grouped number with a comma
    "204;01.03.2024 09:00;₽ 1 500;в работе;;Анна",   # currency sign
    "205;01.03.2024 09:00;inf;в работе;;Анна",       # not finite
    "206;01.03.2024 09:00;1e20;в работе;;Анна",      # implausible
    "207;01.03.2024 09:00;2e15;в работе;;Анна",      # implausible, plain form
    "208;01.03.2024 09:00;-5;может быть;;Анна",      # bad status
    "209;01.03.2024 09:00;5;   ;;Анна",              # blank status
    "210;01.03.2024 09:00;5;unknown;;",              # a word meaning unknown
    "211;01.03.2024 09:00;5;Won - paid;2024-03-09;Анна",  # status with a detail, ISO close
    "212;01.03.2024 09:00;5;lost;abc;Анна",          # bad closing date
    "213;;;;;",                                      # only an id
    "214;01.03.2024 09:00;1000000000000000;won;;Анна",  # exactly 1e15
    "215;01.03.2024 09:00;12,5;open;;Анна",          # decimal comma
]


def _write(path: Path, header: str, lines: list[str], *, bom: bool = False) -> Path:
    text = "\n".join([header, *lines]) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def assert_same(fast: ReadResult | None, slow: ReadResult) -> None:
    """Every field of the two reads is equal (tables compared column by column)."""
    assert fast is not None, "the file was not read by DuckDB"
    for name in ("file", "rows_read", "column_mapping", "format", "encoding", "delimiter",
                 "zones", "reject_totals", "rows_used", "rows_rejected"):
        assert getattr(fast, name) == getattr(slow, name), name
    assert fast.reject_counts() == slow.reject_counts()
    a, b = fast.table.combine_chunks(), slow.table.combine_chunks()
    assert a.schema == b.schema
    for column in b.column_names:
        assert a.column(column).equals(b.column(column)), column
    assert fast.rejects.to_pylist() == slow.rejects.to_pylist()
    assert fast.field_issues.to_pylist() == slow.field_issues.to_pylist()


def test_planted_events_read_alike(tmp_path: Path) -> None:
    path = _write(tmp_path / "events.csv", EVENTS_HEADER, GOOD_EVENTS + PLANTED_EVENTS)
    slow = read_events(path)
    assert {"missing_value", "bad_id", "bad_date"} <= set(slow.reject_counts())
    assert slow.rows_read == slow.rows_used + slow.rows_rejected
    assert_same(read_fast(path, "events"), slow)


def test_planted_deals_read_alike(tmp_path: Path) -> None:
    path = _write(tmp_path / "deals.csv", DEALS_HEADER, GOOD_DEALS + PLANTED_DEALS, bom=True)
    slow = read_deals(path)
    issues = set(slow.field_issues.column("reason").to_pylist())
    assert {"bad_date", "bad_number", "implausible_number", "bad_status"} <= issues
    assert slow.encoding == "utf-8-sig"
    assert_same(read_fast(path, "deals"), slow)


def test_a_column_arrow_casts_whole_keeps_inf_and_nan_as_not_finite(tmp_path: Path) -> None:
    """Where every amount is a number to Arrow, ``inf`` is one (not finite), as in the readers;
    the same word in a column with ``1 234,56`` is not a number: the verdict depends on the
    column, and the backend reader gets both right."""
    lines = [*GOOD_DEALS, "301;01.03.2024 09:00;inf;open;;", "302;01.03.2024 09:00;nan;open;;",
             "303;01.03.2024 09:00;1e3;open;;", "304;01.03.2024 09:00;+7;open;;"]
    path = _write(tmp_path / "deals.csv", DEALS_HEADER, lines)
    slow = read_deals(path)
    assert slow.field_issues.column("reason").to_pylist() == ["not_finite", "not_finite"]
    assert_same(read_fast(path, "deals"), slow)


def test_parquet_reads_alike(tmp_path: Path) -> None:
    rows = [line.split(";") for line in GOOD_DEALS + PLANTED_DEALS]
    headers = DEALS_HEADER.split(";")
    columns: dict[str, Any] = {h: [r[i] for r in rows] for i, h in enumerate(headers)}
    columns["Бюджет"] = pa.array([int(r[2]) if r[2].lstrip("-").isdigit() else None
                                  for r in rows], pa.int64())
    path = tmp_path / "deals.parquet"
    pq.write_table(pa.table(columns), path)
    assert_same(read_fast(path, "deals"), read_deals(path))
    events = [line.split(";") for line in GOOD_EVENTS + PLANTED_EVENTS]
    headers = EVENTS_HEADER.split(";")
    path = tmp_path / "events.parquet"
    pq.write_table(pa.table({h: [r[i] for r in events] for i, h in enumerate(headers)}), path)
    assert_same(read_fast(path, "events"), read_events(path))


@pytest.mark.parametrize("bad", PLANTED_EVENTS[:3] + PLANTED_EVENTS[8:11])
def test_strict_stops_at_the_same_row(tmp_path: Path, bad: str) -> None:
    path = _write(tmp_path / "events.csv", EVENTS_HEADER, [*GOOD_EVENTS[:5], bad, *GOOD_EVENTS])
    with pytest.raises(InputError) as slow:
        read_events(path, strict=True)
    with pytest.raises(InputError) as fast:
        read_fast(path, "events", strict=True)
    assert (fast.value.file, fast.value.row, fast.value.column) == (
        slow.value.file, slow.value.row, slow.value.column)
    assert fast.value.row == 6 and fast.value.column is not None
    assert str(fast.value) == str(slow.value)


def test_a_bad_optional_field_stops_strict_mode_too(tmp_path: Path) -> None:
    path = _write(tmp_path / "deals.csv", DEALS_HEADER, [GOOD_DEALS[0], PLANTED_DEALS[1]])
    with pytest.raises(InputError) as fast:
        read_fast(path, "deals", strict=True)
    assert (fast.value.row, fast.value.column) == (2, "Дата создания")


def test_missing_columns_and_empty_files_raise_as_the_readers_do(tmp_path: Path) -> None:
    path = _write(tmp_path / "events.csv", "ID сделки;Канал", ["1;seo"])
    with pytest.raises(InputError) as fast:
        read_fast(path, "events")
    with pytest.raises(InputError) as slow:
        read_events(path)
    assert str(fast.value) == str(slow.value)
    path = _write(tmp_path / "empty.csv", EVENTS_HEADER, [";;;"])
    with pytest.raises(InputError, match="no data rows"):
        read_fast(path, "events")


@pytest.mark.parametrize(("name", "content"), [
    ("cp1251", (EVENTS_HEADER + "\n1;Новая;01.03.2024 10:00;seo\n").encode("cp1251")),
    ("ragged", (EVENTS_HEADER + "\n1;Новая;01.03.2024 10:00;seo;extra\n2;Новая\n").encode()),
    ("slash", (EVENTS_HEADER + "\n1;Новая;01.03.2024 10:00;seo\n2;Новая;03/25/2024;seo\n"
               ).encode()),
    ("zone", (EVENTS_HEADER + "\n1;Новая;2024-03-01 10:00:00+03:00;seo\n").encode()),
    ("gzip", gzip.compress((EVENTS_HEADER + "\n1;Новая;01.03.2024 10:00;seo\n").encode())),
    ("cr", (EVENTS_HEADER + "\r1;Новая;01.03.2024 10:00;seo\r").encode()),
])
def test_files_duckdb_cannot_read_alike_go_to_the_readers(tmp_path: Path, name: str,
                                                          content: bytes) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_bytes(content)
    assert read_fast(path, "events") is None
    assert read_events(path).rows_read >= 1  # and the readers read it


def test_a_line_longer_than_duckdbs_limit_goes_to_the_readers(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """A line beyond ``MAX_LINE_BYTES`` (made small here) stops DuckDB: the file is left to the
    readers, which read it whole."""
    from voronka.engine import read as fast_read

    long_text = "x" * 5000
    path = _write(tmp_path / "long.csv", EVENTS_HEADER, [*GOOD_EVENTS, f"300;Новая;01.03.2024 "
                                                         f"10:00;{long_text}"])
    assert_same(read_fast(path, "events"), read_events(path))  # within the limit: DuckDB
    monkeypatch.setattr(fast_read, "MAX_LINE_BYTES", 4096)
    assert read_fast(path, "events") is None
    slow = read_events(path)
    assert slow.rows_read == len(GOOD_EVENTS) + 1
    assert long_text in slow.table.column(slow.table.column_names[3]).to_pylist()


def test_a_line_longer_than_the_samples_limit_is_sampled_by_the_full_reader(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first rows are sampled with small buffers (``SAMPLE_LINE_BYTES``); a longer line
    there stops that reader only: the full one samples them, and the file is read by DuckDB
    with its date column's template."""
    import voronka.engine.read_columns as columns
    from voronka.engine import read as fast_read

    chosen: list[str | None] = []
    real = columns.ColumnRules._template
    monkeypatch.setattr(columns.ColumnRules, "_template",
                        lambda self, col: chosen.append(real(self, col)) or chosen[-1])
    monkeypatch.setattr(fast_read, "SAMPLE_LINE_BYTES", 4096)
    path = _write(tmp_path / "long.csv", EVENTS_HEADER,
                  [f"300;Новая;01.03.2024 10:00;{'x' * 5000}", *GOOD_EVENTS])
    assert_same(read_fast(path, "events"), read_events(path))
    assert chosen == ["DD.MM.YYYY hh:mm"]


def test_spend_and_workbooks_are_left_to_the_readers(tmp_path: Path) -> None:
    path = _write(tmp_path / "spend.csv", "source;month;cost", ["seo;2024-03;100"])
    assert read_fast(path, "spend") is None


def test_a_column_of_many_odd_values_is_still_exact(tmp_path: Path) -> None:
    """Every value a leftover (no template fits the sample): all judged by the readers."""
    lines = [f"{i};Новая;{1 + i % 28}.3.2024 {i % 24}:{i % 60:02d};seo" for i in range(300)]
    path = _write(tmp_path / "events.csv", EVENTS_HEADER, lines)
    assert_same(read_fast(path, "events"), read_events(path))


def test_the_audit_is_the_same_either_way(tmp_path: Path) -> None:
    from voronka import api
    from voronka.demo import generate_demo, write_demo

    files = write_demo(generate_demo(200, seed=3, months=3, end_day=15), tmp_path / "d",
                       fmt="csv")
    with open(files.events, "a", encoding="utf-8") as f:
        f.write('"";"Новая заявка";"01.05.2025 10:00"\n"x1";"Новая заявка";"31.02.2025 10:00"\n')
    results = []
    for backend_reader in (True, False):
        inputs = api.read_inputs(files.events, deals=files.deals, spend=files.spend,
                                         backend_reader=backend_reader)
        assert (inputs.events.format, inputs.deals.format) == ("csv", "csv")  # type: ignore[union-attr]
        log = api.log_of(api.prepare_inputs(inputs, as_of=None), files.funnel)
        result = api.audit_log(log, api.prepare_inputs(inputs, as_of=None).reads,
                                       notes=inputs.limitations)
        results.append(json.dumps(result.to_dict(), sort_keys=True, default=str))
    fast = api.read_inputs(files.events, deals=files.deals, backend_reader=True)
    slow = api.read_inputs(files.events, deals=files.deals, backend_reader=False)
    assert fast.events.rows_rejected == slow.events.rows_rejected >= 2
    assert results[0] == results[1]


def test_rows_handed_over_out_of_order_are_put_back_in_file_order() -> None:
    from voronka.engine.read_checks import _in_file_order

    table = pa.table({"deal_id": ["c", "a", "b"], "_row": pa.array([3, 1, 2], pa.int64())})
    assert _in_file_order(table).column("deal_id").to_pylist() == ["a", "b", "c"]
    ordered = table.sort_by("_row")
    assert _in_file_order(ordered) is ordered


def _numbering(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Record, for each file read, whether its rows were numbered by a batch insert."""
    import voronka.engine.read_checks as checks

    seen: list[bool] = []
    real = checks._is_batch_insert

    def spy(plan: str) -> bool:
        seen.append(real(plan))
        return seen[-1]

    monkeypatch.setattr(checks, "_is_batch_insert", spy)
    return seen


def test_csv_rows_are_numbered_by_an_insert_in_file_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row's number is its insertion order, so the insert must keep the scan's order: the
    checks' IN lists (blank texts, status words) would otherwise become a join, which hands the
    rows of a large file over out of order (a 1M-row export got wrong row numbers in its
    data-quality examples in about half the runs)."""
    seen = _numbering(monkeypatch)
    read_fast(_write(tmp_path / "events.csv", EVENTS_HEADER, GOOD_EVENTS + PLANTED_EVENTS),
              "events")
    read_fast(_write(tmp_path / "deals.csv", DEALS_HEADER, GOOD_DEALS + PLANTED_DEALS), "deals")
    assert seen == [True, True]


def test_an_in_list_makes_duckdb_insert_out_of_order_unless_its_rewrite_is_off(
        tmp_path: Path) -> None:
    """Why the reading connection turns DuckDB's ``in_clause`` rewrite off (DuckDB's own plan)."""
    import duckdb

    from voronka.engine.read_checks import _is_batch_insert

    path = _write(tmp_path / "x.csv", "x", [str(i) for i in range(100)])
    scan = f"read_csv('{path}', header=true, columns={{'x': 'BIGINT'}}, auto_detect=false)"
    plain = f"CREATE TABLE t AS SELECT x FROM {scan}"
    create = (f"CREATE TABLE t AS SELECT x, x IN ({', '.join(map(str, range(40)))}) AS small "
              f"FROM {scan}")
    con = duckdb.connect()
    assert _is_batch_insert(con.sql("EXPLAIN " + plain).fetchall()[0][1])
    assert not _is_batch_insert(con.sql("EXPLAIN " + create).fetchall()[0][1])
    con.sql("SET disabled_optimizers = 'in_clause'")
    assert _is_batch_insert(con.sql("EXPLAIN " + create).fetchall()[0][1])


def test_when_the_insert_would_not_keep_order_the_rows_are_numbered_from_a_scan(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import voronka.engine.read_checks as checks

    monkeypatch.setattr(checks, "_is_batch_insert", lambda plan: False)
    events = _write(tmp_path / "events.csv", EVENTS_HEADER, GOOD_EVENTS + PLANTED_EVENTS)
    deals = _write(tmp_path / "deals.csv", DEALS_HEADER, GOOD_DEALS + PLANTED_DEALS)
    assert_same(read_fast(events, "events"), read_events(events))
    assert_same(read_fast(deals, "deals"), read_deals(deals))
