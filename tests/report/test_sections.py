"""The section registry: every registered section with content reaches Markdown and HTML."""

from __future__ import annotations

from voronka.audit import AuditResult
from voronka.i18n import t
from voronka.report import render
from voronka.report.names import build_labels
from voronka.report.sections import SECTIONS, shown_sections


def test_markdown_and_html_show_every_section_with_tables(result: AuditResult) -> None:
    labels = build_labels(result, "ru", None)
    md = str(render(result, "md", lang="ru"))
    html = str(render(result, "html", lang="ru"))
    with_tables = [
        s for s in shown_sections(result) if any(tb.rows for tb in s.make_tables(result, labels))
    ]
    assert {"key_stage", "entry", "quality", "stuck"} <= {s.id for s in with_tables}
    for spec in with_tables:
        title = t(f"report.section.{spec.id}.title", "ru")
        assert f"## {title}" in md, spec.id
        assert f'<section id="{spec.id}"' in html, spec.id


def test_stuck_managers_table_is_in_markdown_and_html(result: AuditResult) -> None:
    assert result.stuck.by_manager
    manager = next(m.manager for m in result.stuck.by_manager if m.manager)
    header = t("report.col.manager", "ru")
    md = str(render(result, "md", lang="ru"))
    html = str(render(result, "html", lang="ru"))
    assert "table-stuck_managers" in html
    stuck_part = md[md.index(f"## {t('report.section.stuck.title', 'ru')}") :]
    assert header in stuck_part and manager.split("<")[0][:5] in stuck_part


def test_sections_are_collapsible_and_registered_once(result: AuditResult) -> None:
    ids = [s.id for s in SECTIONS]
    assert len(ids) == len(set(ids))
    html = str(render(result, "html", lang="ru"))
    assert html.count("<details open>") == html.count('<section id="') - 1  # findings stay open


def test_no_command_line_flags_in_text_for_people(
    result: AuditResult, empty_result: AuditResult
) -> None:
    """A head of sales reads the report, not the CLI's help: no ``--plan`` and the like."""
    import re

    flag = re.compile(r"(?<![\w-])--[a-z]")
    for res in (result, empty_result):
        for lang in ("ru", "en"):
            md = str(render(res, "md", lang=lang))
            assert not flag.search(md), flag.search(md)
            text = str(render(res, "text", lang=lang))
            assert not flag.search(text), flag.search(text)
