"""Data where it lives: the audit over tables on a DuckDB file, a Parquet folder on local PySpark
and a real PostgreSQL server equals the audit over the same tables on in-memory DuckDB (the whole
JSON, apart from the names of the sources). On Spark, no row-level result reaches the driver.

The tables are the canonical tables of a small generated export (``voronka.io`` read the demo's
CSV files), with their ``_row`` column, plus a few planted bad rows the backend must reject.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import voronka
from voronka.api import read_inputs
from voronka.cli import main
from voronka.demo import generate_demo, write_demo
from voronka.engine.backend import quiet_driver
from voronka.engine.connect import connect, redact
from voronka.engine.sources import open_sources
from voronka.errors import InputError, UsageError

DEALS = 400
DENSE_DEALS = 4000
PLAN = 4.0


def _export(folder: Path, deals: int, months: int) -> dict[str, Any]:
    """The canonical tables (events with three planted bad rows) and the funnel file."""
    files = write_demo(generate_demo(deals, seed=3, months=months, end_day=15), folder)
    inputs = read_inputs(files.events, deals=files.deals, spend=files.spend)
    assert inputs.deals is not None and inputs.spend is not None
    events = inputs.events.table
    last = events.column("_row").to_pylist()[-1]
    stage = events.column("stage")[0].as_py()
    bad = pa.table({
        "deal_id": [None, "24000001", "24000002"],
        "stage": [stage, "  ", stage],
        "entered_at": [dt.datetime(2024, 5, 1), dt.datetime(2024, 5, 2), None],
        "_row": [last + 1, last + 2, last + 3],
    }).cast(pa.schema([events.schema.field(n) for n in ("deal_id", "stage", "entered_at", "_row")]))
    events = pa.concat_tables([events, bad], promote_options="default")
    return {"events": events, "deals": inputs.deals.table, "spend": inputs.spend.table,
            "funnel": files.funnel}


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small export: 400 deals over 19 months (the plan month open)."""
    return _export(tmp_path_factory.mktemp("export"), DEALS, 19)


@pytest.fixture(scope="module")
def dense_export(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Many deals over few months, so that a per-deal result stands out from the aggregates
    (whose size follows stages × periods × segment values, not deals)."""
    return _export(tmp_path_factory.mktemp("dense"), DENSE_DEALS, 7)


def _audit(export: dict[str, Any], engine: Any, plan: float | None = PLAN,
           **names: str) -> dict[str, Any]:
    sources = {"events": "events", "deals": "deals", "spend": "spend", **names}
    result = voronka.audit(sources["events"], deals=sources["deals"], spend=sources["spend"],
                           funnel=export["funnel"], engine=engine, plan=plan)
    return _unnamed(result.to_dict(), {v: k for k, v in sources.items()})


def _unnamed(doc: dict[str, Any], kind_of: dict[str, str]) -> dict[str, Any]:
    """``doc`` with the sources' names (table names, paths: they name the engine) replaced by
    their kind (events, deals, spend)."""
    quality = doc["data_quality"]
    for key in ("rows_read", "rows_used", "rows_rejected"):
        quality[key] = {kind_of.get(k, k): v for k, v in quality[key].items()}
    for issue in quality["issues"]:
        issue["file"] = kind_of.get(issue["file"], issue["file"])
    return doc


def _differences(got: Any, want: Any, path: str = "") -> list[str]:
    """Where ``got`` and ``want`` differ (JSON paths), for a readable failure."""
    if isinstance(got, dict) and isinstance(want, dict):
        keys = sorted(set(got) | set(want))
        return [d for k in keys for d in _differences(got.get(k), want.get(k), f"{path}.{k}")]
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        return [d for i, (g, w) in enumerate(zip(got, want, strict=True))
                for d in _differences(g, w, f"{path}[{i}]")]
    if isinstance(got, float) and isinstance(want, float):
        # Backends sum and interpolate in their own order: equal up to rounding (1e-9).
        return [] if math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12) else [
            f"{path}: {got!r} != {want!r}"]
    return [] if got == want else [f"{path}: {got!r} != {want!r}"]


def _on(con: Any, export: dict[str, Any]) -> Any:
    with quiet_driver():
        for name in ("events", "deals", "spend"):
            con.create_table(name, export[name], overwrite=True)
    return con


@pytest.fixture(scope="module")
def reference(export: dict[str, Any]) -> dict[str, Any]:
    """The audit over the tables on in-memory DuckDB."""
    return _audit(export, _on(ibis.duckdb.connect(), export))


@pytest.fixture(scope="module")
def dense_reference(dense_export: dict[str, Any]) -> dict[str, Any]:
    """The dense export's audit on in-memory DuckDB, without a plan."""
    return _audit(dense_export, _on(ibis.duckdb.connect(), dense_export), plan=None)


def test_the_backend_rejects_bad_rows_with_the_readers_reasons(reference: dict[str, Any]) -> None:
    quality = reference["data_quality"]
    assert quality["rows_rejected"]["events"] >= 3
    missing = next(i for i in quality["issues"] if i["kind"] == "missing_value")
    assert missing["count"] == 3 and missing["file"] == "events" and missing["excluded"]
    assert len(missing["examples"]) == 3
    for kind in ("events", "deals", "spend"):
        assert quality["rows_read"][kind] == quality["rows_used"][kind] + quality["rows_rejected"][kind]
    assert reference["funnel"]["deals"] > DEALS * 0.9


def test_a_duckdb_file_gives_the_same_audit_through_the_cli(
    export: dict[str, Any], reference: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "crm.db"
    _on(ibis.duckdb.connect(str(path)), export).disconnect()
    out = tmp_path / "audit.json"
    status = main(["audit", "--engine", f"duckdb:///{path}", "--events", "events", "--deals",
                   "deals", "--spend", "spend", "--funnel", str(export["funnel"]), "--plan",
                   str(PLAN), "--format", "json", "-o", str(out)])
    assert status == 0
    got = json.loads(out.read_text(encoding="utf-8"))
    assert _differences(_unnamed(got, {}), reference) == []


def test_tables_without_row_numbers_are_numbered_the_same_way_on_every_duckdb(
    export: dict[str, Any], tmp_path: Path
) -> None:
    stripped = {k: v.drop_columns(["_row"]) if isinstance(v, pa.Table) else v
                for k, v in export.items()}
    path = tmp_path / "plain.db"
    _on(ibis.duckdb.connect(str(path)), stripped).disconnect()
    on_file = _audit(stripped, f"duckdb:///{path}")
    in_memory = _audit(stripped, _on(ibis.duckdb.connect(), stripped))
    assert _differences(on_file, in_memory) == []
    assert on_file["funnel"]["deals"] > DEALS * 0.9


def test_strict_stops_at_the_first_bad_row(export: dict[str, Any]) -> None:
    con = _on(ibis.duckdb.connect(), export)
    with pytest.raises(InputError) as caught:
        open_sources(con, "events", strict=True)
    assert caught.value.row == export["events"].column("_row").to_pylist()[-3]
    assert caught.value.column == "deal_id"


def test_a_missing_column_or_table_is_named() -> None:
    con = ibis.duckdb.connect()
    with quiet_driver():
        con.create_table("events", pa.table({"deal_id": ["1"], "stage": ["New"]}))
    with pytest.raises(InputError, match="entered_at"):
        open_sources(con, "events")
    with pytest.raises(UsageError, match="'nosuch'.*no such table"):
        open_sources(con, "nosuch")


def test_a_password_is_never_shown(capsys: pytest.CaptureFixture[str]) -> None:
    assert redact("postgres://ann:s3cret@db.example:5432/crm") == "postgres://ann:***@db.example:5432/crm"
    assert redact("duckdb:///tmp/crm.db") == "duckdb:///tmp/crm.db"
    with pytest.raises(UsageError) as caught:
        connect("postgres://ann:s3cret@127.0.0.1:1/crm")
    assert "s3cret" not in str(caught.value) and "ann:***@" in str(caught.value)
    status = main(["audit", "--engine", "mysql://ann:s3cret@127.0.0.1/crm", "--events", "e"])
    err = capsys.readouterr().err
    assert status == 2 and "s3cret" not in err and "***" in err


# -- PostgreSQL: a throwaway cluster on a free loopback port -----------------------------------
PG_PASSWORD = "pg-Secret-4711"


def _pg_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                      key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    return str(versions[-1]) if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server of its own (``initdb`` + ``pg_ctl`` in a temporary folder, as the
    ``postgres`` user when run as root), listening on 127.0.0.1 only, stopped afterwards."""
    if os.environ.get("VORONKA_NO_POSTGRES") == "1":
        pytest.skip("VORONKA_NO_POSTGRES=1: the PostgreSQL engine tests are turned off")
    initdb, pg_ctl = _pg_tool("initdb"), _pg_tool("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.fail("PostgreSQL is not installed (initdb/pg_ctl not found): .ci/run installs "
                    "Debian's postgresql package; set VORONKA_NO_POSTGRES=1 to skip these tests")
    base = Path(tempfile.mkdtemp(prefix="voronka-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(base, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    (base / "pw").write_text(PG_PASSWORD + "\n", encoding="utf-8")
    if as_user:
        shutil.chown(base / "pw", "postgres")
    data, port = base / "data", _free_port()
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", "voronka", f"--pwfile={base / 'pw'}",
                    "-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"],
                   check=True, capture_output=True, timeout=120)
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(base / "log"), "-o", options,
                    "-w", "start"], check=True, capture_output=True, timeout=120)
    try:
        yield f"postgres://voronka:{PG_PASSWORD}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


def test_a_postgresql_server_gives_the_same_audit(
    export: dict[str, Any], reference: dict[str, Any], postgres_url: str
) -> None:
    con = _on(ibis.connect(postgres_url), export)
    con.disconnect()
    got = _audit(export, postgres_url)
    assert _differences(got, reference) == []


def test_a_wrong_postgresql_password_is_not_shown(postgres_url: str) -> None:
    wrong = postgres_url.replace(PG_PASSWORD, "Wrong-Pass-99")
    with pytest.raises(UsageError) as caught:
        connect(wrong)
    message = str(caught.value)
    assert "password authentication failed" in message
    assert "Wrong-Pass-99" not in message and PG_PASSWORD not in message and "voronka:***@" in message


# -- Spark: a Parquet folder, nothing row-level collected ------------------------------------
@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("voronka-tests")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session


@pytest.mark.spark
def test_a_parquet_folder_on_spark_gives_the_same_audit_and_collects_only_aggregates(
    dense_export: dict[str, Any], dense_reference: dict[str, Any], spark: Any, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folders = {}
    for name in ("events", "deals", "spend"):
        folder = tmp_path / name
        folder.mkdir()
        table = dense_export[name]
        half = table.num_rows // 2  # two files: a folder, not a file
        pq.write_table(table.slice(0, half), folder / "part-0.parquet")
        pq.write_table(table.slice(half), folder / "part-1.parquet")
        folders[name] = str(folder)

    collected: list[tuple[int, str, tuple[str, ...]]] = []

    def counting(method: str, size: Any) -> Any:
        original = getattr(DataFrame, method)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            out = original(self, *args, **kwargs)
            collected.append((size(out), method, tuple(self.columns)))
            return out

        return wrapper

    # Spark 4's DataFrame is pyspark.sql.classic.dataframe.DataFrame: patch the class in use.
    DataFrame = type(spark.range(1))  # noqa: N806
    for method, size in [("toPandas", len), ("collect", len), ("toArrow", lambda t: t.num_rows),
                         ("take", len), ("tail", len)]:
        if hasattr(DataFrame, method):
            monkeypatch.setattr(DataFrame, method, counting(method, size))

    # Without a plan (no forecast): the forecast's backtest alone is dozens of Spark jobs, and
    # its queries are the same Ibis on every backend (checked on DuckDB files and PostgreSQL).
    got = _audit(dense_export, "pyspark://", plan=None, **folders)
    largest = sorted(collected, reverse=True)[:8]
    print("collected to the driver (rows, method, columns), largest first:", largest,
          "of", len(collected))
    assert _differences(got, dense_reference) == []
    assert collected, "the audit ran on Spark without collecting anything: the wrapper missed it"
    # Aggregates only: nothing keyed by deal comes back beyond a bounded list, and every result
    # is smaller than the event rows it summarises. The largest are the cohort cube (breakdown ×
    # segment value × entry week × stage, about 6,800 rows here) and the stage × bucket × moment
    # histograms: their size follows stages, periods and segment values, not deals.
    events = dense_export["events"].num_rows
    assert largest[0][0] < events, (largest, events)
    per_deal = [c for c in collected if "deal_id" in c[2] and c[0] > 50]
    assert per_deal == [], per_deal
