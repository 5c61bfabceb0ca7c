"""Pulling pipelines, deals and stage history from CRM APIs (amoCRM, Bitrix24, HubSpot, Pipedrive).

``pull(crm, out_dir, ...)`` writes a folder that ``voronka audit`` reads: ``funnel.toml``,
``deals.csv``, ``events.csv``, and ``.voronka-pull.json`` for incremental pulls. See docs/pull.md.
"""

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
