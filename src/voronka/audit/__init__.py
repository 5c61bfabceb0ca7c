"""The audit: statistics over the engine's aggregates, one module per section of the contract.

The names below load on first use, so that ``import voronka`` does not import the statistics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voronka.lazy import lazy_attributes

if TYPE_CHECKING:
    from voronka.audit.common import Segment
    from voronka.audit.result import SCHEMA_VERSION, AuditResult

__all__ = ["SCHEMA_VERSION", "AuditResult", "Segment"]

_WHERE = {
    "SCHEMA_VERSION": "voronka.audit.result",
    "AuditResult": "voronka.audit.result",
    "Segment": "voronka.audit.common",
}


__getattr__ = lazy_attributes(__name__, _WHERE)
