"""A light start: ``import voronka`` and ``voronka --help`` load neither the report stack, nor the
statistics, nor the engine; the report imports the audit's result types, not the code computing
them. Each check runs in a fresh interpreter and reads ``sys.modules`` there (no timing here:
the times are measured by bench/startup.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

HEAVY = (
    "plotly", "jinja2", "xlsxwriter",  # the report stack
    "scipy", "statsmodels",  # statistics
    "ibis", "duckdb", "pyspark", "pandas", "numpy", "pyarrow",  # the engine and its data
)
VORONKA_HEAVY = ("voronka.report", "voronka.engine", "voronka.api", "voronka.io", "voronka.audit.result")
BUILDERS = (
    "voronka.audit.anomalies", "voronka.audit.key_stage", "voronka.audit.leaks",
    "voronka.audit.run", "voronka.audit.forecast", "voronka.audit.sources",
)


def _modules_after(code: str) -> set[str]:
    """The modules loaded in a fresh interpreter after running ``code``."""
    probe = (
        "import sys, json, io, contextlib\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        + "".join(f"    {line}\n" for line in code.splitlines())
        + "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env, check=True, timeout=120)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.mark.parametrize(
    "code",
    [
        "import voronka",
        "import sys\nsys.argv = ['voronka', '--help']\nfrom voronka.cli import main\nmain()",
        "from voronka.cli import main\nmain(['audit', '--help'])",
    ],
    ids=["import voronka", "voronka --help", "voronka audit --help"],
)
def test_start_imports_nothing_heavy(code: str) -> None:
    modules = _modules_after(code)
    assert "voronka" in modules
    assert _loaded(modules, HEAVY) == []
    assert _loaded(modules, VORONKA_HEAVY) == []


def test_the_public_names_still_load_on_use() -> None:
    modules = _modules_after(
        "import voronka\n"
        "assert callable(voronka.audit) and callable(voronka.load)\n"
        "assert voronka.AuditResult.__name__ == 'AuditResult'\n"
        "import voronka.audit.result\n"
        "assert callable(voronka.audit), 'a submodule import replaced the function'\n"
    )
    assert "voronka.audit.result" in modules


def test_the_report_imports_result_types_not_builders() -> None:
    modules = _modules_after("import voronka.report")
    assert _loaded(modules, BUILDERS) == []
    assert _loaded(modules, ("scipy", "statsmodels", "ibis", "duckdb")) == []


JSON_AUDIT_NEVER = (
    "plotly", "narwhals", "jinja2", "xlsxwriter",  # the report stack of the other formats
    "httpx",  # the CRM pull's HTTP client
    "statsmodels", "scipy.stats",  # statistics the audit computes with scipy.special instead
    "voronka.report.html", "voronka.report.charts", "voronka.report.xlsx",
    "voronka.report.markdown", "voronka.report.text", "voronka.report.findings",
    "voronka.io.crm.http", "voronka.io.crm.runner", "voronka.web", "voronka.live",
    "rich.progress",  # the read's progress bar, drawn on a terminal only
    # the SQL compilers of the dialects a DuckDB run does not speak (voronka.engine.ibis_compilers)
    "ibis.backends.sql.compilers.trino", "ibis.backends.sql.compilers.bigquery",
    "ibis.backends.sql.compilers.postgres", "ibis.backends.sql.compilers.pyspark",
)
"""What ``voronka audit … --format json`` must not import: it serves no part of that run."""


@pytest.fixture(scope="module")
def demo_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from voronka.demo import generate_demo, write_demo

    folder = tmp_path_factory.mktemp("light-demo")
    write_demo(generate_demo(400, seed=3, months=6, end_day=15), folder)
    return folder


def test_a_json_audit_imports_only_what_it_needs(demo_export: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    files = {name: str(demo_export / f"{name}.csv") for name in ("events", "deals", "spend")}
    modules = _modules_after(
        "from voronka.cli import main\n"
        "try:\n"
        f"    main(['audit', {files['events']!r}, '--deals', {files['deals']!r},"
        f" '--spend', {files['spend']!r}, '--funnel', {str(demo_export / 'funnel.toml')!r},"
        f" '--format', 'json', '-o', {str(out)!r}])\n"
        "except SystemExit as stop:\n"
        "    assert not stop.code, stop.code\n"
    )
    assert json.loads(out.read_text(encoding="utf-8"))["schema_version"] == 1
    assert "voronka.audit.run" in modules and "voronka.report.json" in modules
    assert _loaded(modules, JSON_AUDIT_NEVER) == []


def test_the_report_formats_load_on_use() -> None:
    modules = _modules_after(
        "import voronka.report as report\n"
        "assert 'voronka.report.html' not in sys.modules\n"
        "assert callable(report.render_html) and callable(report.select_findings)\n"
    )
    assert {"voronka.report.html", "voronka.report.findings"} <= modules
    assert "voronka.report.xlsx" not in modules


def test_reading_a_crm_export_does_not_load_the_pull() -> None:
    modules = _modules_after(
        "import voronka.io.inputs\n"
        "from voronka.io.crm.profiles import REGISTRY\n"
        "assert 'amocrm' in REGISTRY\n"
    )
    assert _loaded(modules, ("httpx", "voronka.io.crm.http", "voronka.io.crm.runner")) == []
    pulled = _modules_after("from voronka.io.crm import CrmError, pull\nassert callable(pull)\n")
    assert "voronka.io.crm.runner" in pulled and "httpx" in pulled


def test_the_api_reads_before_it_needs_the_statistics() -> None:
    """``voronka.api`` imports what reading needs, not the sections: the audit preloads those in
    a background thread while DuckDB reads the files (voronka.api._preload_audit)."""
    modules = _modules_after("import voronka.api")
    assert _loaded(modules, ("voronka.audit.run", "voronka.audit.anomalies", "scipy")) == []
    assert "voronka.engine.read" in modules
