"""Every case of the hostile-input catalogue (``catalogue.py``) through the command line: the
exit status expected, no traceback, the message naming what is at fault, and for a run that
succeeds the data-quality counts and rows read = used + rejected for every file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from catalogue import CASES, Case

from voronka.cli import main


def test_the_catalogue_holds_at_least_80_cases() -> None:
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = case.build(tmp_path)
    code = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Internal error" not in err, err
    assert code == case.code, err or out[:500]
    if code != 0:
        assert err.strip(), "an error must say something"
        for fragment in case.says:
            assert fragment in err, (fragment, err)
        return
    if args[0] != "audit":
        return
    result = json.loads(out)
    text = json.dumps(result, ensure_ascii=False)
    for fragment in case.says:
        assert fragment in text, fragment
    dq = result["data_quality"]
    for file, n in dq["rows_read"].items():
        assert n == dq["rows_used"][file] + dq["rows_rejected"][file], file
    kinds = {i["kind"]: i["count"] for i in dq["issues"]}
    for kind, count in case.issues.items():
        assert kinds.get(kind, 0) == count, (kind, kinds)
    by_name = {Path(f).name: n for f, n in dq["rows_rejected"].items()}
    for name, count in case.rejected.items():
        assert by_name[name] == count, (name, by_name)
