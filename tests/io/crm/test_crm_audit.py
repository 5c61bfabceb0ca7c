"""A pulled folder audits to the numbers the fake CRM's truth implies.

A deal that reached a stage counts as having reached every stage before it (the won deals of the
fakes skip from an early stage to won), so a stage's reach is the number of deals whose furthest
stage along the line is that stage or a later one; computed here from the fake's truth by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from crm_fakes import FAKES, FakeClock
from pytest_httpserver import HTTPServer

from voronka.api import audit
from voronka.io.crm import pull


@pytest.mark.parametrize("crm", sorted(FAKES))
def test_pulled_folder_audits_to_the_reach_of_the_truth(
    crm: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    base_cls = FAKES[crm]
    # One pipeline only: deals.csv then holds just the deals funnel.toml describes.
    single = type(f"Single{base_cls.__name__}", (base_cls,), {"pipelines": base_cls.pipelines[:1]})
    fake = single(FakeClock())
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    out = tmp_path / "out"
    pull(crm, out, credentials=fake.credentials(httpserver.url_for("/")), clock=fake.clock,
         env={"XDG_CONFIG_HOME": str(tmp_path)})
    result = audit(out / "events.csv", deals=out / "deals.csv", funnel=out / "funnel.toml")
    funnel = result.to_dict()["funnel"]
    pipeline = fake.pipelines[0]
    line = [*pipeline.open, pipeline.won]
    assert [s["name"] for s in funnel["stages"]] == [s.name for s in line]
    keys = [s.key for s in line]
    furthest = [max(keys.index(k) for k, _ in d.steps if k in keys) for d in fake.deals]
    expected_reach = [sum(1 for f in furthest if f >= i) for i in range(len(line))]
    assert [s["reached"] for s in funnel["stages"]] == expected_reach
    statuses = [d.status for d in fake.deals]
    assert (funnel["deals"], funnel["won"], funnel["lost"], funnel["open"]) == (
        len(fake.deals), statuses.count("won"), statuses.count("lost"), statuses.count("open")
    )
