"""The JSON report (``--format json``): the contract of ``CONTRACT.md``, schema_version 1."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voronka.text_safety import json_text

if TYPE_CHECKING:
    from voronka.audit import AuditResult


def render_json(result: AuditResult) -> str:
    """``result.to_dict()`` as UTF-8 JSON text (non-ASCII kept as is, indented by 2; C1 controls
    and bidi marks from the data written as ``\\uXXXX`` escapes, so that a terminal showing it
    obeys none of them)."""
    return json_text(result.to_dict(), indent=2, allow_nan=False) + "\n"
