"""The structured funnel editor: form → TOML → the parsed funnel, through the pure conversion and
through the pages; what the form does not edit survives; a lint runs on the form's funnel."""

from __future__ import annotations

import html
import re
import tomllib
from pathlib import Path

import tomli_w

from voronka.funnel import funnel_from_dict, load_funnel
from voronka.web.funnel_form import form_fields, form_to_data, move, submitted_rows

BASE = {
    "name": "Продажи",
    "language": "ru",
    "deal_url": "https://example.amocrm.ru/leads/detail/{deal_id}",
    "key_stage": "meeting",
    "stage": [
        {"id": "new", "name": "Новая заявка", "aliases": ["Заявка", "Лид"], "max_days": 3,
         "benchmark": 0.6, "key_task": "Позвонить"},
        {"id": "meeting", "name": "Встреча", "max_days": 14.5, "benchmark": 0.35,
         "requires": ["meeting_at"], "names": {"en": "Meeting"}, "entry": "meeting_at"},
        {"id": "invoice", "name": "Счёт выставлен", "benchmark": 0.123456789},
        {"id": "won", "name": "Оплачено"},
    ],
    "outcomes": {"won": "won", "lost": ["Отказ", "Не дозвонились"]},
}


def _parsed(data: dict) -> object:
    return funnel_from_dict(tomllib.loads(tomli_w.dumps(data)), file="funnel.toml")


def test_an_unchanged_form_gives_back_the_same_funnel() -> None:
    fields = form_fields(BASE)
    assert fields["stage-2-benchmark"] == "12.3456789" and fields["stage-0-aliases"] == "Заявка, Лид"
    data = form_to_data(fields, BASE)
    assert _parsed(data) == _parsed(BASE)
    assert data["deal_url"] == BASE["deal_url"]  # not on the form, kept


def test_edits_on_the_form_are_the_funnel_file() -> None:
    fields = form_fields(BASE)
    rows = move(submitted_rows(fields), "up:invoice")  # invoice before meeting
    assert [r["id"] for r in rows] == ["new", "invoice", "meeting", "won"]
    assert move(rows, "up:new") == rows and move(rows, "down:won") == rows
    edited = {k: v for k, v in fields.items() if not k.startswith("stage-")}
    edited["stages"] = str(len(rows))
    for i, row in enumerate(rows):
        edited.update({f"stage-{i}-{k}": v for k, v in row.items()})
    edited.update({
        "stage-1-benchmark": "42,5", "stage-1-max_days": "7", "stage-0-aliases": "Лид",
        "stage-2-key_task": "Провести демо", "key_stage": "invoice",
        "lost": "Отказ\nДорого\n", "stage-4-name": "Договор",  # the blank row adds a stage
        "stage-3-remove": "",
    })
    funnel = _parsed(form_to_data(edited, BASE))
    assert [s.id for s in funnel.stages][:4] == ["new", "invoice", "meeting", "won"]
    assert len(funnel.stages) == 5 and funnel.stages[4].name == "Договор"
    invoice = funnel.stages[1]
    assert (invoice.benchmark, invoice.max_days) == (0.425, 7)
    assert funnel.stages[0].aliases == ("Лид",)
    meeting = funnel.stages[2]
    assert meeting.key_task == "Провести демо"
    assert (meeting.requires, dict(meeting.names), meeting.entry) == (
        ("meeting_at",), {"en": "Meeting"}, "meeting_at")  # kept by id across the move
    assert funnel.key_stage == "invoice" and funnel.won_stage == "won"
    assert funnel.lost_names == ("Отказ", "Дорого")
    removed = dict(edited, **{"stage-2-remove": "1"})
    assert [s.id for s in _parsed(form_to_data(removed, BASE)).stages][:3] == [
        "new", "invoice", "won"]


def test_a_bad_number_is_refused_with_the_stage_named() -> None:
    import pytest

    from voronka.errors import InputError

    fields = dict(form_fields(BASE), **{"stage-1-benchmark": "много"})
    with pytest.raises(InputError, match="Встреча"):
        form_to_data(fields, BASE)
    with pytest.raises(InputError, match="0 and 100"):
        form_to_data(dict(form_fields(BASE), **{"stage-1-benchmark": "140"}), BASE)


def _fields_of(page: str) -> dict[str, str]:
    """What a browser would post from the form page (inputs, checked radios, textareas)."""
    form = page.split('id="funnel-form"', 1)[1].split("</form>", 1)[0]
    out: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name:
            continue
        kind = re.search(r'type="(\w+)"', tag)
        if kind and kind.group(1) in ("radio", "checkbox") and " checked" not in tag:
            continue
        out[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        out[name] = html.unescape(body)
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        out[name] = chosen.group(1) if chosen else ""
    return out


def test_the_form_pages_save_the_file_the_cli_reads(client, demo_id, tmp_path: Path) -> None:
    page = client.get(f"/d/{demo_id}/funnel/form")
    assert page.status_code == 200 and 'id="funnel-stages"' in page.text
    assert 'id="lint-table"' in page.text  # the same lint as the text editor, inline
    fields = _fields_of(page.text)
    ids = [fields[f"stage-{i}-id"] for i in range(int(fields["stages"]))]
    moved = client.post(f"/d/{demo_id}/funnel/form", data={**fields, "action": f"down:{ids[0]}"})
    assert moved.status_code == 200
    fields = _fields_of(moved.text)
    assert [fields[f"stage-{i}-id"] for i in range(len(ids))][:2] == [ids[1], ids[0]]
    lint = client.post(f"/d/{demo_id}/funnel/form",
                       data={**fields, "stage-0-name": "Думают", "action": "lint"})
    assert "Думают" in lint.text and "<form" not in lint.text
    fields["stage-1-benchmark"] = "37.5"
    bad = client.post(f"/d/{demo_id}/funnel/form", data={**fields, "stage-1-max_days": "x"})
    assert bad.status_code == 400 and 'id="funnel-error"' in bad.text
    saved = client.post(f"/d/{demo_id}/funnel/form", data={**fields, "action": "save"},
                        follow_redirects=False)
    assert saved.status_code == 303, saved.text
    text_page = client.get(f"/d/{demo_id}/funnel").text
    text = html.unescape(text_page.split('id="funnel-text"', 1)[1].split(">", 1)[1]
                         .split("</textarea>")[0])
    (tmp_path / "funnel.toml").write_text(text, encoding="utf-8")
    funnel = load_funnel(tmp_path / "funnel.toml")  # what `voronka audit --funnel` reads
    assert [s.id for s in funnel.stages][:2] == [ids[1], ids[0]]
    assert funnel.stages[1].benchmark == 0.375
    audit = client.get(f"/api/v1/datasets/{demo_id}/audit").json()
    assert [s["id"] for s in audit["funnel"]["stages"]][:2] == [ids[1], ids[0]]
