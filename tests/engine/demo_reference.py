"""The demo audit as full JSON, for the before/after equality test of the engine redesign.

    PYTHONPATH=src python tests/engine/demo_reference.py            # rewrite the fixture
    # from another commit's code (the "before"):
    git archive REF src | tar -x -C /tmp/before
    PYTHONPATH=/tmp/before/src python tests/engine/demo_reference.py --produced-by REF

writes ``tests/engine/data/demo_audit_before.json``: the whole ``AuditResult.to_dict()`` of the demo
export (:func:`voronka.demo.generate_demo`, 2,000 deals, seed 0, the CLI demo's 19 months, a plan),
read from CSV, with the temporary folder's path replaced by ``<DIR>``. The fixture in the repository
was produced by this script on the commit named in its ``_produced_by`` field;
``test_demo_audit_unchanged.py`` compares today's audit with it. The before/after proof of issue 11:
the fixture made from ``b80c2d3`` (main just before the engine changes) equalled the audit of the
engine branch merged with that commit (branch ``h-engine-perf``, commit ``f2da862`` and the fixture
commit after it). Since then it is a regression guard: when a statistics change (issues 12, 13)
deliberately changes numbers, regenerate it from main's code *before* that change is merged on top
of an engine change, so that an engine change never rewrites its own reference.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).resolve().parent / "data" / "demo_audit_before.json"
DEALS = 2_000
MONTHS = 19
PLAN = 11.0


def demo_audit(folder: Path, fmt: str = "csv") -> dict[str, Any]:
    """The demo written to ``folder`` in ``fmt`` and audited; the JSON dict, paths neutralised."""
    import voronka
    from voronka.demo import generate_demo, write_demo

    files = write_demo(generate_demo(DEALS, seed=0, months=MONTHS, end_day=15), folder, fmt=fmt)
    result = voronka.audit(files.events, deals=files.deals, spend=files.spend,
                           funnel=files.funnel, plan=PLAN)
    text = json.dumps(result.to_dict(), ensure_ascii=False, sort_keys=True, default=str)
    return json.loads(text.replace(str(folder), "<DIR>"))


def main() -> int:
    """Write the fixture from the code on the path (``--produced-by``: the commit it is)."""
    commit = sys.argv[sys.argv.index("--produced-by") + 1] if "--produced-by" in sys.argv else (
        subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                       cwd=Path(__file__).parent).stdout.strip()
    )
    with tempfile.TemporaryDirectory() as tmp:
        data = demo_audit(Path(tmp) / "demo")
    data["_produced_by"] = commit
    FIXTURE.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                       encoding="utf-8")
    print(f"written {FIXTURE} ({commit})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
