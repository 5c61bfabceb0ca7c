"""voronka: a sales-funnel audit from a CRM export.

The public API::

    import voronka
    result = voronka.audit("events.csv", deals="deals.csv", spend="spend.csv")
    result.to_dict()          # the JSON contract
    log = voronka.load("events.csv")   # the event log on the engine (DuckDB by default)

Names are imported lazily so that ``import voronka`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "AuditResult",
    "Funnel",
    "InputError",
    "Stage",
    "VoronkaError",
    "audit",
    "load",
    "load_funnel",
    "load_template",
]

_WHERE = {
    "audit": "voronka.api",
    "load": "voronka.api",
    "AuditResult": "voronka.audit",
    "Funnel": "voronka.funnel",
    "Stage": "voronka.funnel",
    "load_funnel": "voronka.funnel",
    "load_template": "voronka.funnel",
    "InputError": "voronka.errors",
    "VoronkaError": "voronka.errors",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'voronka' has no attribute {name!r}")
