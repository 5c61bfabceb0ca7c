"""``pull`` against a fake server of each CRM: the folder holds exactly the truth of the fake.

The fakes (crm_fakes.py) keep a ground truth of deals and the dated stages each went through and
serve it in the documented API shapes with several pages; the expected events are computed from
that truth, not from the connector, so a connector passes only by rebuilding the history.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from crm_fakes import FAKES, GOOD_TOKEN, T0, FakeClock, FakeCrm, advance, iso
from pytest_httpserver import HTTPServer

from voronka.errors import InputError
from voronka.funnel import LOST, load_funnel
from voronka.io.crm import CrmAuthError, PullSummary, pull
from voronka.io.crm.store import STAGING_DIR, STATE_FILE


class Killed(Exception):
    """Stands for the process dying half-way through a pull."""


Setup = tuple[FakeCrm, FakeClock, str]


@pytest.fixture(params=sorted(FAKES))
def crm(request: pytest.FixtureRequest, httpserver: HTTPServer) -> Iterator[Setup]:
    clock = FakeClock()
    fake = FAKES[request.param](clock)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    yield fake, clock, httpserver.url_for("/")


def run(setup: Setup, out: Path, **kwargs: Any) -> PullSummary:
    fake, clock, base = setup
    kwargs.setdefault("credentials", fake.credentials(base))
    return pull(fake.crm, out, clock=clock, env={"XDG_CONFIG_HOME": str(out.parent / "cfg")},
                **kwargs)


def read_events(out: Path) -> set[tuple[str, str, str]]:
    with (out / "events.csv").open(encoding="utf-8") as fh:
        return {(r["deal_id"], r["stage"], r["entered_at"]) for r in csv.DictReader(fh)}


def read_deals(out: Path) -> dict[str, dict[str, str]]:
    with (out / "deals.csv").open(encoding="utf-8") as fh:
        return {r["deal_id"]: r for r in csv.DictReader(fh)}


def test_pull_writes_the_deals_events_and_funnels_the_fake_implies(crm: Setup, tmp_path: Path) -> None:
    fake, _, _ = crm
    out = tmp_path / "out"
    summary = run(crm, out)
    expected = fake.expected_events()
    assert read_events(out) == expected
    assert summary.events_added == len(expected) == summary.events_total
    deals = read_deals(out)
    assert set(deals) == {str(d.id) for d in fake.deals}
    for d in fake.deals:
        row = deals[str(d.id)]
        assert row["status"] == d.status
        assert row["pipeline"] == d.pipeline.name
        assert row["created_at"] == iso(d.created_at)
        assert row["closed_at"] == (iso(d.closed_at) if d.closed_at else "")
        assert float(row["amount"]) == d.amount
        assert row["manager"] == str(d.manager)
        assert row["source"].lower() == d.source
        if d.status == "lost" and fake.crm != "bitrix24":
            assert row["lost_reason"] == d.lost_reason
    # The main pipeline is funnel.toml: its open stages in order, then the won stage; the lost
    # stages are outcomes. The other pipeline has its own file.
    main, other = fake.pipelines
    funnel = load_funnel(out / "funnel.toml")
    assert [s.name for s in funnel.stages] == [s.name for s in main.open] + [main.won.name]
    assert funnel.won_stage == funnel.stages[-1].id
    assert all(funnel.match(s.name) == LOST for s in main.lost)
    assert summary.funnel_files[0] == "funnel.toml" and len(summary.funnel_files) == 2
    second = load_funnel(out / summary.funnel_files[1])
    assert [s.name for s in second.stages] == [s.name for s in other.open] + [other.won.name]
    # Every event of a main-pipeline deal names a stage (or lost outcome) of funnel.toml.
    main_ids = {str(d.id) for d in fake.deals if d.pipeline is main}
    for deal_id, stage, _ in read_events(out):
        if deal_id in main_ids:
            assert funnel.match(stage) is not None, stage
    assert not (out / STAGING_DIR).exists()


def test_pull_waits_out_429_and_retries_a_5xx(crm: Setup, tmp_path: Path) -> None:
    fake, clock, _ = crm
    fake.faults[2] = (429, {"Retry-After": "7"}, {"status": 429, "title": "Too Many Requests"})
    fake.faults[4] = (502, {}, {"error": "bad gateway"})
    out = tmp_path / "out"
    run(crm, out)
    assert 7.0 in clock.sleeps  # the Retry-After, honoured
    assert 1.0 in clock.sleeps  # the first backoff after the 502
    assert read_events(out) == fake.expected_events()


def test_incremental_pull_adds_exactly_the_new_events(crm: Setup, tmp_path: Path) -> None:
    fake, clock, _ = crm
    out = tmp_path / "out"
    first = run(crm, out)
    assert not first.incremental
    before = read_events(out)
    clock.jump(86_400)
    added = advance(fake, T0 + timedelta(hours=12))
    changed = sum(1 for d in fake.deals if d.updated_at == T0 + timedelta(hours=12))
    changed += sum(1 for d in fake.deals if d.updated_at == T0 + timedelta(hours=13))
    second = run(crm, out)
    assert second.incremental
    after = read_events(out)
    assert after == fake.expected_events()
    assert before < after
    assert second.events_added == added == len(after - before)
    assert second.deals_fetched == changed < len(fake.deals)
    assert second.deals_total == len(fake.deals)
    # A third pull with no change adds nothing.
    clock.jump(3_600)
    third = run(crm, out)
    assert third.events_added == 0 and third.deals_fetched == 0
    assert read_events(out) == after


def _killing_client(after: int) -> httpx.Client:
    sent = [0]

    def hook(request: httpx.Request) -> None:
        sent[0] += 1
        if sent[0] > after:
            raise Killed(f"killed before request {sent[0]}")

    return httpx.Client(event_hooks={"request": [hook]})


def _folder(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def test_killed_pull_resumes_to_the_same_folder(
    crm: Setup, tmp_path: Path, httpserver: HTTPServer
) -> None:
    fake, clock, base = crm
    whole = tmp_path / "whole"
    run(crm, whole)
    total = len(fake.log)
    assert total >= 4
    for cut in sorted({1, total // 2, total - 1}):
        out = tmp_path / f"cut{cut}"
        clock2 = FakeClock()
        setup = (fake, clock2, base)
        client = _killing_client(cut)
        with pytest.raises(Killed):
            run(setup, out, client=client)
        client.close()
        assert (out / STATE_FILE).is_file()
        resumed = run(setup, out)
        assert resumed.resumed
        assert _folder(out) == _folder(whole), f"cut after {cut} of {total} requests"


def test_bad_token_is_a_one_line_input_error(crm: Setup, tmp_path: Path) -> None:
    fake, _, base = crm
    creds = fake.credentials(base)
    if "webhook" in creds:
        creds["webhook"] = creds["webhook"].replace("s3cr3t", "wrong")
    else:
        creds["token"] = "not-" + GOOD_TOKEN
    with pytest.raises(CrmAuthError) as info:
        run(crm, tmp_path / "out", credentials=creds)
    assert isinstance(info.value, InputError)
    message = str(info.value)
    assert "\n" not in message and fake.crm in message.lower()
    assert "wrong" not in message  # the webhook's secret is not echoed
    assert not (tmp_path / "out" / "deals.csv").exists()


def test_pull_killed_between_staging_and_checkpoint_resumes_to_the_same_folder(
    crm: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill after a page is staged but before its cursor is saved makes the resumed pull fetch
    that page again; a kill after the files are merged but before the state says so makes it
    merge again. Neither may change the final folder."""
    import voronka.io.crm.runner as runner

    fake, clock, base = crm
    whole = tmp_path / "whole"
    real_save = runner.save_state
    calls = [0]

    def counting(out: Path, state: Any) -> None:
        calls[0] += 1
        real_save(out, state)

    monkeypatch.setattr(runner, "save_state", counting)
    run(crm, whole)
    total = calls[0]
    for cut in sorted({3, total // 2, total}):
        out = tmp_path / f"cut{cut}"
        seen = [0]

        def dying(out_dir: Path, state: Any, cut: int = cut, seen: list[int] = seen) -> None:
            seen[0] += 1
            if seen[0] == cut:
                raise Killed(f"killed at checkpoint {cut}")
            real_save(out_dir, state)

        monkeypatch.setattr(runner, "save_state", dying)
        with pytest.raises(Killed):
            run((fake, FakeClock(), base), out)
        monkeypatch.setattr(runner, "save_state", real_save)
        run((fake, FakeClock(), base), out)
        assert _folder(out) == _folder(whole), f"cut at checkpoint {cut} of {total}"
