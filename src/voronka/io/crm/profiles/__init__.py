"""The registry of CRMs: one :class:`CrmProfile` per module of this package.

::

    from voronka.io.crm.profiles import REGISTRY
    REGISTRY["amocrm"].credential_keys     # ("subdomain", "token", "domain", "base_url")

Every list that once named the CRMs one by one (the credentials' keys, the pull's connectors, the
export formats, the outcome spellings, the templates) is read from here, so adding a CRM is one
file ``<crm>.py`` defining ``PROFILE`` (and its template ``funnel/templates/<crm>.toml``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType

from voronka.io.crm.profiles.base import CrmProfile, ExportProfile


def _discover() -> dict[str, CrmProfile]:
    found: dict[str, CrmProfile] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "base" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        profile = getattr(module, "PROFILE", None)
        if isinstance(profile, CrmProfile):
            if profile.id in found:
                raise ValueError(f"two CRM profiles with the id {profile.id!r}")
            found[profile.id] = profile
    return found


REGISTRY: Mapping[str, CrmProfile] = MappingProxyType(_discover())
"""CRM id → profile, in id order."""

CRM_IDS: tuple[str, ...] = tuple(REGISTRY)
"""The CRMs voronka knows."""

EXPORT_PROFILES: tuple[ExportProfile, ...] = tuple(sorted(
    (e for p in REGISTRY.values() for e in p.exports), key=lambda e: e.rank))
"""Every export format, the most specific signatures first."""

__all__ = ["CRM_IDS", "EXPORT_PROFILES", "REGISTRY", "CrmProfile", "ExportProfile"]
