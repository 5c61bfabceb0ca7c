"""Watch's rules on hand-made audit results: what is new, quiet hours, retries after a failed
delivery, the plan's threshold, per-manager digests, and clear errors for a bad watch.toml."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest

from voronka.errors import InputError
from voronka.live.channels import Channels, DeliveryError
from voronka.live.digest import Digest
from voronka.live.store import LiveStore
from voronka.live.watch import in_quiet_hours, run_watch
from voronka.live.watchconfig import Recipient, WatchConfig, load_watch_config, parse_watch_config

STAGES = [{"id": "new", "name": "Новая"}, {"id": "call", "name": "Звонок"},
          {"id": "won", "name": "Оплата"}]


def result(leaks: list[tuple[str | None, float]] = (), stuck: list[tuple[str, str, float]] = (),
           p_plan: float | None = None, anomalies: int = 0) -> dict[str, Any]:
    return {
        "funnel": {"stages": STAGES},
        "leaks": [{"stage": "new", "next_stage": "call", "significant": True, "lost_deals": n,
                   "lost_revenue": n * 1000.0, "conversion": 0.3, "expected": 0.5,
                   "segment": {"by": "manager", "value": m} if m else None} for m, n in leaks]
        + [{"stage": "call", "next_stage": "won", "significant": False, "lost_deals": 99.0,
            "segment": None}],
        "anomalies": [{"stage": "call", "next_stage": "won", "segment": None, "direction": "down",
                       "since": f"2025-0{k + 1}-01", "before": 0.5, "after": 0.3,
                       "significant": True} for k in range(anomalies)],
        "stuck": {"deals": [{"deal_id": d, "stage": "call", "days": days, "manager": m,
                             "key_task": "Позвонить"} for d, m, days in stuck]},
        "forecast": None if p_plan is None else {"plan": 40, "p_plan": p_plan},
    }


class Recorder(Channels):
    """Channels that record what they would send; ``fail`` makes a channel fail."""

    def __init__(self, config: WatchConfig) -> None:
        super().__init__(config, out=io.StringIO())
        self.sent: list[tuple[str, str, Digest]] = []
        self.fail: set[str] = set()

    def send(self, channel: str, digest: Digest, recipient: Recipient) -> None:
        if channel in self.fail:
            raise DeliveryError(f"{channel}: HTTP 502")
        self.sent.append((recipient.name, channel, digest))



def config(**changes: Any) -> WatchConfig:
    data: dict[str, Any] = {
        "timezone": "Europe/Moscow",
        "quiet_hours": {"start": time(21, 0), "end": time(8, 0)},
        "telegram": {"base_url": "http://127.0.0.1:9"},
        "thresholds": {"plan_points": 10, "leak_growth": 0.25},
        "recipient": [
            {"name": "head", "language": "en", "telegram_chat_id": "1",
             "channels": ["telegram", "json"]},
            {"name": "anna", "role": "manager", "manager": "Анна", "channels": ["json"]},
        ],
    }
    data.update(changes)
    return parse_watch_config(data)


def run(cfg: WatchConfig, store: LiveStore, res: dict[str, Any], ch: Recorder,
        hour_utc: int) -> Any:
    return run_watch(cfg, store, dataset="x", now=datetime(2025, 6, 2, hour_utc, tzinfo=UTC),
                     channels=ch, audit=lambda *_: copy.deepcopy(res))


def statuses(report: Any) -> dict[tuple[str, str], str]:
    return {(d.recipient, d.channel): d.status for d in report.deliveries}


def test_new_grown_and_moved_findings_and_nothing_twice(tmp_path: Path) -> None:
    cfg = config()
    store = LiveStore(tmp_path / "d")
    ch = Recorder(cfg)
    base = result(leaks=[(None, 40.0)], stuck=[("1", "Анна", 10.0)], p_plan=0.70)
    assert set(statuses(run(cfg, store, base, ch, 9)).values()) == {"baseline"}
    # Same findings, a leak 20% bigger (under the 25% threshold), the plan 8 points lower.
    small = result(leaks=[(None, 48.0)], stuck=[("1", "Анна", 11.0)], p_plan=0.62)
    assert set(statuses(run(cfg, store, small, ch, 9)).values()) == {"nothing"}
    assert ch.sent == []
    # Now: the leak 30% over what was told, the plan 12 points under, Anna's new stuck deal and
    # a leak in her segment, an anomaly.
    big = result(leaks=[(None, 52.1), ("Анна", 12.0)],
                 stuck=[("1", "Анна", 12.0), ("2", "Анна", 5.0), ("3", "Борис", 7.0)],
                 p_plan=0.58, anomalies=1)
    report = run(cfg, store, big, ch, 9)
    assert statuses(report) == {("head", "telegram"): "sent", ("head", "json"): "sent",
                                ("anna", "json"): "sent"}
    head = next(d for n, c, d in ch.sent if n == "head" and c == "telegram")
    reasons = {(n.finding.key, n.reason) for n in head.news}
    assert reasons == {("leak:new>call:all", "grew"), ("leak:new>call:manager=Анна", "new"),
                       ("plan", "moved"), ("stuck:2:call", "new"), ("stuck:3:call", "new"),
                       ("anomaly:call>won:all:down:2025-01-01", "new")}
    assert "grew" in head.text and "from 40 to 52" in head.text and "70% to 58%" in head.text
    anna = next(d for n, _, d in ch.sent if n == "anna")
    assert anna.language == "ru"
    assert {n.finding.key for n in anna.news} == {"leak:new>call:manager=Анна", "stuck:2:call"}
    assert [f.data["deal_id"] for f in anna.today] == ["1", "2"]  # her whole list, most overdue first
    assert "Список на сегодня" in anna.text and "Борис" not in anna.text
    json.dumps(anna.to_dict(), ensure_ascii=False)
    sent = len(ch.sent)
    assert set(statuses(run(cfg, store, big, ch, 10)).values()) == {"nothing"}
    assert len(ch.sent) == sent
    store.close()


def test_quiet_hours_hold_push_channels_until_they_end(tmp_path: Path) -> None:
    cfg = config()
    store = LiveStore(tmp_path / "d")
    ch = Recorder(cfg)
    run(cfg, store, result(), ch, 9)
    news = result(stuck=[("7", "Анна", 9.0)])
    # 19:00 UTC is 22:00 in Moscow: Telegram waits, the JSON output does not.
    night = run(cfg, store, news, ch, 19)
    assert statuses(night)[("head", "telegram")] == "quiet"
    assert statuses(night)[("head", "json")] == "sent"
    # 05:00 UTC is 08:00 in Moscow: quiet hours are over, Telegram gets it, once.
    morning = run(cfg, store, news, ch, 5)
    assert statuses(morning)[("head", "telegram")] == "sent"
    assert statuses(run(cfg, store, news, ch, 6))[("head", "telegram")] == "nothing"
    assert [c for n, c, _ in ch.sent if n == "head"] == ["json", "telegram"]
    store.close()


def test_a_failed_delivery_is_retried_on_the_next_run(tmp_path: Path) -> None:
    cfg = config()
    store = LiveStore(tmp_path / "d")
    ch = Recorder(cfg)
    run(cfg, store, result(), ch, 9)
    ch.fail = {"telegram"}
    news = result(leaks=[(None, 10.0)])
    failed = run(cfg, store, news, ch, 10)
    assert statuses(failed)[("head", "telegram")] == "failed"
    assert "502" in next(d.error for d in failed.deliveries if d.status == "failed")
    ch.fail = set()
    assert statuses(run(cfg, store, news, ch, 11))[("head", "telegram")] == "sent"
    assert [(n, c) for n, c, _ in ch.sent] == [("head", "json"), ("head", "telegram")]
    store.close()


def test_quiet_hours_wrap_midnight() -> None:
    night, morning = time(21, 0), time(8, 0)
    assert in_quiet_hours(datetime(2025, 1, 1, 23, 30), night, morning)
    assert in_quiet_hours(datetime(2025, 1, 1, 7, 59), night, morning)
    assert not in_quiet_hours(datetime(2025, 1, 1, 8, 0), night, morning)
    assert in_quiet_hours(datetime(2025, 1, 1, 13, 0), time(12, 0), time(14, 0))
    assert not in_quiet_hours(datetime(2025, 1, 1, 14, 0), time(12, 0), time(14, 0))


@pytest.mark.parametrize(("text", "says"), [
    ('[[recipient]]\nname = "a"\nchanels = ["stdout"]\n', "recipient.0.chanels"),
    ('[[recipient]]\nname = "a"\nchannels = ["fax"]\n', "recipient.0.channels.0"),
    ('[smtp]\nhost = "h"\nsender = "s"\npassword = "hunter2"\n[[recipient]]\nname = "a"\n',
     "VORONKA_SMTP_PASSWORD"),
    ('[[recipient]]\nname = "a"\nchannels = ["email"]\nemail = "a@b"\n', "[smtp]"),
    ('[[recipient]]\nname = "a"\nchannels = ["telegram"]\n', "telegram_chat_id"),
    ('[[recipient]]\nname = "a"\nrole = "manager"\n', "needs 'manager'"),
    ('timezone = "Mars/Olympus"\n[[recipient]]\nname = "a"\n', "unknown time zone"),
    ('[[recipient]]\nname = "a"\n[[recipient]]\nname = "a"\n', "used twice"),
    ('[thresholds]\nplan_points = -3\n[[recipient]]\nname = "a"\n', "thresholds.plan_points"),
    ('language = "ru"\n', "recipient"),
    ("[[recipient\n", "not valid TOML"),
])
def test_bad_watch_toml_is_a_clear_input_error(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "watch.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_watch_config(path)
    message = str(info.value)
    assert says in message and str(path) in message
    assert "hunter2" not in message


def test_first_run_report_writes_stdout_json_and_markdown(tmp_path: Path) -> None:
    cfg = parse_watch_config({
        "first_run": "report", "markdown": {"dir": "digests"},
        "recipient": [{"name": "head team", "language": "en",
                       "channels": ["stdout", "json", "markdown"]}],
    })
    store = LiveStore(tmp_path / "d")
    out = io.StringIO()
    report = run_watch(cfg, store, dataset="x", base=tmp_path,
                       now=datetime(2025, 6, 2, 9, 30, tzinfo=UTC),
                       channels=Channels(cfg, out=out, base=tmp_path),
                       audit=lambda *_: result(leaks=[(None, 30.0)]))
    assert [d.status for d in report.deliveries] == ["sent", "sent", "sent"]
    text, line = out.getvalue().split("\n# ")[0], out.getvalue().strip().splitlines()[-1]
    assert "new leak “Новая” → “Звонок”" in text
    assert json.loads(line)["news"][0]["key"] == "leak:new>call:all"
    files = list((tmp_path / "digests").glob("*.md"))
    assert [f.name for f in files] == ["2025-06-02T0930-head_team.md"]
    assert files[0].read_text(encoding="utf-8") == report.digests[0].text
    store.close()
