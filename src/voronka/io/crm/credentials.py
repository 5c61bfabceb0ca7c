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

Like ssh with a private key, a credentials file that its group or other users may read gets a
warning (:class:`CredentialsFileWarning`): ``chmod 600`` it. A credential with a character that
no HTTP header or address can carry (a line break, a space, a non-Latin letter: a copy-and-paste
slip) is refused at once (:class:`CrmCredentialsInvalid`), before any request, and never shown.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
import warnings
from collections.abc import Mapping
from pathlib import Path

from voronka.i18n import t
from voronka.io.crm.errors import CrmCredentialsInvalid, CrmCredentialsMissing
from voronka.io.crm.profiles import CRM_IDS, REGISTRY

_SENDABLE = re.compile(r"[\x21-\x7e]+")


class CredentialsFileWarning(UserWarning):
    """The credentials file may be read by other users of the machine."""

    def __init__(self, path: Path, mode: int) -> None:
        self.path = path
        self.mode = mode
        super().__init__(self.describe_in("en"))

    def describe_in(self, lang: str | None) -> str:
        """The warning in ``lang``."""
        return t("crm.warning.credentials_open", lang, path=str(self.path),
                 mode=f"{stat.S_IMODE(self.mode):03o}")


def check_permissions(path: Path) -> CredentialsFileWarning | None:
    """A warning when the group or others may read ``path`` (POSIX), else None."""
    if os.name != "posix":
        return None
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return CredentialsFileWarning(path, mode)
    return None

CRM_NAMES: tuple[str, ...] = CRM_IDS
"""The CRMs ``voronka pull`` knows (:mod:`voronka.io.crm.profiles`)."""

CREDENTIAL_KEYS: Mapping[str, tuple[str, ...]] = {
    p.id: p.credential_keys for p in REGISTRY.values()
}
"""Keys each CRM reads; the environment variable of a key is ``VORONKA_<CRM>_<KEY>``."""

REQUIRED_KEYS: Mapping[str, tuple[tuple[str, ...], ...]] = {
    p.id: p.required_keys for p in REGISTRY.values()
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
        found = check_permissions(path)
        if found is not None:
            warnings.warn(found, stacklevel=2)
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
    for key, value in out.items():
        if not _SENDABLE.fullmatch(value):
            bad = next(i for i, ch in enumerate(value, 1) if not "\x21" <= ch <= "\x7e")
            raise CrmCredentialsInvalid.make("credential_invalid", crm=crm, key=key, position=bad)
    for group in REQUIRED_KEYS[crm]:
        if not any(k in out for k in group):
            raise CrmCredentialsMissing.make(
                "credentials", crm=crm, key=group[0], env=env_name(crm, group[0]), path=str(path)
            )
    return out
