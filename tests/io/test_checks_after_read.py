"""Rows and fields set aside after reading (the prepare step's outlier and after-close checks):
the records name the same rows, headers, reasons and cell texts as the whole column written as
text would, the rest of the table kept as it was, rows read = used + rejected."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voronka.io.checks import null_fields, reject_rows
from voronka.io.result import ReadResult

_T0 = dt.datetime(2024, 5, 1, 9, 30, 15)


def _read(rng: np.random.Generator, n: int) -> ReadResult:
    times = [None if rng.random() < 0.1 else _T0 + dt.timedelta(minutes=int(m))
             for m in rng.integers(0, 10**6, n)]
    table = pa.table({
        "deal_id": [f"d{i % 7}" for i in range(n)],
        "entered_at": pa.chunked_array([pa.array(times[: n // 2], pa.timestamp("us")),
                                        pa.array(times[n // 2:], pa.timestamp("us"))]),
        "_row": pa.array(np.arange(n) * 2 + 3, pa.int64()),
    })
    return ReadResult(file="events.csv", table=table, rows_read=n + 4,
                      rejects=pa.table({"row": pa.array([1], pa.int64()),
                                        "column": ["Дата"], "reason": ["bad_date"],
                                        "value": ["вчера"], "message": ["not a date"]}),
                      column_mapping={"entered_at": "Дата", "deal_id": "ID"})


def test_rejected_rows_name_their_cells_as_the_whole_column_written_as_text() -> None:
    rng = np.random.default_rng(3)
    read = _read(rng, 400)
    bad = rng.random(400) < 0.05
    bad[1] = True
    out = reject_rows(read, bad, "after_close", "entered_at", "after closing")
    text = pc.strftime(read.table.column("entered_at"), format="%Y-%m-%d %H:%M:%S").to_pylist()
    rows = read.table.column("_row").to_pylist()
    moved = [r for r in out.rejects.to_pylist() if r["reason"] == "after_close"]
    assert [(r["row"], r["column"], r["value"], r["message"]) for r in moved] == [
        (rows[i], "Дата", text[i], "after closing") for i in np.flatnonzero(bad)]
    assert out.rejects.column("row").to_pylist() == sorted(out.rejects.column("row").to_pylist())
    assert out.table.equals(read.table.filter(pa.array(~bad)))
    assert out.table.num_rows + out.rejects.num_rows == read.table.num_rows + 1
    assert reject_rows(read, np.zeros(400, dtype=bool), "after_close", "entered_at", "m") is read


def test_nulled_fields_name_their_cells_and_keep_the_rows() -> None:
    rng = np.random.default_rng(4)
    read = _read(rng, 300)
    bad = np.zeros(300, dtype=bool)
    bad[[0, 17, 150, 299]] = True
    out = null_fields(read, bad, "after_data_end", "entered_at", "after the end")
    text = pc.strftime(read.table.column("entered_at"), format="%Y-%m-%d %H:%M:%S").to_pylist()
    assert [(r["row"], r["column"], r["reason"], r["value"]) for r in out.field_issues.to_pylist()
            ] == [(3, "Дата", "after_data_end", text[0]), (37, "Дата", "after_data_end", text[17]),
                  (303, "Дата", "after_data_end", text[150]),
                  (601, "Дата", "after_data_end", text[299])]
    after = out.table.column("entered_at").to_pylist()
    before = read.table.column("entered_at").to_pylist()
    assert after == [None if b else v for b, v in zip(bad, before, strict=True)]
    assert out.table.num_rows == read.table.num_rows


def test_a_few_or_many_rows_left_out_give_the_filtered_table() -> None:
    rng = np.random.default_rng(5)
    read = _read(rng, 500)
    cases = [[0], [499], [0, 1, 2], [10, 11, 250, 499], list(range(500)),
             sorted(rng.choice(500, 200, replace=False).tolist())]
    for positions in cases:
        bad = np.zeros(500, dtype=bool)
        bad[positions] = True
        out = reject_rows(read, bad, "after_data_end", "entered_at", "after the end")
        assert out.table.equals(read.table.filter(pa.array(~bad)))
        assert out.table.schema == read.table.schema
        moved = [r["row"] for r in out.rejects.to_pylist() if r["reason"] == "after_data_end"]
        assert moved == [2 * p + 3 for p in positions]
