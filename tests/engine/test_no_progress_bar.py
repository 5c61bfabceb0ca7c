"""DuckDB prints a progress bar to standard output for a query of more than two seconds; the
engine's connections turn it off, else it would land in ``voronka audit --format json``'s JSON
written to standard output (seen at 1M deals on a busy machine). Checked in a fresh interpreter
whose standard output is a pipe, as the command's is (under pytest DuckDB leaves the bar off by
itself)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

PROBE = """
from voronka.engine.backend import default_backend
setting = "select current_setting('enable_progress_bar')"
con = default_backend()
print('engine', con.con.sql(setting).fetchall()[0][0], con.con.cursor().sql(setting).fetchall()[0][0])
"""


def test_the_engine_connection_prints_no_progress_bar() -> None:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env,
                          check=True, timeout=120)
    # the connection and the cursors ibis runs on (DuckDB's default here is True)
    assert done.stdout.split("\n")[0] == "engine False False"


def test_a_duckdb_file_given_by_url_prints_no_progress_bar(tmp_path: Path) -> None:
    """`voronka audit --engine duckdb:///file.db` connects by URL (engine/connect.py)."""
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    probe = (
        "from voronka.engine.connect import connect\n"
        f"con = connect('duckdb:///{tmp_path / 'data.db'}')\n"
        "print('url', con.con.sql(\"select current_setting('enable_progress_bar')\")"
        ".fetchall()[0][0])\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                          check=True, timeout=120)
    assert done.stdout.split("\n")[0] == "url False"
