"""The JSON report (``--format json``): the contract of ``CONTRACT.md``, schema_version 1."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voronka.audit import AuditResult


def render_json(result: AuditResult) -> str:
    """``result.to_dict()`` as UTF-8 JSON text (non-ASCII kept as is, indented by 2)."""
    return json.dumps(result.to_dict(), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
