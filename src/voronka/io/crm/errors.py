"""Errors of a CRM pull: each one a one-line message that says what to do (exit status 2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

from voronka.errors import InputError
from voronka.i18n import t


@dataclass
class CrmError(InputError):
    """A CRM pull that cannot go on for a reason the user can fix.

    Attributes:
        message_key: the catalogue key of the message (``crm.error.*``), to show it in Russian too.
        params: the placeholders of that message.
    """

    message_key: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def make(cls, name: str, /, **params: Any) -> Self:
        """The error whose message is catalogue entry ``crm.error.<name>`` filled with ``params``."""
        from voronka.io.crm.redact import redact_params

        full = f"crm.error.{name}"
        shown = redact_params(params)
        return cls(message=t(full, "en", **shown), message_key=full, params=shown)

    def scrub(self, secrets: tuple[str, ...]) -> Self:
        """Remove the credential values ``secrets`` (and anything shaped like a credential) from
        the message and its placeholders; returns the error itself."""
        from voronka.io.crm.redact import redact, redact_params

        self.params = redact_params(self.params, secrets)
        self.message = redact(self.message, secrets)
        if self.file:
            self.file = redact(self.file, secrets)
        self.args = (self.describe(),)
        return self

    def describe_in(self, lang: str | None) -> str:
        """The message in language ``lang`` (``ru`` or ``en``)."""
        if self.message_key is None:
            return self.describe()
        return t(self.message_key, lang, **self.params)


class CrmCredentialsMissing(CrmError):
    """No token (or subdomain, webhook …) in the arguments, the environment or the config file."""


class CrmCredentialsInvalid(CrmCredentialsMissing):
    """A credential holds a character no HTTP header or address can carry (a line break, a space,
    a non-Latin letter): a copy-and-paste slip, refused before any request."""


class CrmAuthError(CrmError):
    """The CRM refused the token (HTTP 401)."""


class CrmTokenExpired(CrmAuthError):
    """The token (e.g. amoCRM's long-lived token, a Bitrix24 webhook) has expired."""


class CrmScopeError(CrmError):
    """The token lacks a permission the pull needs (HTTP 403)."""


class CrmAccountNotFound(CrmError):
    """The account address does not exist: a wrong subdomain, portal or domain (DNS or 404)."""


class CrmRateLimited(CrmError):
    """The CRM asks to wait longer than a pull should sit idle (a daily budget is spent)."""


class CrmUnavailable(CrmError):
    """The CRM kept failing (5xx, timeouts) after every retry."""


class CrmRequestError(CrmError):
    """The CRM rejected a request for another reason (an unexpected 4xx or a malformed answer)."""
