"""A CSV file's sniffing is remembered for the same unchanged file only: a file rewritten with
another delimiter or header is sniffed again, even at the same size and modification time, and a
file transcoded in memory or not in UTF-8 is not kept."""

from __future__ import annotations

import os
from pathlib import Path

from voronka.io import csvfile
from voronka.io.csvfile import sniff_csv


def _sniff(p: Path) -> csvfile.Sniffed:
    return sniff_csv(p, str(p), p.stat().st_size, gzipped=False)


def test_the_same_file_is_sniffed_once(tmp_path: Path, monkeypatch: object) -> None:
    p = tmp_path / "events.csv"
    p.write_text("deal_id;stage;entered_at\n1;New;2024-01-01\n", encoding="utf-8")
    calls: list[Path] = []
    inner = csvfile._sniff_csv

    def counting(path: Path, file: str, total: int, *, gzipped: bool) -> csvfile.Sniffed:
        calls.append(path)
        return inner(path, file, total, gzipped=gzipped)

    monkeypatch.setattr(csvfile, "_sniff_csv", counting)  # type: ignore[attr-defined]
    first = _sniff(p)
    assert _sniff(p) is first
    assert len(calls) == 1
    assert first.delimiter == ";" and first.headers == ["deal_id", "stage", "entered_at"]
    # Rewritten with another delimiter and header, at the same size and modification time.
    stat = p.stat()
    p.write_text("deal_id,stage,entered_at\n1,New,2024-01-01\n", encoding="utf-8")
    os.utime(p, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert p.stat().st_size == stat.st_size and p.stat().st_mtime_ns == stat.st_mtime_ns
    again = _sniff(p)
    assert len(calls) == 2
    assert again.delimiter == ","


def test_a_file_transcoded_in_memory_is_not_kept(tmp_path: Path) -> None:
    p = tmp_path / "mac.csv"
    p.write_bytes(b"deal_id,stage,entered_at\r1,New,2024-01-01\r2,Won,2024-01-02\r")
    sniffed = _sniff(p)
    assert sniffed.data is not None  # CR-only line ends: the whole file read as LF lines
    assert _sniff(p) is not sniffed
    assert all(s.data is None for s in csvfile._SNIFFED.values())


def test_a_windows_1251_file_is_not_kept(tmp_path: Path) -> None:
    p = tmp_path / "cp1251.csv"
    p.write_bytes("Сделка;Этап;Дата\n1;Новая;2024-01-01\n".encode("cp1251"))
    sniffed = _sniff(p)
    assert sniffed.encoding == "cp1251"  # the rest of the file decides a mixed encoding
    assert _sniff(p) is not sniffed
