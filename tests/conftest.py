"""Fixtures shared by the whole suite: the public reference data, small exports written to disk."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

NO_PYSPARK = "pyspark is not installed (an optional extra: pip install -e '.[spark]')"


SPARK_NODE = re.compile(r"\[(?:[^\]]*-)?pyspark(?:-[^\]]*)?\]$|::test_\w*_on_spark_")
"""The node ids of the Spark tests: the ``pyspark`` case of the engine's ``backend`` fixture, and
a test named ``…_on_spark_…`` (it makes its own session). Checked against the ``spark`` mark at
every collection, so a Spark test this misses stops the run instead of starting a second JVM."""


_OWN_CACHE = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """The compiled-SQL cache (``voronka.engine.sql_cache``) of every test, and of every process a
    test starts, goes to a folder of this run's, not to the user's cache."""
    if "VORONKA_CACHE_DIR" not in os.environ:
        os.environ["VORONKA_CACHE_DIR"] = tempfile.mkdtemp(prefix="voronka-test-cache-")
        config.stash[_OWN_CACHE] = os.environ["VORONKA_CACHE_DIR"]


def pytest_unconfigure(config: pytest.Config) -> None:
    """The cache folder :func:`pytest_configure` made goes with the run."""
    folder = config.stash.get(_OWN_CACHE, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop("VORONKA_CACHE_DIR", None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``spark`` are skipped, with the reason, when pyspark is not installed; a test
    marked ``spark`` whose id :data:`SPARK_NODE` does not recognise (or the reverse) is a usage
    error (the xdist scheduler below groups by id)."""
    odd = [item.nodeid for item in items
           if (item.get_closest_marker("spark") is not None) != bool(SPARK_NODE.search(item.nodeid))]
    if odd:
        raise pytest.UsageError(
            "tests/conftest.py: SPARK_NODE and the spark mark disagree on " + ", ".join(odd[:5]))
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pass
    else:
        return
    skip = pytest.mark.skip(reason=NO_PYSPARK)
    for item in items:
        if item.get_closest_marker("spark") is not None:
            item.add_marker(skip)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``make test`` runs ``pytest -n 2 --dist loadscope``: each worker takes whole modules (a
    module-scoped fixture — a served demo, an audited dataset — is built once, not once per
    worker), and here every Spark test goes in one group of its own, so one worker starts the
    one local Spark session of the run. (``--dist loadgroup`` with marks set at collection would
    say the same, but pytest 9.2's node ids leave it grouping nothing: pytest-xdist issue 1386.)"""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SparkTogether(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            if SPARK_NODE.search(nodeid):
                return "spark"
            return str(super()._split_scope(nodeid))

    return SparkTogether(config, log)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (the public reference datasets); skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (a contributor's clone has no shared folder)")
    return SHARED_DATA


EVENTS_CSV = """deal_id,stage,entered_at,source,manager,amount
1,Новая заявка,2025-01-06 10:00,SEO,Анна,1000
1,Квалификация пройдена,2025-01-07 10:00,SEO,Анна,1000
1,Встреча назначена,2025-01-09 10:00,SEO,Анна,1000
2,Новая заявка,2025-01-06 11:00,Директ,Борис,2000
2,Квалификация пройдена,2025-01-10 11:00,Директ,Борис,2000
3,Новая заявка,2025-01-08 09:00,Директ,Борис,500
4,Новая заявка,2025-01-09 09:00,SEO,Анна,700
4,Встреча назначена,2025-01-12 09:00,SEO,Анна,700
"""


@pytest.fixture
def small_events(tmp_path: Path) -> Path:
    """A tiny events file on the reference funnel: 4 deals, one with a skipped stage."""
    path = tmp_path / "events.csv"
    path.write_text(EVENTS_CSV, encoding="utf-8")
    return path
