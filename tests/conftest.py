"""Fixtures shared by the whole suite: the public reference data, small exports written to disk."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

NO_PYSPARK = "pyspark is not installed (an optional extra: pip install -e '.[spark]')"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``spark`` are skipped, with the reason, when pyspark is not installed.

    Under pytest-xdist (``--dist loadgroup``, see pyproject) every test is put in a group that
    one worker runs whole: all Spark tests together (one local Spark session for the run, not
    one per worker), every other test with the rest of its module (a module-scoped fixture —
    a served demo, an audited dataset — is then built once, not once per worker). This runs
    before xdist's own hook, which reads the groups."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        have_spark = False
    else:
        have_spark = True
    skip = pytest.mark.skip(reason=NO_PYSPARK)
    for item in items:
        spark = item.get_closest_marker("spark") is not None
        if spark and not have_spark:
            item.add_marker(skip)
        group = "spark" if spark else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))


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
