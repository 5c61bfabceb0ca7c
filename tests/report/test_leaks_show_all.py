"""The HTML leaks table: the ten costliest rows first, the rest behind "show all" (a <details>).

Read as a DOM (stdlib ``html.parser``): which rows sit in the visible table and which in the
collapsed one; the browser test (``test_browser.py``) clicks it open.
"""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser

from sample_result import make_result

from voronka.audit.common import Segment
from voronka.audit.leaks import Leak
from voronka.report import render
from voronka.report.html import LEAKS_SHOWN


class _Tables(HTMLParser):
    """Rows (first cell's text) of every ``table-leaks`` table, with whether it sits inside a
    ``details.show-all`` and whether that one is open; the summaries' texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, object]] = []
        self.summaries: list[str] = []
        self._details: list[dict[str, str | None]] = []
        self._table: dict[str, object] | None = None
        self._cell = -1
        self._in_summary = False
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "details":
            self._details.append(a)
        elif tag == "summary":
            self._in_summary = True
            self.summaries.append("")
        elif tag == "table" and "table-leaks" in (a.get("class") or ""):
            show_all = [d for d in self._details if "show-all" in (d.get("class") or "")]
            self._table = {"rows": [], "hidden": bool(show_all),
                           "open": bool(show_all) and "open" in show_all[-1],
                           "class": a.get("class")}
            self.tables.append(self._table)
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._table is not None and self._in_body:
            self._table["rows"].append("")  # type: ignore[union-attr]
            self._cell = 0
        elif tag == "td" and self._cell >= 0:
            self._cell += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self._details.pop()
        elif tag == "summary":
            self._in_summary = False
        elif tag == "table":
            self._table = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "tr":
            self._cell = -1

    def handle_data(self, data: str) -> None:
        if self._in_summary:
            self.summaries[-1] += data
        if self._table is not None and self._cell == 1:
            rows = self._table["rows"]
            rows[-1] += data.strip()  # type: ignore[index]


def _leaks(stages: int, children_of: int) -> tuple[Leak, ...]:
    """``stages`` stage rows, most costly first; the stage at position ``children_of`` (0-based)
    is followed by two segment rows."""
    out: list[Leak] = []
    for i in range(stages):
        lost = float(100 - i)
        out.append(Leak(f"s{i}", f"s{i + 1}", None, 0.5, 0.6, lost, lost * 1000, True, n=1000))
        if i == children_of:
            for j in range(2):
                out.append(Leak(f"s{i}", f"s{i + 1}", Segment("manager", f"m{j}"), 0.4, 0.6,
                                5.0, 5000.0, True, n=100, parent=f"s{i}"))
    return tuple(out)


def _render(leaks: tuple[Leak, ...], lang: str) -> _Tables:
    result = dataclasses.replace(make_result(), leaks=leaks)
    page = _Tables()
    page.feed(str(render(result, "html", lang=lang)))
    return page


def test_ten_costliest_rows_then_show_all() -> None:
    """14 stage rows: the first ten in the visible table in the audit's order, the other four in
    a closed <details> whose summary says how many there are in all."""
    for lang, word in (("ru", "показать все 14"), ("en", "show all 14")):
        page = _render(_leaks(14, children_of=-1), lang)
        visible = [tb for tb in page.tables if not tb["hidden"]]
        hidden = [tb for tb in page.tables if tb["hidden"]]
        assert len(visible) == 1 and len(hidden) == 1
        assert len(visible[0]["rows"]) == LEAKS_SHOWN == 10  # type: ignore[arg-type]
        assert len(hidden[0]["rows"]) == 4  # type: ignore[arg-type]
        assert not hidden[0]["open"]
        assert any(word in s for s in page.summaries), page.summaries
        first = visible[0]["rows"][0]  # type: ignore[index]
        assert first.startswith("s0")  # the costliest row leads


def test_a_stage_keeps_its_segment_rows_on_the_same_side() -> None:
    """The tenth stage row has two segment rows: they stay in the visible table (12 rows), never
    cut from their stage; nothing is hidden when everything fits; all rows are somewhere."""
    page = _render(_leaks(13, children_of=9), "en")
    visible = next(tb for tb in page.tables if not tb["hidden"])
    hidden = next(tb for tb in page.tables if tb["hidden"])
    assert visible["rows"][-2:] == ["↳", "↳"]  # type: ignore[index]
    assert len(visible["rows"]) == 12 and len(hidden["rows"]) == 3  # type: ignore[arg-type]
    assert hidden["rows"][0] != "↳"  # type: ignore[index]
    small = _render(_leaks(10, children_of=-1), "en")
    assert len(small.tables) == 1 and not any("show all" in s for s in small.summaries)
