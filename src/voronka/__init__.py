"""voronka: a sales-funnel audit from a CRM export.

The public API::

    import voronka
    result = voronka.audit("events.csv", deals="deals.csv", spend="spend.csv")
    result.to_dict()          # the JSON contract
    log = voronka.load("events.csv")   # the event log on the engine (DuckDB by default)

Importing the package is light: the engine, the statistics and the report are imported when a
function needs them (``voronka --help`` starts without them).

``voronka.audit`` is the function; the subpackage of the same name stays importable as
``voronka.audit.<module>`` (``from voronka.audit import AuditResult``). The subpackage (light: its
names load on first use) is imported first, then the function is bound over its name, so a later
``import voronka.audit.<module>`` does not replace the function with the module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import voronka.audit as _audit_package  # noqa: F401  (see the module docstring)
from voronka.lazy import lazy_attributes

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


if TYPE_CHECKING:
    from voronka.api import audit, load, what_if
else:

    def audit(*args: Any, **kwargs: Any) -> Any:
        """Audit an export; see :func:`voronka.api.audit` for the arguments."""
        from voronka.api import audit as run

        return run(*args, **kwargs)

    def load(*args: Any, **kwargs: Any) -> Any:
        """Read an export onto the engine; see :func:`voronka.api.load` for the arguments."""
        from voronka.api import load as run

        return run(*args, **kwargs)

    def what_if(*args: Any, **kwargs: Any) -> Any:
        """The forecast with one stage's conversion changed; see :func:`voronka.api.what_if`."""
        from voronka.api import what_if as run

        return run(*args, **kwargs)


_WHERE = {
    "AuditResult": "voronka.audit.result",
    "Funnel": "voronka.funnel",
    "Stage": "voronka.funnel",
    "load_funnel": "voronka.funnel",
    "load_template": "voronka.funnel",
    "InputError": "voronka.errors",
    "VoronkaError": "voronka.errors",
}


__getattr__ = lazy_attributes(__name__, _WHERE)
