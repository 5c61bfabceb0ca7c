"""Engine fixtures: one session-scoped ``backend`` per installed engine, and the test funnel.

Every engine test takes ``backend`` and so runs on DuckDB and on a local PySpark session (marked
``spark``; deselect with ``-m "not spark"``). The Spark session is started once, offline:
``local[1]``, one shuffle partition, no UI, no ``spark.jars.packages``. The small synthetic logs
are in ``engine_logs.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from engine_logs import BACKENDS, LOST_NAME, STAGE_NAMES

from voronka.funnel import Funnel, Stage


def _spark_session() -> Any:
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("voronka-tests")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An Ibis connection: in-memory DuckDB, or a local PySpark session (started once)."""
    import ibis

    if request.param == "duckdb":
        yield ibis.duckdb.connect()
        return
    spark = _spark_session()
    yield ibis.pyspark.connect(spark)
    spark.stop()


@pytest.fixture(scope="session")
def funnel() -> Funnel:
    """Five stages, the last one won; ``Closed lost`` means lost."""
    return Funnel(
        name="test",
        stages=tuple(
            Stage(id=name.lower(), name=name, aliases=(f"{name} (old)",)) for name in STAGE_NAMES
        ),
        won_stage="won",
        lost_names=(LOST_NAME,),
        language="en",
    )


