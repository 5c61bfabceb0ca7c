"""Compiled SQL kept on disk between runs (``voronka.engine.sql_cache``): a shape compiled in one
process is read back in the next, not compiled again; the audit is the same with or without it;
turning it off, or a folder that cannot be written, only costs the compile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ibis
import pyarrow as pa
import pytest
from engine_logs import counting_compiles

from voronka.engine import backend, sql_cache

ROOT = Path(__file__).resolve().parents[2]


def _query(con: ibis.BaseBackend, values: list[int], above: int) -> ibis.Table:
    table = backend.load_arrow(con, pa.table({"v": pa.array(values, pa.int64())}), "t")
    kept = table.filter(table.v > above)
    return kept.group_by("v").agg(n=kept.count()).order_by("v")


def _forget_this_process() -> None:
    with backend._SQL_LOCK:
        backend._SQL_CACHE.clear()


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The disk cache on, in ``tmp_path``, and nothing remembered by this process."""
    monkeypatch.setenv("VORONKA_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("VORONKA_NO_CACHE", raising=False)
    _forget_this_process()
    return tmp_path


def test_a_shape_compiled_once_is_read_back_from_disk(cache_dir: Path) -> None:
    tmp_path = cache_dir
    con = ibis.duckdb.connect()
    compiled = counting_compiles(con)
    first = backend.to_frame(con, _query(con, [1, 2, 2, 3], 1))
    assert first.to_dict("list") == {"v": [2, 3], "n": [2, 1]}
    assert len(compiled) == 1
    files = list(tmp_path.glob("sql-duckdb-*/*.sql"))
    assert len(files) == 1 and "GROUP BY" in files[0].read_text()

    _forget_this_process()  # as a new process: only the disk remembers
    again = backend.to_frame(con, _query(con, [5, 5, 7], 1))
    assert again.to_dict("list") == {"v": [5, 7], "n": [2, 1]}
    assert len(compiled) == 1  # read back, not compiled
    other = backend.to_frame(con, _query(con, [5, 5, 7], 5))  # another literal: another shape
    assert other.to_dict("list") == {"v": [7], "n": [1]}
    assert len(compiled) == 2 and len(list(tmp_path.glob("sql-duckdb-*/*.sql"))) == 2


def test_turned_off_nothing_is_written_and_every_process_compiles(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VORONKA_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("VORONKA_NO_CACHE", "1")
    _forget_this_process()
    con = ibis.duckdb.connect()
    compiled = counting_compiles(con)
    for _ in range(2):
        _forget_this_process()
        assert backend.to_frame(con, _query(con, [1, 2], 0))["n"].tolist() == [1, 1]
    assert len(compiled) == 2
    assert not any(tmp_path.iterdir())


def test_a_folder_that_cannot_be_written_only_costs_the_compile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("VORONKA_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.delenv("VORONKA_NO_CACHE", raising=False)
    _forget_this_process()
    con = ibis.duckdb.connect()
    assert backend.to_frame(con, _query(con, [3, 4, 4], 3)).to_dict("list") == {"v": [4], "n": [2]}


def test_a_damaged_or_empty_file_is_compiled_again(cache_dir: Path) -> None:
    tmp_path = cache_dir
    con = ibis.duckdb.connect()
    compiled = counting_compiles(con)
    backend.to_frame(con, _query(con, [1, 2], 0))
    (stored,) = tmp_path.glob("sql-duckdb-*/*.sql")
    stored.write_text("")
    _forget_this_process()
    assert backend.to_frame(con, _query(con, [8, 9, 9], 0)).to_dict("list") == {"v": [8, 9],
                                                                                 "n": [1, 2]}
    assert len(compiled) == 2 and "GROUP BY" in stored.read_text()


def test_old_files_are_pruned_past_the_limit(cache_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    tmp_path = cache_dir
    monkeypatch.setattr(sql_cache, "MAX_FILES", 10)
    con = ibis.duckdb.connect()
    for i in range(11):
        sql_cache.store(con, f"k{i:02d}", f"SELECT {i}")
        os.utime(next(tmp_path.glob(f"*/k{i:02d}.sql")), (1000 + i, 1000 + i))
    left = sorted(p.stem for p in tmp_path.glob("*/*.sql"))
    assert left == [f"k{i:02d}" for i in range(6, 11)]  # the five most recently used


def test_the_audit_is_the_same_cold_warm_and_without_the_cache(tmp_path: Path) -> None:
    """Three processes of the CLI on the bundled demo: no cache, a cold one, a warm one."""
    demo = tmp_path / "demo"
    env = {**os.environ, "VORONKA_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("VORONKA_NO_CACHE", None)
    cli = [sys.executable, "-c", "from voronka.cli import main; main()"]
    subprocess.run([*cli, "demo", str(demo), "--deals", "2000"], env={**env, "VORONKA_NO_CACHE": "1"},
                   check=True, capture_output=True, cwd=ROOT)
    assert not (tmp_path / "cache").exists()
    outputs = []
    for name, extra in (("none", {"VORONKA_NO_CACHE": "1"}), ("cold", {}), ("warm", {})):
        out = tmp_path / f"{name}.json"
        subprocess.run([*cli, "audit", str(demo / "events.csv"), "--deals", str(demo / "deals.csv"),
                        "--spend", str(demo / "spend.csv"), "--funnel", str(demo / "funnel.toml"),
                        "--format", "json", "-o", str(out)],
                       env={**env, **extra}, check=True, capture_output=True, cwd=ROOT)
        outputs.append(json.loads(out.read_text()))
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(list((tmp_path / "cache").glob("sql-duckdb-*/*.sql"))) >= 20
