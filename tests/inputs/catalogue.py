"""The catalogue of hostile inputs (issue 10): each case builds its input files in a temporary
folder and says what ``voronka`` must do with them — the exit status, a fragment of the message
(naming the file, row or column at fault), and what is counted where in the data-quality section.

The cases are generated, not checked in: a small world (:mod:`inputs_world`) with one quirk
planted. ``test_catalogue.py`` runs every case through the command line.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from catalogue_b import CASES_B
from catalogue_case import Build, Case
from inputs_world import FUNNEL, World, make_world, write_rows

_WORLD = make_world(n=40, seed=3)


def world() -> World:
    """A fresh copy of the catalogue's small world (40 deals)."""
    return World(events=[dict(e) for e in _WORLD.events], deals=[dict(d) for d in _WORLD.deals])


def audit_args(p: dict[str, Path], *extra: str) -> list[str]:
    return ["audit", str(p["events"]), "--deals", str(p["deals"]), "--funnel", str(p["funnel"]),
            "--format", "json", "-o", "-", "--lang", "en", *extra]


def planted(edit: Callable[[World], Any], *extra: str) -> Build:
    """A build that edits the world's rows, writes it and audits it."""
    def build(folder: Path) -> list[str]:
        w = world()
        edit(w)
        return audit_args(w.write(folder), *extra)
    return build


def with_file(name: str, content: bytes | Callable[[Path], None], *extra: str,
              replace: str = "events") -> Build:
    """A build whose ``replace`` input is the given bytes (or written by a function)."""
    def build(folder: Path) -> list[str]:
        p = world().write(folder)
        target = folder / name
        if callable(content):
            content(target)
        else:
            target.write_bytes(content)
        p[replace] = target
        return audit_args(p, *extra)
    return build


def funnel_text(text: str) -> Build:
    def build(folder: Path) -> list[str]:
        p = world().write(folder)
        p["funnel"].write_text(text, encoding="utf-8")
        return audit_args(p)
    return build


def cli(args: Callable[[Path], list[str]]) -> Build:
    return args


def _deal(w: World, status: str, k: int = 0) -> dict[str, Any]:
    return [d for d in w.deals if d["status"] == status][k]


def _set_amount(value: str) -> Callable[[World], None]:
    def edit(w: World) -> None:
        _deal(w, "won")["amount"] = value
    return edit


def _set_deal(column: str, value: str, status: str = "open") -> Callable[[World], None]:
    def edit(w: World) -> None:
        _deal(w, status)[column] = value
    return edit


def _set_event(column: str, value: str, index: int = 2) -> Callable[[World], None]:
    def edit(w: World) -> None:
        w.events[index][column] = value
    return edit


def _events_text(w: World) -> str:
    lines = ["deal_id,stage,entered_at"]
    lines += [f"{e['deal_id']},{e['stage']},{e['entered_at']}" for e in w.events]
    return "\n".join(lines) + "\n"


def _encoded(encoding: str, newline: str = "\n") -> bytes:
    ru = {"Lead": "Лид", "Qualified": "Квал", "Proposal": "КП", "Won": "Успех", "Lost": "Отказ"}
    w = world()
    lines = ["ID сделки,Этап,Дата"]
    lines += [f"{e['deal_id']},{ru[e['stage']]},{e['entered_at']}" for e in w.events]
    return (newline.join(lines) + newline).encode(encoding)


def _ru_funnel(folder: Path) -> Path:
    path = folder / "funnel_ru.toml"
    text = FUNNEL
    for en, ru in {"Lead": "Лид", "Qualified": "Квал", "Proposal": "КП", "Won": "Успех",
                   "Lost": "Отказ"}.items():
        text = text.replace(f'"{en}"', f'"{ru}"')
    path.write_text(text, encoding="utf-8")
    return path


def ru_events(content: Callable[[], bytes]) -> Build:
    def build(folder: Path) -> list[str]:
        p = world().write(folder)
        p["events"].write_bytes(content())
        p["funnel"] = _ru_funnel(folder)
        return audit_args(p)
    return build


def _mixed(first: str, second: str) -> bytes:
    utf = _encoded("utf-8").split(b"\n")
    cut = len(utf) // 3
    head = b"\n".join(utf[:cut]) + b"\n"
    rest = "\n".join(x.decode("utf-8") for x in utf[cut:]).encode(second)
    return head.decode("utf-8").encode(first) + rest


def _parquet_ids(ids: list[Any]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        w = world()
        deals = w.deals[: len(ids)]
        pq.write_table(pa.table({
            "deal_id": pa.array(ids, pa.float64()),
            "status": [d["status"] for d in deals],
        }), path)
    return write


def _spend(rows: list[dict[str, Any]]) -> Build:
    def build(folder: Path) -> list[str]:
        p = world().write(folder)
        write_rows(folder / "spend.csv", rows)
        return audit_args(p, "--spend", str(folder / "spend.csv"))
    return build


def _gz(truncate: bool) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        data = gzip.compress(_events_text(world()).encode("utf-8"))
        path.write_bytes(data[: len(data) // 2] if truncate else data)
    return write


def _dup_stage_columns(path: Path) -> None:
    w = world()
    lines = ["deal_id,Этап,Stage,entered_at"]
    lines += [f"{e['deal_id']},,{e['stage']},{e['entered_at']}" for e in w.events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _rename_stages(mapping: dict[str, str]) -> Callable[[World], None]:
    def edit(w: World) -> None:
        for e in w.events:
            e["stage"] = mapping.get(e["stage"], e["stage"])
    return edit


def _all_dates(value: str) -> Callable[[World], None]:
    def edit(w: World) -> None:
        for e in w.events:
            e["entered_at"] = value
    return edit


def _late_event(w: World) -> None:
    d = next(d for d in w.deals if d["status"] == "lost")
    late = datetime.strptime(d["closed_at"], "%Y-%m-%d %H:%M") + timedelta(days=20)
    w.events.append({"deal_id": d["deal_id"], "stage": "Proposal",
                     "entered_at": late.strftime("%Y-%m-%d %H:%M")})


def _future_event(w: World) -> None:
    w.events.append({"deal_id": _deal(w, "open")["deal_id"], "stage": "Proposal",
                     "entered_at": "2099-05-01 10:00"})


def _zoned(w: World) -> None:
    for e in w.events:
        e["entered_at"] = e["entered_at"].replace(" ", "T") + ":00+03:00"


def _extra_field(w: World) -> None:
    w.events[4]["stage"] = "Lead,extra,fields"


def _lint(content: bytes | None, path: str | None = None) -> Build:
    def build(folder: Path) -> list[str]:
        target = folder / "names.txt"
        if content is not None:
            target.write_bytes(content)
        return ["lint-stages", "--file", path or str(target), "--lang", "en"]
    return build


def _output(target: Callable[[Path], str]) -> Build:
    def build(folder: Path) -> list[str]:
        p = world().write(folder)
        return [*audit_args(p)[:-4], "-o", target(folder), "--lang", "en"]
    return build


def _wide(columns: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        w = world()
        extra = [f"custom_field_{i}" for i in range(columns)]
        lines = [",".join(["deal_id", "stage", "entered_at", *extra])]
        filler = ",".join("x" for _ in extra)
        lines += [f"{e['deal_id']},{e['stage']},{e['entered_at']},{filler}" for e in w.events[:30]]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return write


def _make_dir_file(folder: Path) -> list[str]:
    target = folder / "taken"
    target.write_text("a file, not a folder", encoding="utf-8")
    return ["demo", str(target), "--deals", "200", "--lang", "en"]


AMOUNTS = {
    "nan": "field_not_finite", "NaN": "field_not_finite", "inf": "field_not_finite",
    "-inf": "field_not_finite", "Infinity": "field_not_finite", "1e30": "field_implausible_number",
    "1e308": "field_implausible_number", "1e15": "field_implausible_number",
    "abc": "field_bad_number", "1.2.3e": "field_bad_number", "--5": "field_bad_number",
    "12 руб 50 коп": "field_bad_number",
}

CASES: list[Case] = [
    *(Case(f"amount-{v}", planted(_set_amount(v)), 0, (v,), {k: 1}, {"deals.csv": 0},
           full=v == "nan") for v, k in AMOUNTS.items()),
    *(Case(f"created-{v}", planted(_set_deal("created_at", v)), 0, (v,), {"field_bad_date": 1},
           {"deals.csv": 0}, full=v == "yesterday")
      for v in ("31.02.2025", "2025-13-01", "yesterday", "00.00.0000", "2025-02-30 25:61")),
    Case("closed-bad", planted(_set_deal("closed_at", "never", "lost")), 0, ("never",),
         {"field_bad_date": 1}, {"deals.csv": 0}),
    *(Case(f"status-{v}", planted(_set_deal("status", v)), 0, (v,), {"field_bad_status": 1},
           {"deals.csv": 0}, full=v == "maybe") for v in ("maybe", "???", "может быть")),
    *(Case(f"entered-{v or 'empty'}", planted(_set_event("entered_at", v)), 0,
           ("row 3",), {"missing_value" if not v else "bad_date": 1}, {"events.csv": 1},
           full=not v) for v in ("31.02.2025", "вчера", "2025-01-01 25:61", "")),
    Case("stage-empty", planted(_set_event("stage", "")), 0, ("row 3", "stage"),
         {"missing_value": 1}, {"events.csv": 1}),
    Case("id-empty", planted(_set_event("deal_id", "")), 0, ("row 3",), {"missing_value": 1},
         {"events.csv": 1}),
    Case("id-nul", planted(_set_event("deal_id", "7\x00")), 0, ("row 3",), {"bad_id": 1},
         {"events.csv": 1}, full=True),
    Case("id-control", planted(_set_event("deal_id", "7\x01")), 0, ("row 3",), {"bad_id": 1},
         {"events.csv": 1}),
    Case("id-spaces", planted(_set_event("deal_id", "   ")), 0, ("row 3",), {"missing_value": 1},
         {"events.csv": 1}),
    Case("parquet-nan-ids", with_file("deals.parquet", _parquet_ids([1.0, 2.0, float("nan"), 4.0]),
                                      replace="deals"), 0, (), {"missing_value": 1},
         {"deals.parquet": 1}, full=True),
    Case("unknown-stage", planted(_set_event("stage", "Lead!!", 0)), 0, ("Lead!!",),
         {"unknown_stage": 1}, {"events.csv": 1}),
    Case("stage-markup", planted(_rename_stages({"Lead": "Lead :x: [bold]"})), 0,
         (":x:", "[bold]"), {}, full=True),
    Case("event-after-close", planted(_late_event), 0, (), {"after_close": 1},
         {"events.csv": 1}),
    Case("event-in-2099", planted(_future_event), 0, ("2099",), {"after_data_end": 1},
         {"events.csv": 1}, full=True),
    Case("offsets-and-naive", planted(_zoned), 0, ("inputs.note.time_zone",),
         {"event_before_created": 0}, full=True),
    Case("extra-fields", planted(_extra_field), 0, (), {"bad_row": 1}, {"events.csv": 1}),
    Case("utf8-bom", ru_events(lambda: _encoded("utf-8-sig")), 0, (), {}, {"events.csv": 0}),
    Case("cp1251", ru_events(lambda: _encoded("cp1251")), 0, (), {}, {"events.csv": 0}),
    Case("utf16", ru_events(lambda: _encoded("utf-16")), 0, (), {}, {"events.csv": 0}),
    Case("mixed-utf8-then-1251", ru_events(lambda: _mixed("utf-8", "cp1251")), 0,
         ("inputs.note.mixed_encoding",), {}, {"events.csv": 0}),
    Case("mixed-1251-then-utf8", ru_events(lambda: _mixed("cp1251", "utf-8")), 0,
         ("inputs.note.mixed_encoding",), {}, {"events.csv": 0}, full=True),
    Case("crlf", ru_events(lambda: _encoded("utf-8", "\r\n")), 0, (), {}, {"events.csv": 0}),
    Case("cr-only", ru_events(lambda: _encoded("utf-8", "\r")), 0, (), {}, {"events.csv": 0}),
    *(Case(f"delimiter-{name}", with_file("events.csv",
                                          _events_text(world()).replace(",", d).encode()),
           0, (), {}, {"events.csv": 0})
      for name, d in (("semicolon", ";"), ("tab", "\t"), ("pipe", "|"))),
    Case("gz", with_file("events.csv.gz", _gz(False)), 0, (), {}, {"events.csv.gz": 0}, full=True),
    Case("gz-truncated", with_file("events.csv.gz", _gz(True)), 2, ("events.csv.gz",)),
    Case("empty-file", with_file("events.csv", b""), 2, ("events.csv", "empty")),
    Case("header-only", with_file("events.csv", b"deal_id,stage,entered_at\n"), 2,
         ("events.csv", "no data rows")),
    Case("blank-lines-only", with_file("events.csv", b"\n\n\n"), 2, ("events.csv",)),
    Case("missing-file", lambda f: ["audit", str(f / "nope.csv"), "--lang", "en"], 2,
         ("nope.csv",)),
    Case("binary-nul", with_file("events.csv", bytes(range(256)) * 40), 2, ("events.csv",)),
    Case("binary-no-nul", with_file("events.csv", bytes(range(1, 256)) * 40), 2,
         ("events.csv",)),
    Case("png", with_file("events.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(1, 200)) * 10), 2,
         ("events.csv",)),
    Case("fake-xlsx", with_file("events.xlsx", b"PK\x03\x04" + b"junk" * 100), 2,
         ("events.xlsx",)),
    Case("fake-parquet", with_file("events.parquet", b"PAR1" + b"junk" * 100), 2,
         ("events.parquet",)),
    Case("no-entered-column", with_file("events.csv", b"deal_id,stage\n1,Lead\n"), 2,
         ("entered_at", "events.csv")),
    Case("both-stage-columns", with_file("events.csv", _dup_stage_columns), 0, (),
         {}, {"events.csv": 0}, full=True),
    Case("map-missing-header", planted(lambda w: None, "--map", "stage=Этап"), 2,
         ("Этап", "--map")),
    Case("map-required-absent", planted(lambda w: None, "--map", "deal_id=Nope"), 2,
         ("Nope",)),
    Case("zero-usable-events", planted(_rename_stages({s: "?" + s for s in
                                                       ("Lead", "Qualified", "Proposal", "Won",
                                                        "Lost")})), 2,
         ("events.csv", "no event")),
    Case("all-dates-bad", planted(_all_dates("когда-то")), 2, ("events.csv",)),
    Case("funnel-typo-wonn", funnel_text(FUNNEL.replace("won = ", "wonn = ")), 2,
         ("wonn", "did you mean 'won'")),
    Case("funnel-unknown-top", funnel_text("nmae = 'x'\n" + FUNNEL), 2, ("nmae", "'name'")),
    Case("funnel-unknown-stage-key", funnel_text(FUNNEL.replace('name = "Lead"',
                                                                'name = "Lead"\nalias = ["L"]')),
         2, ("alias", "'aliases'")),
    Case("funnel-aliases-string", funnel_text(FUNNEL.replace('name = "Lead"',
                                                             'name = "Lead"\naliases = "L"')),
         2, ("aliases", "list")),
    Case("funnel-max-days-negative", funnel_text(FUNNEL.replace('name = "Lead"',
                                                                'name = "Lead"\nmax_days = -5')),
         2, ("max_days", "positive")),
    Case("funnel-won-first", funnel_text(FUNNEL.replace('won = "won"', 'won = "lead"')), 2,
         ("first stage",)),
    Case("funnel-won-lost", funnel_text(FUNNEL.replace('lost = ["Lost"]', 'lost = ["Lost", "Won"]')),
         2, ("won stage", "lost")),
    Case("funnel-not-toml", funnel_text("[[stage]\nname="), 2, ("funnel.toml", "TOML")),
    Case("funnel-no-stages", funnel_text("name = 'x'\n"), 2, ("stage",)),
    Case("plan-negative", planted(lambda w: None, "--plan", "-5"), 2, ("--plan",)),
    Case("plan-revenue-negative", planted(lambda w: None, "--plan-revenue", "-1"), 2,
         ("--plan-revenue",)),
    Case("as-of-1900", planted(lambda w: None, "--as-of", "1900-01-01"), 2, ("--as-of",)),
    Case("as-of-9999", planted(lambda w: None, "--as-of", "9999-12-31"), 2, ("--as-of",)),
    Case("as-of-garbage", planted(lambda w: None, "--as-of", "soon"), 2, ("--as-of",)),
    Case("format-bogus", planted(lambda w: None, "--format", "pdf"), 2, ("pdf",)),
    Case("by-unknown", planted(lambda w: None, "--by", "no_such_column"), 2,
         ("no_such_column",)),
    Case("out-folder", _output(lambda f: str(f)), 2, ("folder",)),
    Case("out-dev-full", _output(lambda f: "/dev/full"), 2, ("/dev/full",)),
    Case("out-uncreatable", _output(lambda f: "/proc/voronka/x/report.json"), 2,
         ("/proc/voronka",)),
    Case("out-is-input", _output(lambda f: str(f / "events.csv")), 2, ("events.csv", "input")),
    Case("spend-no-campaign", _spend([{"source": "ads", "month": "2025-01", "cost": 100}]), 0,
         (), {}, {"spend.csv": 0}),
    Case("spend-inf-cost", _spend([{"source": "ads", "month": "2025-01", "cost": "inf"},
                                   {"source": "seo", "month": "2025-01", "cost": 5}]), 0,
         ("inf",), {"not_finite": 1}, {"spend.csv": 1}, full=True),
    Case("spend-bad-month", _spend([{"source": "ads", "month": "2025-13", "cost": 1},
                                    {"source": "seo", "month": "2025-01", "cost": 5}]), 0,
         ("2025-13",), {"bad_month": 1}, {"spend.csv": 1}),
    Case("spend-no-cost", _spend([{"source": "ads", "month": "2025-01"}]), 2,
         ("spend.csv", "cost")),
    Case("wide-3000-columns", with_file("events.csv", _wide(3000)), 0, (), {},
         {"events.csv": 0}, full=True),
    Case("lint-1251", _lint("Думают\nВстреча назначена\n".encode("cp1251")), 0, ()),
    Case("lint-binary", _lint(bytes(range(256)) * 20), 2, ("names.txt",)),
    Case("lint-dev-zero", _lint(None, "/dev/zero"), 2, ("/dev/zero",)),
    Case("lint-missing", _lint(None, "/nonexistent/names.txt"), 2, ("names.txt",)),
    Case("demo-zero-deals", lambda f: ["demo", str(f / "d"), "--deals", "0", "--lang", "en"], 2,
         ("--deals",)),
    Case("demo-dir-is-file", _make_dir_file, 2, ("taken",)),
]

CASES += CASES_B
