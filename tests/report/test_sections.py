"""The section registry: every registered section with content reaches Markdown and HTML."""

from __future__ import annotations

from voronka.audit import AuditResult
from voronka.i18n import t
from voronka.report import render, render_text
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


def _xlsx_sheets(data: bytes) -> list[str]:
    import io

    from openpyxl import load_workbook

    return list(load_workbook(io.BytesIO(data), read_only=True).sheetnames)


def test_every_registered_section_appears_in_every_format(result: AuditResult) -> None:
    """Terminal, Markdown, HTML and XLSX all iterate the registry: a section with tables is in
    each of them under its title (XLSX: a sheet of that name); the flow section, a chart without
    a table, is in HTML only (the funnel table carries its numbers elsewhere)."""
    from voronka.report.xlsx import sheet_name

    assert result.forecast is not None and result.key_stage is not None
    for lang in ("ru", "en"):
        labels = build_labels(result, lang, None)
        text = render_text(result, lang=lang, width=120)
        md = str(render(result, "md", lang=lang))
        html = str(render(result, "html", lang=lang))
        sheets = _xlsx_sheets(bytes(render(result, "xlsx", lang=lang)))
        checked = []
        for spec in SECTIONS:
            title = t(f"report.section.{spec.id}.title", lang)
            if not spec.tables:
                assert f'<section id="{spec.id}"' in html, spec.id
                continue
            if not (spec.shown(result) and any(tb.rows for tb in spec.make_tables(result, labels))):
                continue
            checked.append(spec.id)
            assert title in text, (lang, spec.id)
            assert f"## {title}" in md, (lang, spec.id)
            assert f'<section id="{spec.id}"' in html, (lang, spec.id)
            assert sheet_name(title, set()) in sheets, (lang, spec.id, sheets)
        assert len(checked) == len([s for s in SECTIONS if s.tables]), checked


def test_the_terminal_shows_the_sections_it_used_to_leave_out(result: AuditResult) -> None:
    """Entry criteria, key stage, forecast measures and data quality reach the terminal, in the
    registry's order."""
    text = render_text(result, lang="ru", width=120)
    titles = [t(f"report.section.{s}.title", "ru") for s in ("entry", "key_stage", "forecast",
                                                             "quality")]
    places = [text.rfind(title) for title in titles]  # the findings may name a section first
    assert all(p >= 0 for p in places) and places == sorted(places), places
    assert t("report.sheet.stuck_managers", "ru") in _xlsx_sheets(
        bytes(render(result, "xlsx", lang="ru")))


def test_reports_name_input_files_without_their_folders(result: AuditResult) -> None:
    """The reader's folders are not shown in a report that is sent on (nor squeezed into a
    table column); the JSON keeps the paths."""
    import dataclasses

    dq = result.data_quality
    far = "/home/anna/Документы/clients/events.csv"
    moved = dataclasses.replace(
        dq,
        rows_read={far: 4210, "C:\\exports\\deals.csv": 1203},
        rows_used={far: 4198, "C:\\exports\\deals.csv": 1200},
        rows_rejected={far: 12, "C:\\exports\\deals.csv": 3},
        issues=tuple(dataclasses.replace(i, file=far) if i.file else i for i in dq.issues),
    )
    one = dataclasses.replace(result, data_quality=moved)
    for fmt in ("text", "md", "html"):
        shown = str(render(one, fmt, lang="en"))
        assert "events.csv" in shown and "deals.csv" in shown, fmt
        assert "/home/anna" not in shown and "C:\\exports" not in shown, fmt
    assert far in str(render(one, "json"))


def test_the_events_a_layout_made_from_a_file_are_named_in_words(result: AuditResult) -> None:
    """The Maven CRM sample read "500 of 15,511 rows in sales_pipeline.csv#events were not
    used": the events made from a deal-per-row file are named in words, in both languages, in
    the finding and the files table; the JSON keeps the key."""
    import dataclasses

    made = "/data/sales_pipeline.csv#events"
    dq = dataclasses.replace(
        result.data_quality, rows_read={made: 15511, "/data/sales_pipeline.csv": 8800},
        rows_used={made: 15011, "/data/sales_pipeline.csv": 8800},
        rows_rejected={made: 500, "/data/sales_pipeline.csv": 0},
    )
    one = dataclasses.replace(result, data_quality=dq)
    en, ru = str(render(one, "md", lang="en")), str(render(one, "md", lang="ru"))
    assert "#events" not in en and "#events" not in ru
    assert "500 of 15,511 rows in sales\\_pipeline.csv (the events made from it)" in en
    assert "sales\\_pipeline.csv (события, составленные из него)" in ru
    assert made in str(render(one, "json"))
