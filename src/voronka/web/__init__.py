"""The web layer: ``voronka serve`` — the audit as a dashboard and a REST API.

``create_app(ServeSettings(data_dir=...))`` builds a FastAPI app (no global state); see
docs/serve.md.
"""

from voronka.web.app import (
    ServeSettings,
    check_settings,
    create_app,
    ensure_port_free,
    is_loopback,
)

__all__ = [
    "ServeSettings", "check_settings", "create_app", "ensure_port_free", "is_loopback",
]
