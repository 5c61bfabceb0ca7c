"""Ibis's SQL compilers load one by one (voronka.engine.ibis_compilers): a DuckDB run imports the
DuckDB compiler only, and every name of Ibis's compilers package still resolves to the class a
plain import gives. Each check runs in a fresh interpreter, where the engine is imported first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from voronka.engine.ibis_compilers import _exported

SRC = Path(__file__).resolve().parents[2] / "src"


def _run(code: str) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_names_are_read_from_the_package_init() -> None:
    names = _exported(
        '"""doc"""\nfrom __future__ import annotations\n__all__ = ["A", "B"]\n'
        "from ibis.backends.sql.compilers.duckdb import DuckDBCompiler as A\n"
        "from ibis.backends.sql.compilers.mysql import MySQLCompiler\n"
    )
    assert names == {"A": "duckdb", "MySQLCompiler": "mysql"}


@pytest.mark.parametrize("source", [
    "from ibis.backends.sql.compilers.duckdb import DuckDBCompiler\nREGISTRY = {}\n",
    "import os\n",
    "from elsewhere.duckdb import DuckDBCompiler\n",
    "from ibis.backends.sql.compilers.duckdb import DuckDBCompiler\nif True:\n    pass\n",
])
def test_an_init_that_does_more_is_left_to_run(source: str) -> None:
    assert _exported(source) == {}


def test_a_duckdb_audit_loads_one_compiler_and_every_name_still_resolves() -> None:
    found = _run(
        "import json, sys, importlib\n"
        "import voronka.engine\n"
        "import ibis\n"
        "con = ibis.duckdb.connect()\n"
        "t = ibis.memtable({'a': [1, 2, 3]})\n"
        "total = int(con.to_pyarrow(t.a.sum().name('s').as_table())['s'][0].as_py())\n"
        "loaded = sorted(m.rpartition('.')[2] for m in sys.modules\n"
        "                if m.startswith('ibis.backends.sql.compilers.'))\n"
        "import ibis.backends.sql.compilers as sc\n"
        "same = all(getattr(sc, n) is getattr(importlib.import_module(\n"
        "    getattr(sc, n).__module__), n) for n in sc.__all__)\n"
        "pg = ibis.to_sql(ibis.table({'a': 'int'}, name='t').filter(ibis._.a > 1),\n"
        "                 dialect='postgres')\n"
        "try:\n"
        "    ibis.to_sql(ibis.table({'a': 'int'}, name='t'), dialect='no_such_dialect')\n"
        "    unknown = 'compiled'\n"
        "except ValueError as exc:\n"
        "    unknown = str(exc)\n"
        "print(json.dumps({'total': total, 'loaded': loaded, 'names': len(sc.__all__),\n"
        "                  'same': same, 'pg': str(pg), 'unknown': unknown}))\n"
    )
    assert found["total"] == 6
    assert found["loaded"] == ["_compat", "base", "duckdb"]  # before the names were asked for
    assert found["names"] >= 15 and found["same"]
    assert '"t0"."a" > 1' in found["pg"]
    assert found["unknown"] == "Unknown dialect no_such_dialect"
