"""No English in the Russian report: the demo audited with a plan and rendered with ``--lang ru``
(HTML as a person sees it, Markdown, the terminal) holds no Latin-letter word except

* words of the data itself (file names and paths, column names, stage names and aliases,
  sources, campaigns, managers, lost reasons — whatever the input files hold), and
* a short allow-list of names and abbreviations a Russian head of sales reads as they are.
"""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest

import voronka
from voronka.demo import generate_demo, write_demo
from voronka.report import render, render_text

ALLOWED = {
    "voronka",  # the product
    "CRM", "Excel",  # names everyone uses
    "ROMI", "CAC",  # marketing metrics, written so in Russian too
    "q",  # the q-value column (a statistical symbol)
}
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")


def _visible(page: str) -> str:
    page = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", page)
    return html_lib.unescape(re.sub(r"(?s)<[^>]+>", " ", page))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("ru-demo")
    data = generate_demo(1500, seed=3)
    write_demo(data, folder)
    result = voronka.audit(folder / "events.csv", deals=folder / "deals.csv",
                           spend=folder / "spend.csv", funnel=data.funnel, as_of=data.as_of,
                           plan=12)
    return folder, result


def _data_words(folder: Path) -> set[str]:
    words = set(_WORD.findall(str(folder)))
    for path in folder.iterdir():
        words |= set(_WORD.findall(path.name))
        words |= set(_WORD.findall(path.read_text(encoding="utf-8-sig", errors="replace")))
    return words


def test_the_russian_report_has_no_english_words(demo: tuple[Path, object]) -> None:
    folder, result = demo
    allowed = ALLOWED | _data_words(folder)
    shown = {
        "html": _visible(str(render(result, "html", lang="ru"))),
        "md": str(render(result, "md", lang="ru")),
        "text": render_text(result, lang="ru", width=120),
    }
    english = {fmt: sorted(set(_WORD.findall(text)) - allowed) for fmt, text in shown.items()}
    assert english == {"html": [], "md": [], "text": []}


def test_the_scan_sees_an_english_word(demo: tuple[Path, object]) -> None:
    """The check itself: the English report is full of words the allow-list does not hold."""
    folder, result = demo
    text = _visible(str(render(result, "html", lang="en")))
    assert len(set(_WORD.findall(text)) - ALLOWED - _data_words(folder)) > 50


def test_russian_numbers_have_their_units(demo: tuple[Path, object]) -> None:
    """A percent sign after a (no-break) space, never glued to the number; days as «дн.»."""
    _, result = demo
    for text in (str(render(result, "md", lang="ru")), render_text(result, lang="ru", width=120),
                 _visible(str(render(result, "html", lang="ru")))):
        glued = re.search(r".{0,30}\d%.{0,10}", text)
        assert glued is None, glued.group(0)
        assert "дн." in text
