"""Shared set-up of the live tests."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

# The fake CRM servers of the pull tests are reused here.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io" / "crm"))

# Starlette's test client still works on httpx, with a deprecation warning (it now prefers
# httpx2, which is not installed); import it once here with that one warning silenced.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient.*")
    import starlette.testclient  # noqa: F401
