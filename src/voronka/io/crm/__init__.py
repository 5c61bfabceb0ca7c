"""Pulling pipelines, deals and stage history from CRM APIs (amoCRM, Bitrix24, HubSpot, Pipedrive).

``pull(crm, out_dir, ...)`` writes a folder that ``voronka audit`` reads: ``funnel.toml``,
``deals.csv``, ``events.csv``, and ``.voronka-pull.json`` for incremental pulls. See docs/pull.md.

The names below are imported on first use (PEP 562): reading a CRM's *file* export needs only the
registry :mod:`voronka.io.crm.profiles`, and importing it must not load the HTTP client (httpx)
that only a pull uses (``tests/test_light_start.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voronka.lazy import lazy_attributes

if TYPE_CHECKING:
    from voronka.io.crm.credentials import CRM_NAMES, default_config_path, load_credentials
    from voronka.io.crm.errors import (
        CrmAccountNotFound,
        CrmAuthError,
        CrmCredentialsMissing,
        CrmError,
        CrmRateLimited,
        CrmRequestError,
        CrmScopeError,
        CrmTokenExpired,
        CrmUnavailable,
    )
    from voronka.io.crm.http import Clock, SystemClock
    from voronka.io.crm.model import PullProgress, PullSummary
    from voronka.io.crm.runner import describe_pull, pull

_LAZY = {
    "CRM_NAMES": "credentials", "default_config_path": "credentials",
    "load_credentials": "credentials",
    **dict.fromkeys((
        "CrmAccountNotFound", "CrmAuthError", "CrmCredentialsMissing", "CrmError",
        "CrmRateLimited", "CrmRequestError", "CrmScopeError", "CrmTokenExpired", "CrmUnavailable",
    ), "errors"),
    "Clock": "http", "SystemClock": "http",
    "PullProgress": "model", "PullSummary": "model",
    "describe_pull": "runner", "pull": "runner",
}
"""The public names, and the submodule each lives in."""


__getattr__ = lazy_attributes(__name__, {name: f".{module}" for name, module in _LAZY.items()})


__all__ = [
    "CRM_NAMES",
    "Clock",
    "CrmAccountNotFound",
    "CrmAuthError",
    "CrmCredentialsMissing",
    "CrmError",
    "CrmRateLimited",
    "CrmRequestError",
    "CrmScopeError",
    "CrmTokenExpired",
    "CrmUnavailable",
    "PullProgress",
    "PullSummary",
    "SystemClock",
    "default_config_path",
    "describe_pull",
    "load_credentials",
    "pull",
]
