"""The events a layout makes from a file that holds none of its own are named one way
(:data:`voronka.io.result.DERIVED_EVENTS`, ``<file>#events``) by each of the three layouts that
make them — a file of one row per deal, a CRM export, a series of snapshots — and a report names
them in words in both languages, never with the suffix (the JSON keeps the name)."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_fixtures import AMO_HEADERS, AMO_ROWS, write_csv
from test_layouts import MAVEN_MAP, maven_like
from test_snapshots import _three_amo_snapshots

import voronka
from voronka.i18n import t
from voronka.io.inputs import open_inputs
from voronka.io.result import DERIVED_EVENTS, derived_events_name, derived_from
from voronka.io.snapshots import read_snapshots
from voronka.report import render
from voronka.report.tabulate import shown_file

WORDS = {"en": "{file} (the events made from it)", "ru": "{file} (события, составленные из него)"}


def _made_events(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """Layout → (the name of the events it made, what they were made from)."""
    per_deal = tmp_path / "sales_pipeline.csv"
    maven_like(60).to_csv(per_deal, index=False)
    export = write_csv(tmp_path / "amo.csv", AMO_HEADERS, AMO_ROWS, delimiter=";")
    (tmp_path / "series").mkdir()
    snapshots = _three_amo_snapshots(tmp_path / "series")
    return {
        "one row per deal": (open_inputs(per_deal, column_map=MAVEN_MAP).events.file,
                             str(per_deal)),
        "CRM export": (open_inputs(export).events.file, str(export)),
        "snapshots": (read_snapshots(snapshots).events.file,
                      f"{snapshots[0]} … {snapshots[-1]}"),
    }


def test_every_layout_names_its_events_one_way(tmp_path: Path) -> None:
    for layout, (name, source) in _made_events(tmp_path).items():
        assert name == derived_events_name(source) == source + DERIVED_EVENTS, layout
        assert derived_from(name) == source, layout
    assert derived_from(str(tmp_path / "events.csv")) is None  # a file of events of its own
    assert derived_from(DERIVED_EVENTS) is None  # the suffix alone names no file


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_report_names_the_made_events_in_words(tmp_path: Path, lang: str) -> None:
    for layout, (name, source) in _made_events(tmp_path).items():
        shown = shown_file(name, lang)
        base = Path(source).name  # a report shows no folders
        assert shown == t("report.file.derived_events", lang, file=base), layout
        assert shown == WORDS[lang].format(file=base), layout
        assert shown is not None and DERIVED_EVENTS not in shown, layout
    assert shown_file(str(tmp_path / "deals.csv"), lang) == "deals.csv"


def test_an_audit_of_one_row_per_deal_names_its_events_in_words(tmp_path: Path) -> None:
    """End to end: the rows rejected from the made events (deals without a date) are counted
    under the made events' name, which the Markdown report gives in words in both languages."""
    path = tmp_path / "sales_pipeline.csv"
    frame = maven_like(120)
    frame.to_csv(path, index=False)
    result = voronka.audit(path, column_map=MAVEN_MAP, lang="en")
    name = derived_events_name(str(path))
    assert result.data_quality.rows_rejected[name] == int((frame["deal_stage"] == "Prospecting").sum())
    for lang in ("en", "ru"):
        shown = str(render(result, "md", lang=lang))
        assert WORDS[lang].format(file="sales\\_pipeline.csv") in shown, lang
        assert DERIVED_EVENTS not in shown, lang
    assert name in str(render(result, "json"))
