"""PySpark is an optional extra: without it the Spark tests are skipped with the reason, not
errors. Checked by running a Spark-marked test in a fresh pytest where ``import pyspark`` fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BLOCKER = '''
import sys

class _NoPyspark:
    def find_spec(self, name, path=None, target=None):
        if name == "pyspark" or name.startswith("pyspark."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NoPyspark())
'''


def test_spark_tests_skip_with_a_reason_when_pyspark_is_absent(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT / "src")])}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/engine/test_engine_known_log.py", "-m", "spark",
         "-q", "-rs", "-p", "no:cacheprovider"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "pyspark is not installed" in done.stdout
    assert " skipped" in done.stdout and "error" not in done.stdout.lower()
