"""A small generated world for the input tests: a four-stage funnel, deals with sources and
amounts, and its events — the truth every planted quirk is measured against."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from voronka.cli import main

FUNNEL = """name = "Test"
language = "en"

[[stage]]
id = "lead"
name = "Lead"

[[stage]]
id = "qualified"
name = "Qualified"

[[stage]]
id = "proposal"
name = "Proposal"

[[stage]]
id = "won"
name = "Won"

[outcomes]
won = "won"
lost = ["Lost"]
"""

STAGES = ("Lead", "Qualified", "Proposal", "Won")
SOURCES = ("seo", "ads", "referral")
START = datetime(2025, 1, 6, 9, 0)


@dataclass
class World:
    """Rows of the events and deals files (lists of dicts) and the truth computed from them."""

    events: list[dict[str, Any]]
    deals: list[dict[str, Any]]

    def write(self, folder: Path, *, sep: str = ",") -> dict[str, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"funnel": folder / "funnel.toml"}
        paths["funnel"].write_text(FUNNEL, encoding="utf-8")
        for name, rows in (("events", self.events), ("deals", self.deals)):
            paths[name] = folder / f"{name}.csv"
            write_rows(paths[name], rows, sep=sep)
        return paths

    def reached(self, stage: str) -> int:
        k = STAGES.index(stage)
        return len({e["deal_id"] for e in self.events if e["stage"] in STAGES[k:]})


def write_rows(path: Path, rows: list[dict[str, Any]], *, sep: str = ",", encoding: str = "utf-8") -> None:
    headers = list(dict.fromkeys(h for r in rows for h in r))
    lines = [sep.join(headers)]
    lines += [sep.join("" if r.get(h) is None else str(r[h]) for h in headers) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding=encoding)


def make_world(n: int = 120, seed: int = 1) -> World:
    """``n`` deals over about four months: each moves on with fixed chances, closes won at the
    last stage, lost with a Lost event, or stays open."""
    rng = np.random.default_rng(seed)
    events: list[dict[str, Any]] = []
    deals: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        created = START + timedelta(days=int(i * 100 / n), hours=int(rng.integers(0, 8)))
        at = created
        reached = 0
        for k in range(1, len(STAGES)):
            if rng.random() < 0.6:
                reached = k
            else:
                break
        for k in range(reached + 1):
            events.append({"deal_id": i, "stage": STAGES[k], "entered_at": at.strftime("%Y-%m-%d %H:%M")})
            at += timedelta(days=int(rng.integers(1, 6)))
        status = "won" if reached == len(STAGES) - 1 else ("lost" if rng.random() < 0.5 else "open")
        closed = None
        if status == "lost":
            events.append({"deal_id": i, "stage": "Lost", "entered_at": at.strftime("%Y-%m-%d %H:%M")})
            closed = at
        elif status == "won":
            closed = at - timedelta(days=1)
        deals.append({
            "deal_id": i,
            "created_at": created.strftime("%Y-%m-%d %H:%M"),
            "source": SOURCES[i % 3],
            "amount": 1000 * (1 + i % 5),
            "status": status,
            "closed_at": closed.strftime("%Y-%m-%d %H:%M") if closed else None,
        })
    return World(events=events, deals=deals)


def audit_json(args: list[str], capsys: Any) -> tuple[int, dict[str, Any] | None, str]:
    """Run ``voronka audit ARGS --format json -o -``: exit code, the JSON (None on failure),
    stderr."""
    code = main(["audit", *args, "--format", "json", "-o", "-", "--lang", "en"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 and out.strip() else None), err


def audit_world(paths: dict[str, Path], capsys: Any, *extra: str) -> tuple[int, dict[str, Any] | None, str]:
    return audit_json(
        [str(paths["events"]), "--deals", str(paths["deals"]), "--funnel", str(paths["funnel"]), *extra],
        capsys,
    )


def lean_audits(monkeypatch: Any, *sections: str) -> None:
    """Make ``voronka audit`` (the command line and ``voronka.audit``) compute only ``sections``
    of :data:`voronka.audit.run.SECTIONS`, besides the funnel, data quality and maturity that
    every audit computes. The reading, the engine, the options and the output are unchanged; a
    test that reads only those parts of the result skips some sixty statistics queries (about
    3 s of CPU an audit). The statistics on hostile inputs run in the catalogue's ``full`` rows
    and in the fuzz test."""
    from functools import partial

    from voronka.audit.run import run_audit

    monkeypatch.setattr("voronka.api.run_audit", partial(run_audit, sections=sections))
