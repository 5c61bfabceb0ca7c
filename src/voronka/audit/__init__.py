"""The audit: statistics over the engine's aggregates, one module per section of the contract."""

from voronka.audit.common import Segment
from voronka.audit.result import SCHEMA_VERSION, AuditResult

__all__ = ["SCHEMA_VERSION", "AuditResult", "Segment"]
