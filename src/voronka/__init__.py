"""voronka: a sales-funnel audit from a CRM export.

The public API::

    import voronka
    result = voronka.audit("events.csv", deals="deals.csv", spend="spend.csv")
    result.to_dict()          # the JSON contract
    log = voronka.load("events.csv")   # the event log on the engine (DuckDB by default)

``voronka.audit`` is the function; the subpackage of the same name stays importable as
``voronka.audit.<module>`` (``from voronka.audit import AuditResult``). The function is bound after
the subpackage is imported, so the import system does not replace it with the module.
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
    "what_if",
]

from voronka import report as _report  # noqa: E402,F401  (lets a result show itself in Jupyter)
from voronka.api import audit, load, what_if  # noqa: E402  (binds the function over the subpackage name)

_WHERE = {
    "AuditResult": "voronka.audit.result",
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
