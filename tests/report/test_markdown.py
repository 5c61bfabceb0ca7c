"""The Markdown report: pipe tables with a consistent shape, input text escaped."""

from __future__ import annotations

import re

from voronka.audit import AuditResult
from voronka.report import render
from voronka.report.markdown import escape_md

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _tables(text: str) -> list[list[str]]:
    tables: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def test_markdown_tables_are_well_formed(result: AuditResult) -> None:
    text = render(result, "md", lang="en")
    assert isinstance(text, str)
    tables = _tables(text)
    assert len(tables) >= 6
    for table in tables:
        widths = {len(_UNESCAPED_PIPE.findall(line)) for line in table}
        assert len(widths) == 1, table[0]  # every row has as many cells as the header
        assert re.fullmatch(r"\|(-{3}:?\|)+", table[1].replace("---:", "---:")), table[1]
        assert len(table) >= 3  # header, rule, at least one row


def test_markdown_sections_and_findings(result: AuditResult) -> None:
    text = render(result, "md", lang="ru")
    assert isinstance(text, str)
    assert text.startswith("# Аудит воронки продаж")
    assert "## Главное" in text
    assert text.index("## Главное") < text.index("## Воронка")
    assert "- **Утечка:" in text
    # Numeric columns are right-aligned.
    funnel = _tables(text)[0]
    assert funnel[1].startswith("|---|---:|")


def test_markdown_escapes_input_text(result: AuditResult) -> None:
    text = render(result, "md")
    assert isinstance(text, str)
    assert "<img" not in text and "<script" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert escape_md("a|b*c_d") == r"a\|b\*c\_d"
    assert escape_md("two\nlines") == "two lines"
