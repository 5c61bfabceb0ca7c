"""Errors of a CRM pull: each one a one-line message that says what to do (exit status 2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from voronka.errors import InputError, Msg


@dataclass
class CrmError(InputError):
    """A CRM pull that cannot go on for a reason the user can fix; its message is a catalogue
    entry ``crm.error.*`` (:attr:`key`, :attr:`params`), said in Russian too."""

    @classmethod
    def make(cls, name: str, /, **params: Any) -> Self:
        """The error whose message is catalogue entry ``crm.error.<name>`` filled with ``params``."""
        from voronka.io.crm.redact import redact_params

        return cls(Msg(f"crm.error.{name}", **redact_params(params)))

    def scrub(self, secrets: tuple[str, ...]) -> Self:
        """Remove the credential values ``secrets`` (and anything shaped like a credential) from
        the message and its placeholders; returns the error itself."""
        from voronka.io.crm.redact import redact, redact_params

        self.message = Msg(self.key, **redact_params(self.params, secrets))
        if self.file:
            self.file = redact(self.file, secrets)
        self.args = (self.describe(),)
        return self


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
