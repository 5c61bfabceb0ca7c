"""A very wide file (issue 10, point 16): 10,000 columns, of which the audit uses three. Only the
used columns (and up to 64 others) are read, the rest is never converted to text, and the
data-quality notes say how many columns were left out and which were used.

The memory bound is measured in a fresh interpreter (``ru_maxrss`` after reading minus before):
with the columns projected early the read of this 24 MB file grew the peak by 106 MB on the
development machine, reading every column as text by 193 MB; the bound sits between."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from voronka.i18n import note_text

SRC = Path(__file__).resolve().parents[2] / "src"
COLUMNS = 10_000
PEAK_GROWTH_MB = 150

_PROBE = """
import json, resource, sys
from voronka.api import read_inputs  # the audit's way: DuckDB's reader first, where it fits
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
inputs = read_inputs(sys.argv[1])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
events = inputs.events
print(json.dumps({"growth_mb": (after - before) / 1024, "rows_read": events.rows_read,
                  "rows_used": events.rows_used, "columns": events.table.num_columns,
                  "notes": list(inputs.limitations)}))
"""


def _wide(path: Path) -> Path:
    tail = ",".join(f"v{i % 97}" for i in range(COLUMNS - 3))
    with path.open("w", encoding="utf-8") as fh:
        fh.write(",".join(["deal_id", "stage", "entered_at",
                           *(f"custom field {i}" for i in range(COLUMNS - 3))]) + "\n")
        for d in range(300):
            for k, stage in enumerate(("Lead", "Qualified", "Won")[: 1 + d % 3]):
                fh.write(f"d{d},{stage},2025-0{1 + k}-{1 + d % 27:02d},{tail}\n")
    return path


def test_ten_thousand_columns_read_in_bounded_memory_and_said(tmp_path: Path) -> None:
    path = _wide(tmp_path / "wide.csv")
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(SRC))}
    done = subprocess.run([sys.executable, "-c", _PROBE, str(path)], capture_output=True,
                          text=True, env=env, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["rows_read"] == out["rows_used"] == 600
    assert out["columns"] == 3 + 64 + 1  # canonical, 64 extra, _row
    assert out["growth_mb"] < PEAK_GROWTH_MB, out["growth_mb"]
    (key,) = [n for n in out["notes"] if n.startswith("inputs2.columns_dropped")]
    en, ru = note_text(key, "en"), note_text(key, "ru")
    assert en is not None and ru is not None
    assert "9,933 of its 10,000 columns were not used" in en
    assert "«deal_id», «stage», «entered_at», «custom field 0»" in en and "(+55)" in en
    assert "из 10\u00a0000 столбцов не использовано 9\u00a0933" in ru


def test_a_by_column_beyond_the_cap_is_read(tmp_path: Path) -> None:
    import csv

    from voronka.io.readers import KEEP_COLUMNS, read_events

    path = tmp_path / "w.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["deal_id", "stage", "entered_at", *(f"c{i}" for i in range(200))])
        w.writerow(["1", "Lead", "2025-01-01", *(f"x{i}" for i in range(200))])
        w.writerow(["", "", "", *(["only here"] * 200)])  # data only in left-out columns: counted
    token = KEEP_COLUMNS.set(("c150",))
    try:
        read = read_events(path)
    finally:
        KEEP_COLUMNS.reset(token)
    assert "c150" in read.table.column_names and "c100" not in read.table.column_names
    assert read.columns_total == 203 and len(read.columns_used) == 3 + 64
    assert read.rows_read == 2 and read.rows_used == 1 and read.rows_rejected == 1
