"""The funnel model: TOML loading, templates, name matching, inference."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from voronka.errors import FunnelError
from voronka.funnel import (
    LOST,
    TEMPLATE_IDS,
    StageNameStats,
    choose_template,
    funnel_from_dict,
    infer_funnel,
    load_funnel,
    load_template,
    normalize_stage_name,
    save_funnel,
)

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"

CONTRACT_EXAMPLE = """
name = "B2B: производство на заказ"
language = "ru"

[[stage]]
id = "new"
name = "Новая заявка"

[[stage]]
id = "meeting_scheduled"
name = "Встреча назначена"
aliases = ["Назначена встреча", "Meeting scheduled"]
key_task = "Провести встречу с клиентом"
max_days = 7
requires = ["meeting_at", "meeting_place"]
benchmark = 0.6

[[stage]]
id = "paid"
name = "Оплачено"

[outcomes]
won = "paid"
lost = ["Закрыто и не реализовано", "Closed lost"]
"""


def test_contract_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "funnel.toml"
    path.write_text(CONTRACT_EXAMPLE, encoding="utf-8")
    funnel = load_funnel(path)
    assert funnel.stage_ids == ("new", "meeting_scheduled", "paid")
    stage = funnel.stage("meeting_scheduled")
    assert stage.max_days == 7 and stage.benchmark == 0.6
    assert stage.requires == ("meeting_at", "meeting_place")
    assert funnel.won_stage == "paid" and funnel.language == "ru"
    assert funnel.match("meeting SCHEDULED") == "meeting_scheduled"
    assert funnel.match("closed  lost") == LOST
    assert funnel.match("Думают") is None


def test_round_trip_through_toml(tmp_path: Path) -> None:
    funnel = load_template("reference")
    save_funnel(funnel, tmp_path / "f.toml")
    again = load_funnel(tmp_path / "f.toml")
    assert again.stages == funnel.stages
    assert again.lost_names == funnel.lost_names and again.won_stage == funnel.won_stage


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name = 'x'", "no [[stage]]"),
        ("[[stage]]\nid='a'\n[[stage]]\nid='a'", "duplicate stage ids"),
        ("[[stage]]\nid='a'\n[outcomes]\nwon='b'", "won stage 'b'"),
        ("[[stage]]\nid='a'\nbenchmark=1.5", "not a fraction"),
        ("[[stage]]\nid='a'\nmax_days='x'", "expected a number"),
        ("[[stage]]\nid='a'\ncolour='red'", "unknown key"),
        ("[[stage]\nid='a'", "not a valid TOML"),
        ("[[stage]]\nid='a'\naliases=['X']\n[[stage]]\nid='b'\naliases=['x']", "matches both"),
    ],
)
def test_malformed_funnel_names_file_and_problem(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FunnelError) as info:
        load_funnel(path)
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_missing_funnel_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(FunnelError, match="does not exist"):
        load_funnel(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("  Встреча   НАЗНАЧЕНА ", "встреча назначена"),
        ("Счёт отправлен", "счет отправлен"),
        ("Cчет на предоплату", "счет на предоплату"),  # Latin C, as in Bitrix24's docs
        ("«Думают»", "думают"),
        ("Closed Won", "closed won"),
        ("Closed\u00a0Won", "closed won"),
    ],
)
def test_normalize_stage_name(raw: str, key: str) -> None:
    assert normalize_stage_name(raw) == key


def test_english_names_keep_latin_letters() -> None:
    assert normalize_stage_name("Contact Made") == "contact made"


def test_reference_template_is_the_method_funnel() -> None:
    funnel = load_template("reference")
    assert len(funnel.stages) == 11
    assert funnel.stages[0].name == "Новая заявка" and funnel.won_stage == "paid"
    assert all(s.key_task and s.key_task_in("en") for s in funnel.stages)
    assert funnel.match("Meeting scheduled") == "meeting_scheduled"  # English alias
    assert funnel.stage("meeting_scheduled").display_name("en") == "Meeting scheduled"


def test_generic_template_has_four_steps() -> None:
    assert load_template("generic").stage_ids == ("awareness", "interest", "desire", "purchase")


@pytest.mark.shared
@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data is absent")
@pytest.mark.parametrize(("crm", "template"), [("amoCRM", "amocrm"), ("Bitrix24", "bitrix24"),
                                                ("HubSpot", "hubspot")])
def test_crm_default_stage_names_match_their_template(crm: str, template: str) -> None:
    """Every default stage label of the CRM (as its docs spell it) maps to a stage or to lost."""
    funnel = load_template(template)
    with open(SHARED / "crm-stage-names" / "stage_names.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["crm"] == crm]
    assert rows
    for row in rows:
        found = funnel.match(row["label"])
        if row["semantics"] == "lost":
            assert found == LOST, row["label"]
        else:
            assert found is not None and found != LOST, row["label"]
        if row["semantics"] == "won":
            assert found == funnel.won_stage


def test_choose_template_by_share_of_events() -> None:
    counts = {"Новая": 500, "Подготовка документов": 300, "Cчет на предоплату": 200,
              "Сделка успешна": 100, "Сделка провалена": 150}
    chosen = choose_template(counts)
    assert chosen is not None and chosen.template == "bitrix24" and chosen.origin == "template"


def test_choose_template_none_when_names_are_foreign() -> None:
    assert choose_template({"Alpha": 10, "Beta": 5, "Gamma": 1}) is None


def test_infer_orders_by_position_and_sets_outcomes() -> None:
    stats = [
        StageNameStats("Договор", 40, 0.7, 0.1),
        StageNameStats("Заявка", 100, 0.0, 0.05),
        StageNameStats("Отказ клиента", 30, 0.9, 1.0),
        StageNameStats("Звонок", 80, 0.3, 0.1),
        StageNameStats("Оплачено", 20, 0.95, 1.0),
    ]
    funnel = infer_funnel(stats)
    assert funnel.origin == "inferred"
    assert [s.name for s in funnel.stages] == ["Заявка", "Звонок", "Договор", "Оплачено"]
    assert funnel.won_stage == funnel.stages[-1].id
    assert funnel.match("Отказ клиента") == LOST


def test_all_templates_load() -> None:
    for tid in TEMPLATE_IDS:
        funnel = load_template(tid)
        assert funnel.template == tid and funnel.won_stage == funnel.stages[-1].id


def test_funnel_from_dict_slugs_missing_ids() -> None:
    funnel = funnel_from_dict({"stage": [{"name": "Lead in"}, {"name": "Won deal"}]})
    assert funnel.stage_ids == ("lead_in", "won_deal")
