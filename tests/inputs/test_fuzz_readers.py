"""Property-based fuzzing of the readers (hypothesis, a bounded number of examples): whatever the
bytes, a reader either reads the file — rows read = used + rejected, every reject with a known
reason — or stops with an InputError (exit status 2 in the CLI); nothing else escapes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voronka.cli import main
from voronka.errors import InputError
from voronka.io import REJECT_REASONS, read_deals, read_events, read_spend

CELLS = st.one_of(
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e308", "1e30", "0", "-1", "1 234,56",
                     "31.02.2025", "2025-01-01 10:00+03:00", "2025-01-01", "01/13/2025",
                     "Lead", "Лид", "won", "в работе", "\x00", "\u202e", ":x:", "[b]", "'", "\"",
                     "\r", "\t", "ÿ", "Р›РёРґ"]),
    st.text(max_size=12),
)
HEADERS = st.lists(
    st.sampled_from(["deal_id", "stage", "entered_at", "amount", "status", "created_at",
                     "closed_at", "source", "cost", "month", "date", "Этап", "ID сделки", "x"]),
    min_size=1, max_size=6,
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp1251", "utf-16"])


def _check(path: Path) -> None:
    for reader in (read_events, read_deals, read_spend):
        try:
            result = reader(path)
        except InputError as exc:
            assert exc.describe()
            continue
        assert result.rows_read == result.rows_used + result.rows_rejected
        assert result.table.num_rows == result.rows_used
        reasons = set(result.rejects.column("reason").to_pylist())
        assert reasons <= set(REJECT_REASONS)
        assert set(result.field_issues.column("reason").to_pylist()) <= set(REJECT_REASONS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=HEADERS, rows=st.lists(st.lists(CELLS, max_size=7), max_size=12),
       delimiter=st.sampled_from([",", ";", "\t", "|"]), encoding=ENCODINGS,
       newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_readers_on_generated_tables(
    headers: list[str], rows: list[list[str]], delimiter: str, encoding: str, newline: str
) -> None:
    lines = [delimiter.join(headers)] + [delimiter.join(r) for r in rows]
    data = (newline.join(lines) + newline).encode(encoding, errors="replace")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.csv"
        path.write_bytes(data)
        _check(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=600))
def test_readers_on_arbitrary_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.csv"
        path.write_bytes(b"deal_id,stage,entered_at\n" + data)
        _check(path)
        path.write_bytes(data)
        _check(path)


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["1", "2", "", "3\x00"]),
                               st.sampled_from(["Lead", "Qualified", "Won", "", "?"]),
                               st.sampled_from(["2025-01-01", "2025-02-01 10:00", "x", "",
                                                "2099-01-01"])),
                     min_size=1, max_size=10))
def test_cli_exits_0_or_2_without_traceback(rows: list[tuple[str, str, str]], capsys) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.csv"
        path.write_text("deal_id,stage,entered_at\n" + "\n".join(",".join(r) for r in rows) + "\n",
                        encoding="utf-8")
        code = main(["audit", str(path), "--format", "json", "-o", "-", "--lang", "en"])
        _, err = capsys.readouterr()
        assert code in (0, 2), err
        assert "Traceback" not in err and "Internal error" not in err, err
