"""``voronka watch`` end to end: a dataset that gains a planted leak between two runs sends one
digest naming it, by e-mail (a local aiosmtpd server), Telegram and a webhook (local fake servers),
and a third run with no change sends nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from server import free_port

from voronka.demo import DemoEffects, generate_demo, write_demo
from voronka.demo.profile import ManagerLeak
from voronka.live.store import LiveStore
from voronka.live.watch import run_watch
from voronka.live.watchconfig import parse_watch_config

TG_TOKEN = "123456:tg-secret-token"
LEAKY = "Кузнецов Дмитрий"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same company twice: before, and after one manager starts losing first calls."""
    root = tmp_path_factory.mktemp("watch-data")
    calm = DemoEffects(stable=True, data_errors=False)
    leaky = DemoEffects(stable=True, data_errors=False,
                        manager_leaks=(ManagerLeak(LEAKY, "new_request", 0.4),))
    before = write_demo(generate_demo(3000, seed=1, effects=calm, months=12), root / "before")
    after = write_demo(generate_demo(3000, seed=1, effects=leaky, months=12), root / "after")
    return before.folder, after.folder


def _body(msg: Any) -> str:
    return str(msg.get_payload(decode=True).decode(msg.get_content_charset() or "utf-8"))


def test_watch_sends_one_digest_naming_a_new_leak_and_nothing_when_nothing_changed(
    datasets: tuple[Path, Path], smtp: tuple[Inbox, int], httpserver: HTTPServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before, after = datasets
    inbox, port = smtp
    httpserver.expect_request(f"/bot{TG_TOKEN}/sendMessage", method="POST").respond_with_json(
        {"ok": True, "result": {"message_id": 1}})
    httpserver.expect_request("/digest", method="POST").respond_with_json({"received": True})
    monkeypatch.setenv("VORONKA_TELEGRAM_TOKEN", TG_TOKEN)
    config = parse_watch_config({
        "language": "ru",
        "smtp": {"host": "127.0.0.1", "port": port, "sender": "voronka@example.com",
                 "starttls": False},
        "telegram": {"base_url": httpserver.url_for("/").rstrip("/")},
        "webhook": {"url": httpserver.url_for("/digest")},
        "recipient": [
            {"name": "head", "role": "team", "language": "en", "email": "head@example.com",
             "telegram_chat_id": "42", "channels": ["email", "telegram", "webhook"]},
            {"name": LEAKY, "role": "manager", "manager": LEAKY, "email": "kd@example.com",
             "channels": ["email"]},
        ],
    })
    store = LiveStore(tmp_path / "data")
    at = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)

    first = run_watch(config, store, dataset=before, now=at)
    assert {d.status for d in first.deliveries} == {"baseline"}
    assert inbox.messages == [] and len(httpserver.log) == 0

    second = run_watch(config, store, dataset=after, now=at.replace(hour=10))
    assert [d.status for d in second.deliveries] == ["sent"] * 4
    # One e-mail per recipient, one Telegram message, one webhook POST.
    assert sorted(m["To"] for m in inbox.messages) == ["head@example.com", "kd@example.com"]
    team = next(m for m in inbox.messages if m["To"] == "head@example.com")
    text = _body(team)
    assert "new leak" in text and LEAKY in text  # English, naming the manager's leak
    subject = str(make_header(decode_header(team["Subject"])))
    assert subject.startswith("voronka 2026-05-04")
    manager_mail = _body(next(m for m in inbox.messages if m["To"] == "kd@example.com"))
    assert "новая утечка" in manager_mail and "Список на сегодня" in manager_mail  # Russian
    telegram = [r for r, _ in httpserver.log if r.path.startswith("/bot")]
    hooks = [r for r, _ in httpserver.log if r.path == "/digest"]
    assert len(telegram) == 1 and len(hooks) == 1
    sent = json.loads(telegram[0].data)
    assert sent["chat_id"] == "42" and LEAKY in sent["text"]
    posted = json.loads(hooks[0].data)
    leak_keys = [n["key"] for n in posted["news"] if n["kind"] == "leak" and n["reason"] == "new"]
    assert f"leak:new_request>qualified:manager={LEAKY}" in leak_keys
    assert TG_TOKEN not in hooks[0].data.decode()

    third = run_watch(config, store, dataset=after, now=at.replace(hour=11))
    assert {d.status for d in third.deliveries} == {"nothing"}
    assert len(inbox.messages) == 2 and len(httpserver.log) == 2
    store.close()
