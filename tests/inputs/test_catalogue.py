"""Every case of the hostile-input catalogue (``catalogue.py``, ``catalogue_b.py``) through the
command line, in this process: the exit status expected, no traceback, the message naming what is
at fault (and nothing it must not show), and for an audit that succeeds the data-quality counts
and rows read = used + rejected for every file.

**Speed.** A row's own work (writing a 40-deal world, reading it, loading it into the engine,
the data-quality section) takes about 0.4 s of CPU; the statistics sections of a full audit
(forecast backtest, anomalies, leaks … some sixty engine queries, each compiled by Ibis) take
about 3 s more whatever the size of the data, and they assert nothing a row checks. So an audit
in JSON that succeeds runs the real command line — argument parsing, reading, the engine, the
funnel, filters, rendering through the JSON writer, the output — with ``run_audit`` reduced to
the data-quality section, except for the rows marked ``full`` (one per family of quirks: bad
amounts, dates, statuses, ids, stages, encodings, layouts, spend …), which run every section, so
that each kind of hostile value is also shown to pass through the statistics without a crash."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from catalogue import CASES, Case
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from voronka.audit.quality_section import build_data_quality
from voronka.audit.serialize import to_plain
from voronka.cli import main
from voronka.i18n import normalize_language

RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def test_the_catalogue_holds_at_least_80_cases() -> None:
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)


def _echo(status: int) -> object:
    """A fake CRM answering every request with ``status`` and a body repeating the request."""
    def handle(request: Request) -> Response:
        echoed = {"error": "echo", "url": request.url, "headers": dict(request.headers),
                  "body": request.get_data(as_text=True)}
        return Response(json.dumps(echoed), status=status, content_type="application/json")
    return handle


class _QualityOnly:
    """What the command line needs of an audit result in JSON: its language and its data."""

    def __init__(self, language: str, quality: object) -> None:
        self.language = language
        self._quality = quality

    def to_dict(self) -> dict[str, object]:
        return {"data_quality": to_plain(self._quality)}


def _quality_only(log: object, reads: object, *, options: object = None,
                  notes: tuple[str, ...] = (), sections: object = None) -> _QualityOnly:
    """``run_audit`` down to its data-quality section (the same calls, in the same order)."""
    funnel = log.require_funnel()  # type: ignore[attr-defined]
    lang = normalize_language(getattr(options, "language", None) or funnel.language)
    quality = build_data_quality(reads, log, lang)  # type: ignore[arg-type]
    if notes:
        quality = dataclasses.replace(quality, notes=(*quality.notes, *notes))
    return _QualityOnly(lang, quality)


def _run(case: Case, folder: Path, request: pytest.FixtureRequest,
         monkeypatch: pytest.MonkeyPatch) -> list[str]:
    server = ""
    if case.server is not None:
        httpserver: HTTPServer = request.getfixturevalue("httpserver")
        httpserver.expect_request(re.compile(".*")).respond_with_handler(_echo(case.server))
        server = httpserver.url_for("/")
    for key, value in case.env.items():
        monkeypatch.setenv(key, value.replace("{folder}", str(folder)).replace("{server}", server))
    args = case.build(folder)
    if case.patch is not None:
        case.patch(monkeypatch)
    if args[0] == "audit" and "json" in args and case.code == 0 and not case.full:
        monkeypatch.setattr("voronka.api.run_audit", _quality_only)
    return args


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str],
              request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    args = _run(case, tmp_path, request, monkeypatch)
    code = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Internal error" not in err, err
    assert code == case.code, err or out[:500]
    for fragment in case.not_says:
        assert fragment not in out and fragment not in err, fragment
    if case.raw_free:
        assert not RAW.search(out), repr(RAW.search(out))
        assert not RAW.search(err), repr(RAW.search(err))
    if case.max_err is not None:
        assert len(err) <= case.max_err, len(err)
    if code != 0:
        assert err.strip(), "an error must say something"
        for fragment in case.says:
            assert fragment in err, (fragment, err)
        return
    if args[0] != "audit" or "json" not in args:
        for fragment in case.says:
            assert fragment in out, (fragment, out[:500])
        return
    result = json.loads(out)
    text = json.dumps(result, ensure_ascii=False)
    for fragment in case.says:
        assert fragment in text or fragment in out, fragment  # (as parsed, or as written)
    dq = result["data_quality"]
    for file, n in dq["rows_read"].items():
        assert n == dq["rows_used"][file] + dq["rows_rejected"][file], file
    kinds = {i["kind"]: i["count"] for i in dq["issues"]}
    for kind, count in case.issues.items():
        assert kinds.get(kind, 0) == count, (kind, kinds)
    by_name = {Path(f).name: n for f, n in dq["rows_rejected"].items()}
    for name, count in case.rejected.items():
        assert by_name[name] == count, (name, by_name)
    for name in case.unread:
        assert name not in by_name, (name, by_name)
