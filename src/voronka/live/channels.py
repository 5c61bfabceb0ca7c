"""Where digests go: stdout (text or JSON), a Markdown file, e-mail (SMTP), Telegram, a webhook.

Each channel is a function ``send(digest, recipient)`` raising :class:`DeliveryError` when the
digest did not get through (watch then keeps it for the next run). Secrets come from the
environment (``VORONKA_SMTP_PASSWORD``, ``VORONKA_TELEGRAM_TOKEN``,
``VORONKA_WATCH_WEBHOOK_TOKEN``) and never appear in an error.
"""

from __future__ import annotations

import json
import os
import re
import smtplib
import sys
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import TextIO

import httpx

from voronka.live.digest import Digest
from voronka.live.watchconfig import SECRET_ENV, Recipient, WatchConfig

TELEGRAM_LIMIT = 4096
"""Telegram's limit on one message's length (characters)."""


class DeliveryError(Exception):
    """A digest that did not get through (the message never holds a secret)."""


Sender = Callable[[Digest, Recipient], None]


class Channels:
    """The channels of one watch configuration.

    Args:
        config: the watch configuration (addresses, servers).
        env: where secrets are read (default ``os.environ``).
        out: the stream of the ``stdout`` and ``json`` channels.
        base: the folder relative Markdown paths start from.
        client: the HTTP client of Telegram and webhook deliveries.
    """

    def __init__(self, config: WatchConfig, *, env: Mapping[str, str] | None = None,
                 out: TextIO | None = None, base: Path | None = None,
                 client: httpx.Client | None = None) -> None:
        self.config = config
        self.env = os.environ if env is None else env
        self.out = out or sys.stdout
        self.base = base or Path.cwd()
        self.client = client

    def send(self, channel: str, digest: Digest, recipient: Recipient) -> None:
        """Deliver ``digest`` to ``recipient`` through ``channel``."""
        senders: dict[str, Sender] = {
            "stdout": self.stdout, "json": self.json, "markdown": self.markdown,
            "email": self.email, "telegram": self.telegram, "webhook": self.webhook,
        }
        senders[channel](digest, recipient)

    def _secret(self, channel: str) -> str | None:
        return self.env.get(SECRET_ENV[channel]) or None

    def stdout(self, digest: Digest, recipient: Recipient) -> None:
        self.out.write(digest.text + "\n")
        self.out.flush()

    def json(self, digest: Digest, recipient: Recipient) -> None:
        self.out.write(json.dumps(digest.to_dict(), ensure_ascii=False) + "\n")
        self.out.flush()

    def markdown(self, digest: Digest, recipient: Recipient) -> None:
        folder = Path(self.config.markdown.dir)
        if not folder.is_absolute():
            folder = self.base / folder
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", recipient.name)
        stamp = digest.at.strftime("%Y-%m-%dT%H%M")
        (folder / f"{stamp}-{name}.md").write_text(digest.text, encoding="utf-8")

    def email(self, digest: Digest, recipient: Recipient) -> None:
        smtp = self.config.smtp
        assert smtp is not None and recipient.email
        msg = EmailMessage()
        msg["Subject"] = digest.subject
        msg["From"] = smtp.sender
        msg["To"] = recipient.email
        msg.set_content(digest.text)
        password = self._secret("smtp")
        try:
            cls = smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
            with cls(smtp.host, smtp.port, timeout=smtp.timeout) as server:
                if smtp.starttls and not smtp.ssl:
                    server.starttls()
                if smtp.user:
                    if not password:
                        raise DeliveryError(f"SMTP user set but {SECRET_ENV['smtp']} is empty")
                    server.login(smtp.user, password)
                server.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {smtp.host}:{smtp.port}: {type(exc).__name__}") from None

    def _post(self, url: str, payload: object, headers: dict[str, str], timeout: float,
              what: str) -> httpx.Response:
        try:
            if self.client is not None:
                r = self.client.post(url, json=payload, headers=headers, timeout=timeout)
            else:
                r = httpx.post(url, json=payload, headers=headers, timeout=timeout)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{what}: {type(exc).__name__}") from None
        if r.status_code >= 300:
            raise DeliveryError(f"{what}: HTTP {r.status_code}")
        return r

    def telegram(self, digest: Digest, recipient: Recipient) -> None:
        tg = self.config.telegram
        assert tg is not None and recipient.telegram_chat_id
        token = self._secret("telegram")
        if not token:
            raise DeliveryError(f"{SECRET_ENV['telegram']} is not set")
        url = f"{tg.base_url.rstrip('/')}/bot{token}/sendMessage"
        text = digest.text
        chunks = [text[i:i + TELEGRAM_LIMIT] for i in range(0, len(text), TELEGRAM_LIMIT)]
        for chunk in chunks:
            r = self._post(url, {"chat_id": recipient.telegram_chat_id, "text": chunk,
                                 "disable_web_page_preview": True}, {}, tg.timeout, "Telegram")
            try:
                ok = bool(r.json().get("ok"))
            except ValueError:
                ok = False
            if not ok:
                raise DeliveryError("Telegram: the Bot API did not answer ok")

    def webhook(self, digest: Digest, recipient: Recipient) -> None:
        url = recipient.webhook_url or (self.config.webhook.url if self.config.webhook else None)
        assert url
        timeout = self.config.webhook.timeout if self.config.webhook else 30.0
        headers = {}
        token = self._secret("webhook")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._post(url, digest.to_dict(), headers, timeout, "webhook")
