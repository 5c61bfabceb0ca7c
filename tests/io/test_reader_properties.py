"""Property: whatever cells are broken, rows read = rows used + rows rejected; a row is rejected
only when its required id is broken, and a broken optional field (date, amount, status) is nulled
and reported as a field issue on a row that is kept."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voronka.io import read_deals

BREAKS = {
    "deal_id": ("", "missing_value"),
    "created_at": ("31.02.2024", "bad_date"),
    "amount": ("сто", "bad_number"),
    "status": ("может быть", "bad_status"),
}
COLUMNS = ["deal_id", "created_at", "amount", "status"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    broken=st.lists(st.sets(st.sampled_from(COLUMNS), max_size=3), min_size=1, max_size=30),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_rows_read_equal_used_plus_rejected(broken: list[set[str]], delimiter: str) -> None:
    lines = [delimiter.join(COLUMNS)]
    expected: dict[int, str] = {}
    fields: dict[tuple[int, str], str] = {}
    for i, cells in enumerate(broken, start=1):
        amount = "1 000,5" if delimiter != "," else "1000.5"
        row = {
            "deal_id": str(i),
            "created_at": "05.03.2024 10:00",
            "amount": amount,
            "status": "в работе",
        }
        for column in cells:
            row[column] = BREAKS[column][0]
        if "deal_id" in cells:
            expected[i] = "missing_value"
        else:
            for column in cells:
                fields[(i, column)] = BREAKS[column][1]
        lines.append(delimiter.join(row[c] for c in COLUMNS))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "deals.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = read_deals(path)
    assert result.rows_read == len(broken)
    assert result.table.num_rows + result.rejects.num_rows == result.rows_read
    got = {r["row"]: r["reason"] for r in result.rejects.to_pylist()}
    assert got == expected
    got_fields = {(r["row"], r["column"]): r["reason"] for r in result.field_issues.to_pylist()}
    assert got_fields == fields
    kept = dict(zip(result.table.column("_row").to_pylist(), result.table.to_pylist(), strict=True))
    for (row, column), _reason in fields.items():
        assert kept[row][column] is None  # the broken field is nulled, the row kept
    assert sorted(result.table.column("_row").to_pylist()) == [
        i for i in range(1, len(broken) + 1) if i not in expected
    ]
