"""Hostile inputs of issue 10's second part as catalogue rows (``catalogue.CASES`` includes them):
layouts that are not an event log (points 9, 11), control characters in data and file names
(point 14), folder links and echoed file contents (point 15), credentials in CRM errors (points
12, 13), unreadable files in a folder (point 17).

What a row cannot say (pandas equality of the funnel, the reader's own API, log records) stays in
``tests/io/test_layouts.py``, ``tests/io/test_folder_safety.py``, ``tests/io/crm/test_redaction.py``
and ``tests/report/test_control_chars.py``.
"""

from __future__ import annotations

import builtins
import csv
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from catalogue_case import Case
from inputs_world import make_world

EVIL = "Won\x1b]0;PWNED\x07\x1b[2J\u202eevil\x9b31m"
SECRET_LINE = "root-SECRET-LINE:x:0:0:root:/root:/bin/bash"
TOKEN = "tok-9f8e7d6c5b4a3210-SECRET"
WEBHOOK_SECRET = "whk0s3cr3tVALUE42"
JSON_OUT = ("--format", "json", "-o", "-", "--lang", "en")


def _maven(folder: Path) -> Path:
    """The Maven sales pipeline's shape: one row per deal, an engage and a close date."""
    rng = np.random.default_rng(1)
    n = 120
    stage = rng.choice(["Prospecting", "Engaging", "Won", "Lost"], size=n, p=[.1, .2, .45, .25])
    engage = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), "D")
    close = engage + pd.to_timedelta(rng.integers(5, 120, n), "D")
    frame = pd.DataFrame({
        "opportunity_id": [f"OP{i:05d}" for i in range(n)], "deal_stage": stage,
        "engage_date": engage.strftime("%Y-%m-%d"), "close_date": close.strftime("%Y-%m-%d"),
    })
    frame.loc[stage == "Prospecting", "engage_date"] = ""
    frame.loc[np.isin(stage, ["Prospecting", "Engaging"]), "close_date"] = ""
    path = folder / "sales_pipeline.csv"
    frame.to_csv(path, index=False)
    return path


def _maven_mapped(folder: Path) -> list[str]:
    path = _maven(folder)
    return ["audit", str(path), "--map", "deal_id=opportunity_id", "--map", "stage=deal_stage",
            "--map", "entered_at=engage_date", *JSON_OUT]


def _snapshot_events(folder: Path) -> list[str]:
    path = folder / "events.csv"
    rows = [f"d{i},{['Lead', 'Meeting', 'Proposal', 'Won'][i % 4]},2025-01-{1 + i % 28:02d}"
            for i in range(40)]
    path.write_text("deal_id,stage,entered_at\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return ["audit", str(path), *JSON_OUT]


def _wide_dates(folder: Path) -> list[str]:
    rng = np.random.default_rng(3)
    n = 80
    depth = rng.integers(1, 5, n)
    start = pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 200, n), "D")
    frame = pd.DataFrame({"deal_id": range(1, n + 1)})
    for k, col in enumerate(["lead_date", "meeting_date", "proposal_date", "won_date"], start=1):
        frame[col] = np.where(depth >= k, (start + pd.to_timedelta(7 * k, "D")).strftime(
            "%d.%m.%Y"), "")
    path = folder / "deals.csv"
    frame.to_csv(path, index=False)
    return ["audit", str(path), *JSON_OUT]


def _olist(folder: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(5)
    n = 200
    leads = pd.DataFrame({
        "mql_id": [f"{i:032x}" for i in range(n)],
        "first_contact_date": (pd.Timestamp("2017-06-01") + pd.to_timedelta(
            rng.integers(0, 360, n), "D")).strftime("%Y-%m-%d"),
        "origin": rng.choice(["organic_search", "paid_search"], n),
    })
    won = leads.sample(frac=0.2, random_state=5)
    closed = pd.DataFrame({"mql_id": won["mql_id"].to_numpy(), "won_date": (pd.to_datetime(
        won["first_contact_date"]) + pd.Timedelta(days=9)).dt.strftime("%Y-%m-%d").to_numpy()})
    a = folder / "olist_marketing_qualified_leads_dataset.csv"
    b = folder / "olist_closed_deals_dataset.csv"
    leads.to_csv(a, index=False)
    closed.to_csv(b, index=False)
    return a, b


def _milestone_files(folder: Path) -> list[str]:
    a, b = _olist(folder)
    return ["audit", str(a), str(b), *JSON_OUT]


def _milestone_folder(folder: Path) -> list[str]:
    _olist(folder)
    return ["audit", str(folder), *JSON_OUT]


def _two_deals_files(folder: Path) -> list[str]:
    _olist(folder)
    (folder / "stage_history.csv").write_text(
        "deal_id,stage,entered_at\n1,A,2025-01-01\n1,B,2025-01-02\n", encoding="utf-8")
    return ["audit", str(folder), "--lang", "en"]


def _evil_events(folder: Path) -> Path:
    rows = []
    for i in range(40):
        rows.append((f"d{i}", "Lead", f"2025-01-{1 + i % 20:02d}"))
        if i % 2 == 0:
            rows.append((f"d{i}", "Meeting\x1b[2J", f"2025-02-{1 + i % 20:02d}"))
        if i % 4 == 0:
            rows.append((f"d{i}", EVIL, f"2025-03-{1 + i % 20:02d}"))
    path = folder / "events.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["deal_id", "stage", "entered_at"])
        w.writerows(rows)
    return path


def _evil_report(fmt: str) -> Any:
    def build(folder: Path) -> list[str]:
        args = ["audit", str(_evil_events(folder)), "--lang", "en", "--format", fmt]
        return args + (["-o", "-"] if fmt != "text" else [])
    return build


def _evil_file_name(folder: Path) -> list[str]:
    bad = folder / "ev\x1b]0;PWNED\x07\u202e.csv"
    bad.write_text("deal_id,stage\n1,A\x1b[2J\n", encoding="utf-8")
    return ["audit", str(bad), "--lang", "en"]


def _private(folder: Path) -> Path:
    private = folder / "private.csv"
    private.write_text(SECRET_LINE + "\nsecond line\n", encoding="utf-8")
    (folder / "export").mkdir()
    return private


def _events_text(path: Path) -> None:
    path.write_text("deal_id,stage,entered_at\n1,Lead,2025-01-01\n1,Won,2025-01-05\n"
                    "2,Lead,2025-01-02\n", encoding="utf-8")


def _link_out(folder: Path) -> list[str]:
    private = _private(folder)
    (folder / "export" / "events.csv").symlink_to(private)
    return ["audit", str(folder / "export"), "--lang", "en"]


def _link_inside(folder: Path) -> list[str]:
    (folder / "export" / "raw").mkdir(parents=True)
    _events_text(folder / "export" / "raw" / "data.csv")
    (folder / "export" / "events.csv").symlink_to(folder / "export" / "raw" / "data.csv")
    return ["audit", str(folder / "export"), *JSON_OUT]


def _link_out_beside(folder: Path) -> list[str]:
    private = _private(folder)
    _events_text(folder / "export" / "events.csv")
    (folder / "export" / "deals.csv").symlink_to(private)
    return ["audit", str(folder / "export"), *JSON_OUT]


def _long_header(folder: Path) -> list[str]:
    bad = folder / "events.csv"
    bad.write_text(f"deal_id,{'x' * 5000},\x1b]0;t\x07h\n1,2,3\n", encoding="utf-8")
    return ["audit", str(bad), "--lang", "en"]


def _pull(crm: str, lang: str = "en") -> Any:
    def build(folder: Path) -> list[str]:
        return ["pull", crm, "--out", str(folder / "out"), "--lang", lang]
    return build


def _open_credentials(folder: Path) -> list[str]:
    path = folder / "credentials.toml"
    path.write_text('[hubspot]\ntoken = "pat-eu1-abcdef"\n', encoding="utf-8")
    path.chmod(0o640)
    return ["pull", "hubspot", "--out", str(folder / "o"), "--config", str(path), "--lang", "ru"]


def _with_backup(folder: Path, *extra: str) -> list[str]:
    make_world(n=40, seed=3).write(folder / "crm")
    (folder / "crm" / "leads_backup.csv").write_text("deal_id,stage\n1,Lead\n", encoding="utf-8")
    return ["audit", str(folder / "crm"), *extra]


def refuse_open(name: str) -> Any:
    """A patch making ``open`` of a file called ``name`` fail as it does for another user
    (the tests often run as root, who may open anything)."""
    def patch(monkeypatch: pytest.MonkeyPatch) -> None:
        real = builtins.open

        def guarded(file: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, str | os.PathLike) and Path(file).name == name:
                raise PermissionError(13, "Permission denied", str(file))
            return real(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", guarded)
    return patch


def _interrupt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the inputs are read."""
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("voronka.api.open_inputs", interrupted)


def _interrupted(folder: Path) -> list[str]:
    paths = make_world(n=20, seed=3).write(folder)
    return ["audit", str(paths["events"]), "--lang", "en", "-o", str(folder / "r.json"),
            "--format", "json"]


def _custom_export(folder: Path) -> list[str]:
    from test_stage_order import _amo_export

    return ["audit", str(_amo_export(folder / "amocrm_export.csv")), *JSON_OUT]


def _custom_export_with_stage_list(folder: Path) -> list[str]:
    from test_stage_order import _amo_export, _amo_pipelines

    (folder / "crm").mkdir()
    _amo_export(folder / "crm" / "amocrm_export.csv")
    _amo_pipelines(folder / "crm" / "pipelines.json")
    return ["audit", str(folder / "crm"), *JSON_OUT]


def _custom_export_bad_stage_list(folder: Path) -> list[str]:
    from test_stage_order import _amo_export

    (folder / "stages.json").write_text('{"data": [{"id": 1, "name": "x"}]}', encoding="utf-8")
    return ["audit", str(_amo_export(folder / "amocrm_export.csv")), "--funnel",
            str(folder / "stages.json"), "--lang", "en"]


_CFG = {"XDG_CONFIG_HOME": "{folder}/cfg"}

CASES_B: list[Case] = [
    # layouts (points 9 and 11)
    Case("layout-deal-rows-mapped", _maven_mapped, 0, ("layouts.deal_rows", "engage_date"), full=True),
    Case("layout-snapshot-events", _snapshot_events, 0, ("layouts.snapshot_file",),
         rejected={"events.csv": 0}, full=True),
    Case("layout-date-column-per-stage", _wide_dates, 0,
         ("layouts.wide", "Meeting ← meeting_date", "Won ← won_date"), rejected={"deals.csv": 0}, full=True),
    Case("layout-milestone-files", _milestone_files, 0,
         ("layouts.milestones", "First contact ← first_contact_date"), full=True),
    Case("layout-milestone-folder", _milestone_folder, 0, ("layouts.mapping",)),
    Case("layout-two-deals-files", _two_deals_files, 2,
         ("several deals files", "which one", "--deals")),
    # control characters (point 14)
    Case("escape-codes-report-text", _evil_report("text"), 0, ("\\x1b",), raw_free=True),
    Case("escape-codes-report-md", _evil_report("md"), 0, ("\\x1b",), raw_free=True),
    Case("escape-codes-report-json", _evil_report("json"), 0, ("\\u202e", "\\u009b"),
         raw_free=True, full=True),
    Case("escape-codes-file-name", _evil_file_name, 2, ("\\x1b",), raw_free=True),
    Case("escape-codes-lint", lambda f: ["lint-stages", "Думают\x1b]0;x\x07", "Meeting\u202e",
                                         "--lang", "ru"], 0, ("\\x1b", "\\u202e"), raw_free=True),
    Case("escape-codes-lint-json", lambda f: ["lint-stages", "Думают\x9b31m", "Meeting\u202e",
                                              "--format", "json"], 0,
         ("\\u009b", "\\u202e"), raw_free=True),
    # folder links and echoed contents (point 15)
    Case("folder-link-out", _link_out, 2, ("events.csv", "not followed"),
         not_says=("SECRET",)),
    Case("folder-link-inside", _link_inside, 0, (), rejected={"events.csv": 0}),
    Case("folder-link-out-beside-events", _link_out_beside, 0, (), rejected={"events.csv": 0},
         unread=("deals.csv", "private.csv"), not_says=("SECRET",)),
    Case("long-escaped-header", _long_header, 2, ("events.csv",), not_says=("x" * 100,),
         raw_free=True, max_err=1499),
    # credentials (points 12, 13, 17)
    Case("pull-token-line-break", _pull("pipedrive"), 2, ("cannot be sent",), not_says=("abc",),
         env={"VORONKA_PIPEDRIVE_TOKEN": "abc\ndef",
              "VORONKA_PIPEDRIVE_BASE_URL": "http://127.0.0.1:9/", **_CFG}),
    Case("pull-echo-bitrix24", _pull("bitrix24"), 2, ("echo",),
         not_says=(WEBHOOK_SECRET, WEBHOOK_SECRET[:12]), server=400,
         env={"VORONKA_BITRIX24_WEBHOOK": "{server}rest/7/" + WEBHOOK_SECRET + "/", **_CFG}),
    Case("pull-echo-pipedrive-ru", _pull("pipedrive", "ru"), 2, ("echo",),
         not_says=(TOKEN, TOKEN[:12], "Bearer tok"), server=400,
         env={"VORONKA_PIPEDRIVE_TOKEN": TOKEN, "VORONKA_PIPEDRIVE_BASE_URL": "{server}",
              **_CFG}),
    Case("credentials-file-open", _open_credentials, 2, ("chmod 600", "640"),
         not_says=("pat-eu1-abcdef",), server=401,
         env={"VORONKA_HUBSPOT_BASE_URL": "{server}", **_CFG}),
    Case("pull-token-cyrillic", _pull("hubspot"), 2, ("cannot be sent",),
         not_says=("токен",), env={"VORONKA_HUBSPOT_TOKEN": "токен-кириллицей",
                                  "VORONKA_HUBSPOT_BASE_URL": "http://127.0.0.1:9/", **_CFG}),
    # custom pipelines of CRM exports (point 10)
    Case("export-custom-stages", _custom_export, 0,
         ("layouts.custom_stages", "inputs2.order_unchecked_export", "Замер на объекте"),
         {"unknown_stage": 0}, {"amocrm_export.csv": 0}, full=True),
    Case("export-custom-stages-with-stage-list", _custom_export_with_stage_list, 0,
         (), {"unknown_stage": 0}, {"amocrm_export.csv": 0}, not_says=("order_unchecked",)),
    Case("export-custom-stages-bad-stage-list", _custom_export_bad_stage_list, 2,
         ("stages.json", "not a stage list")),
    # Ctrl-C (point 18)
    Case("interrupted", _interrupted, 130, ("Interrupted (Ctrl-C)",), patch=_interrupt),
    # an unreadable file in a folder (point 17), as any user
    Case("unreadable-in-folder", lambda f: _with_backup(f, *JSON_OUT), 0,
         ("inputs2.unreadable_files", "leads_backup.csv (permission denied)"),
         patch=refuse_open("leads_backup.csv"), full=True),
    Case("unreadable-in-folder-strict", lambda f: _with_backup(f, "--strict", "--lang", "en"), 2,
         ("leads_backup.csv", "cannot be read: permission denied"),
         patch=refuse_open("leads_backup.csv")),
]
