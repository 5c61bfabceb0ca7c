"""Lost reasons and per-campaign economics reach every format (text, Markdown, HTML, XLSX, JSON)."""

from __future__ import annotations

import io
import json

import openpyxl
from sample_result import make_result

from voronka.report import render


def _xlsx_text(data: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value]
    return "\n".join([*book.sheetnames, *cells])


def test_every_format_has_lost_reasons_and_campaigns() -> None:
    result = make_result()
    for fmt in ("text", "md", "html", "xlsx"):
        for lang, reason_title, campaign_title in (
            ("ru", "Причины отказа", "Кампании"),
            ("en", "Lost reasons", "Campaigns"),
        ):
            out = render(result, fmt, lang=lang)
            text = _xlsx_text(out) if isinstance(out, bytes) else out
            text = " ".join(text.replace("\xa0", " ").split())  # table cells wrap in the terminal
            assert reason_title in text and campaign_title in text, (fmt, lang)
            assert "дозвонились" in text, (fmt, lang)  # "Не" may wrap in a terminal cell
            assert "120" in text and "250" in text, (fmt, lang)  # deals lost; campaign leads
    plain = json.loads(render(result, "json"))
    assert plain["lost_reasons"][0]["reason"] == "Не дозвонились"
    assert plain["lost_reasons"][0]["significant"] is True
    avito = next(s for s in plain["sources"] if s["source"] == "Авито")
    assert avito["campaigns"][0]["leads"] == 250
