"""The real order of a custom pipeline from files (issue 10, point 10): the CRM's own stage list
(the JSON of its API) as ``--funnel`` or beside the export in a folder; and, when the order is
inferred, the output says so and how far the data bears it out."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
from export_fixtures import AMO_HEADERS, amo_row, write_csv  # noqa: E402
from inputs_world import lean_audits  # noqa: E402

import voronka  # noqa: E402
from voronka.api import order_notes  # noqa: E402
from voronka.cli import main  # noqa: E402
from voronka.errors import FunnelError  # noqa: E402
from voronka.funnel import LOST  # noqa: E402
from voronka.i18n import note_text  # noqa: E402
from voronka.io.exports.pipeline_file import (  # noqa: E402
    choose_pipeline,
    read_funnel_file,
    read_pipeline_file,
)

REAL = ("Новая заявка", "Замер на объекте", "Коммерческое предложение", "Выставлен счёт")
WEIGHTS = (30, 8, 12, 20)  # deals now in each stage: not decreasing, so a count-based guess errs
WON, LOST_NAME = "Успешно реализовано", "Закрыто и не реализовано"


def _amo_export(path: Path) -> Path:
    rows, i = [], 0
    for k, w in enumerate(WEIGHTS):
        for _ in range(w):
            rows.append(amo_row(1000 + i, REAL[k], f"{1 + i % 28:02d}.0{1 + i % 6}.2025 10:00:00"))
            i += 1
    for stage, n in ((WON, 10), (LOST_NAME, 15)):
        for _ in range(n):
            rows.append(amo_row(1000 + i, stage, f"{1 + i % 28:02d}.03.2025 10:00:00",
                                f"{1 + i % 28:02d}.04.2025 10:00:00"))
            i += 1
    return write_csv(path, AMO_HEADERS, rows)


def _amo_pipelines(path: Path) -> Path:
    """``GET /api/v4/leads/pipelines`` of an account with two pipelines (crm-apis.md §1.2)."""
    def statuses(pid: int, names: tuple[str, ...]) -> list[dict[str, object]]:
        out: list[dict[str, object]] = [
            {"id": 32392153 + pid, "name": "Неразобранное", "sort": 10, "pipeline_id": pid,
             "type": 1}]
        # listed out of order: ``sort`` is what orders them
        for k, n in reversed(list(enumerate(names))):
            out.append({"id": pid * 100 + k, "name": n, "sort": 20 + 10 * k, "pipeline_id": pid,
                        "type": 0, "is_editable": True})
        out += [{"id": 142, "name": WON, "sort": 10000, "pipeline_id": pid},
                {"id": 143, "name": LOST_NAME, "sort": 11000, "pipeline_id": pid}]
        return out

    body = {"_total_items": 2, "_embedded": {"pipelines": [
        {"id": 1, "name": "Воронка", "sort": 1, "is_main": True,
         "_embedded": {"statuses": statuses(1, ("Первичный контакт", "Переговоры"))}},
        {"id": 7, "name": "Ремонт", "sort": 2, "is_main": False,
         "_embedded": {"statuses": statuses(7, REAL)}},
    ]}}
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return path


def _reach_by_pandas(export: Path) -> list[int]:
    """Snapshot reach by hand: a deal reached every stage up to its current one (won: all)."""
    frame = pd.read_csv(export)
    index = {name: k for k, name in enumerate(REAL)} | {WON: len(REAL)}
    at = frame["Этап сделки"].map(index).dropna()
    return [int((at >= k).sum()) for k in range(len(REAL) + 1)]


def test_the_crms_stage_list_gives_the_real_order(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails before: ``--funnel`` read only TOML, and the export's order was a guess that put
    «Выставлен счёт» (20 deals) before «Замер на объекте» (8)."""
    lean_audits(monkeypatch)  # the funnel and the data-quality notes are what is checked
    export = _amo_export(tmp_path / "amocrm_export.csv")
    guessed = voronka.audit(export, lang="en")
    assert guessed.funnel.origin == "inferred"
    guessed_order = [s.name for s in guessed.funnel.stages]
    assert guessed_order != [*REAL, WON]  # the count-based guess is wrong here
    notes = [note_text(n, "en") or "" for n in guessed.data_quality.notes]
    said = [n for n in notes if n.startswith("Stage order used, a guess")]
    assert len(said) == 1 and " → ".join(guessed_order) in said[0]

    stage_list = _amo_pipelines(tmp_path / "pipelines.json")
    result = voronka.audit(export, funnel=stage_list, lang="en")
    assert result.funnel.origin == "file"
    # pipeline «Ремонт», by sort; its system stage «Неразобранное» first, as `voronka pull` has it
    assert [s.name for s in result.funnel.stages] == ["Неразобранное", *REAL, WON]
    reach = _reach_by_pandas(export)
    assert [s.reached for s in result.funnel.stages] == [reach[0], *reach]
    assert not [i for i in result.data_quality.issues if i.kind == "unknown_stage"]
    joined = " ".join(note_text(n, "en") or "" for n in result.data_quality.notes)
    assert "inferred" not in joined and "a guess" not in joined


def test_a_stage_list_beside_the_export_is_used(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    lean_audits(monkeypatch)
    folder = tmp_path / "crm"
    folder.mkdir()
    export = _amo_export(folder / "amocrm_export.csv")
    _amo_pipelines(folder / "pipelines.json")
    (folder / "notes.json").write_text('{"hello": "not a stage list"}', encoding="utf-8")
    assert main(["audit", str(folder), "--format", "json", "-o", "-", "--lang", "en"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in result["funnel"]["stages"]] == ["Неразобранное", *REAL, WON]
    assert result["funnel"]["origin"] == "file"
    reach = _reach_by_pandas(export)
    assert [s["reached"] for s in result["funnel"]["stages"]] == [reach[0], *reach]


def test_each_crms_stage_list_shape(tmp_path: Path) -> None:
    """Bitrix24 ``crm.status.list`` (unfiltered: lead statuses and two deal pipelines), HubSpot
    ``/crm/v3/pipelines/deals``, Pipedrive ``/api/v2/stages``: the order and the outcomes."""
    bitrix = {"result": [
        {"ID": "1", "ENTITY_ID": "STATUS", "STATUS_ID": "NEW", "NAME": "Лид", "SORT": "10"},
        {"ID": "9", "ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "LOSE", "NAME": "Сделка провалена",
         "SORT": "70", "SEMANTICS": "F"},
        {"ID": "3", "ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "PREPARATION", "NAME": "Замер",
         "SORT": "20", "SEMANTICS": None},
        {"ID": "2", "ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "NEW", "NAME": "Новая",
         "SORT": "10", "SEMANTICS": None},
        {"ID": "8", "ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "WON", "NAME": "Сделка успешна",
         "SORT": "60", "SEMANTICS": "S"},
        {"ID": "10", "ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "APOLOGY", "NAME": "Анализ причин",
         "SORT": "80", "SEMANTICS": "F"},
        {"ID": "11", "ENTITY_ID": "DEAL_STAGE_3", "STATUS_ID": "C3:NEW", "NAME": "Заявка (опт)",
         "SORT": "10", "SEMANTICS": None},
        {"ID": "12", "ENTITY_ID": "DEAL_STAGE_3", "STATUS_ID": "C3:WON", "NAME": "Оплачено",
         "SORT": "50", "SEMANTICS": "S"},
    ], "total": 8}
    path = tmp_path / "bitrix.json"
    path.write_text(json.dumps(bitrix, ensure_ascii=False), encoding="utf-8")
    pipelines = read_pipeline_file(path)
    assert sorted(p.key for p in pipelines) == ["0", "3"]
    main_funnel = read_funnel_file(path)  # nothing to match: the main pipeline
    assert [s.name for s in main_funnel.line] == ["Новая", "Замер", "Сделка успешна"]
    assert set(main_funnel.lost_names) == {"Сделка провалена", "Анализ причин"}
    wholesale = read_funnel_file(path, {"Заявка (опт)": 40, "Оплачено": 5, "Новая": 1})
    assert [s.name for s in wholesale.line] == ["Заявка (опт)", "Оплачено"]

    hubspot = {"results": [{"id": "default", "label": "Sales", "displayOrder": 0, "stages": [
        {"id": "closedlost", "label": "Closed lost", "displayOrder": 6,
         "metadata": {"isClosed": "true", "probability": "0.0"}},
        {"id": "demo", "label": "Demo booked", "displayOrder": 1,
         "metadata": {"isClosed": "false", "probability": "0.3"}},
        {"id": "closedwon", "label": "Closed won", "displayOrder": 5,
         "metadata": {"isClosed": "true", "probability": "1.0"}},
        {"id": "lead", "label": "Inbound lead", "displayOrder": 0,
         "metadata": {"isClosed": "false", "probability": "0.1"}},
    ]}]}
    path = tmp_path / "hubspot.json"
    path.write_text(json.dumps(hubspot), encoding="utf-8")
    funnel = read_funnel_file(path)
    assert [s.name for s in funnel.line] == ["Inbound lead", "Demo booked", "Closed won"]
    assert funnel.match("closed lost") == LOST

    pipedrive = {"success": True, "data": [
        {"id": 3, "name": "Proposal sent", "order_nr": 3, "pipeline_id": 1},
        {"id": 1, "name": "Lead In", "order_nr": 1, "pipeline_id": 1},
        {"id": 2, "name": "Site visit", "order_nr": 2, "pipeline_id": 1},
        {"id": 9, "name": "Old stage", "order_nr": 0, "pipeline_id": 1, "is_deleted": True},
    ]}
    path = tmp_path / "stages.json"
    path.write_text(json.dumps(pipedrive), encoding="utf-8")
    funnel = read_funnel_file(path)
    assert [s.name for s in funnel.line] == ["Lead In", "Site visit", "Proposal sent", "Won"]
    assert funnel.match("Lost") == LOST


@pytest.mark.parametrize("content", ['{"data": [{"id": 1, "name": "x"}]}', "[1, 2", "\x00\x01"])
def test_a_json_that_is_no_stage_list_is_a_clear_error(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pipes.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FunnelError):
        read_pipeline_file(path)
    export = _amo_export(tmp_path / "amocrm_export.csv")
    assert main(["audit", str(export), "--funnel", str(path), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "pipes.json" in err and "Traceback" not in err


def test_choose_pipeline_prefers_the_one_naming_the_data(tmp_path: Path) -> None:
    pipelines = read_pipeline_file(_amo_pipelines(tmp_path / "p.json"))
    assert choose_pipeline(pipelines, {}).name == "Воронка"  # the main one
    assert choose_pipeline(pipelines, {"Замер на объекте": 3, WON: 9}).name == "Ремонт"


def _history(path: Path, against: int) -> tuple[Path, int]:
    """Events of 60 deals along A → B → C → Won (custom names, no template fits); ``against``
    of them go C → B (a move back). Returns the file and the deals entering ≥ 2 open stages."""
    names = ("Заявка принята", "Замер сделан", "Смета согласована", "Деньги получены")
    rows, checked = [], 0
    for d in range(60):
        depth = 1 + d % 4  # stages reached
        path_ = list(range(depth))
        if d < against:
            path_ = [0, 2, 1]  # C before B
        checked += len({k for k in path_ if k < 3}) >= 2
        for step, k in enumerate(path_):
            rows.append((f"d{d}", names[k], f"2025-0{1 + step}-{1 + d % 27:02d}"))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["deal_id", "stage", "entered_at"])
        w.writerows(rows)
    return path, checked


def test_an_inferred_order_says_how_many_deals_contradict_it(tmp_path: Path) -> None:
    path, checked = _history(tmp_path / "events.csv", against=7)
    log = voronka.load(path)
    assert log.funnel is not None and log.funnel.origin == "inferred"
    assert [s.name for s in log.funnel.line] == [
        "Заявка принята", "Замер сделан", "Смета согласована", "Деньги получены"]
    (text,) = [note_text(n, "en") for n in order_notes(log)]
    assert text is not None
    assert f"Of the {checked} deals that entered two or more open stages, 7 (" in text
    assert f"{100 * 7 / checked:.1f}%)" in text
    ru = note_text(order_notes(log)[0], "ru")
    assert ru is not None and f"Из {checked} сделок" in ru and "7 (" in ru
    assert "в другом порядке" in ru


def test_returning_to_an_earlier_stage_is_not_against_the_order(tmp_path: Path) -> None:
    """A web session views, puts in the cart, views again: its first entries follow the order
    (view, then cart), so it does not contradict it (the rees46 sample once read "35 of 35 move
    against this order" for view → cart → purchase)."""
    rows = []
    for d in range(40):
        rows += [(f"s{d}", "view", "2019-10-01 00:00"), (f"s{d}", "cart", "2019-10-01 00:05"),
                 (f"s{d}", "view", "2019-10-01 00:07"), (f"s{d}", "pay", "2019-10-01 00:09")]
    rows += [(f"v{d}", "view", "2019-10-01 00:00") for d in range(40)]
    path = tmp_path / "events.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["deal_id", "stage", "entered_at"])
        w.writerows(rows)
    log = voronka.load(path)
    assert [s.name for s in log.funnel.line] == ["view", "cart", "pay"]
    params = json.loads(order_notes(log)[0].partition(" ")[2])
    assert (params["checked"], params["against"]) == (40, 0)


def test_bpic2012_inferred_order_contradictions_equal_pandas(shared_data: Path) -> None:
    """A real event log (BPI Challenge 2012): the note's counts equal a pandas computation of
    moves back under the order the audit inferred."""
    path = shared_data / "bpic2012-loan-applications" / "bpic2012_application_stage_history.csv"
    log = voronka.load(path)
    funnel = log.funnel
    assert funnel is not None and funnel.origin == "inferred"
    (key,) = order_notes(log)
    params = json.loads(key.partition(" ")[2])

    frame = pd.read_csv(path, dtype=str)
    ids = {s.id: k for k, s in enumerate(funnel.stages)}
    frame["idx"] = [ids.get(m, -1) if (m := funnel.match(n)) != LOST else -1
                    if m is not None else None for n in frame["stage"]]
    frame = frame[frame["idx"].notna()].copy()
    frame["t"] = pd.to_datetime(frame["entered_at"])
    frame["row"] = range(len(frame))
    won = funnel.won_index
    open_ = frame[(frame["idx"] >= 0) & (frame["idx"] < won)]
    # Against the order: a later stage first entered before an earlier one.
    first = open_.groupby(["deal_id", "idx"])["t"].min().reset_index()
    first = first.sort_values(["deal_id", "idx"])
    first["earlier"] = first.groupby("deal_id")["t"].shift()
    against = first.loc[first["earlier"] > first["t"], "deal_id"].nunique()
    checked = int((open_.groupby("deal_id")["idx"].nunique() > 1).sum())
    assert (params["checked"], params["against"]) == (checked, against)
    assert checked > 1000  # a real history checks the order


def test_one_open_stage_has_no_order_to_doubt(shared_data: Path) -> None:
    """Maven (Engaging → Won) and Olist (First contact → Won): nothing to order, no note."""
    maven = shared_data / "maven-crm-sales-opportunities" / "sales_pipeline.csv"
    log = voronka.load(maven)
    assert log.funnel is not None and log.funnel.origin == "inferred"
    assert log.funnel.won_index == 1 and order_notes(log) == ()
