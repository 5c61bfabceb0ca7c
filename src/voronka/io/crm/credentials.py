"""Credentials of a CRM pull: the caller's, the environment's, or the config file's.

They never need to be on the command line (where shell history would keep them). The config file
(``~/.config/voronka/credentials.toml`` unless another is given) has one table per CRM::

    [amocrm]
    subdomain = "mycompany"
    token = "eyJ0eXAiOi..."
    domain = "kommo.com"          # optional: amocrm.ru (default) or kommo.com

    [bitrix24]
    webhook = "https://mycompany.bitrix24.ru/rest/1/abc123/"

    [hubspot]
    token = "pat-eu1-..."

    [pipedrive]
    token = "0123abcd..."
    domain = "mycompany"          # optional: https://mycompany.pipedrive.com

Any key may also come from ``VORONKA_<CRM>_<KEY>`` (``VORONKA_AMOCRM_TOKEN``); ``base_url``
overrides the address (a test server, a proxy, an on-premise Bitrix24).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from voronka.io.crm.errors import CrmCredentialsMissing

CRM_NAMES = ("amocrm", "bitrix24", "hubspot", "pipedrive")
"""The CRMs ``voronka pull`` knows."""

CREDENTIAL_KEYS: Mapping[str, tuple[str, ...]] = {
    "amocrm": ("subdomain", "token", "domain", "base_url"),
    "bitrix24": ("webhook", "base_url"),
    "hubspot": ("token", "base_url"),
    "pipedrive": ("token", "domain", "base_url"),
}
"""Keys each CRM reads; the environment variable of a key is ``VORONKA_<CRM>_<KEY>``."""

REQUIRED_KEYS: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "amocrm": (("token",), ("subdomain", "base_url")),
    "bitrix24": (("webhook", "base_url"),),
    "hubspot": (("token",),),
    "pipedrive": (("token",),),
}
"""Per CRM, groups of keys of which at least one must be given."""


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/voronka/credentials.toml``, else ``~/.config/voronka/credentials.toml``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "voronka" / "credentials.toml"


def env_name(crm: str, key: str) -> str:
    """The environment variable of ``key`` for ``crm`` (``VORONKA_AMOCRM_TOKEN``)."""
    return f"VORONKA_{crm.upper()}_{key.upper()}"


def load_credentials(
    crm: str,
    *,
    given: Mapping[str, str] | None = None,
    config: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The credentials of ``crm``: ``given`` first, then the environment, then the config file.

    A missing config file is fine when the other sources suffice; a missing required key raises
    :class:`CrmCredentialsMissing` naming the environment variables and the file to fill.
    """
    env = os.environ if env is None else env
    keys = CREDENTIAL_KEYS[crm]
    path = Path(config) if config is not None else default_config_path(env)
    from_file: Mapping[str, object] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise CrmCredentialsMissing.make(
                "config_invalid", path=str(path), detail=str(exc)
            ) from None
        table = data.get(crm, {})
        from_file = table if isinstance(table, Mapping) else {}
    elif config is not None:
        raise CrmCredentialsMissing.make("config_missing", path=str(path))
    out: dict[str, str] = {}
    for key in keys:
        for source in (given or {}, {k: env.get(env_name(crm, k)) for k in keys}, from_file):
            value = source.get(key)
            if value not in (None, ""):
                out[key] = str(value).strip()
                break
    for group in REQUIRED_KEYS[crm]:
        if not any(k in out for k in group):
            raise CrmCredentialsMissing.make(
                "credentials", crm=crm, key=group[0], env=env_name(crm, group[0]), path=str(path)
            )
    return out
