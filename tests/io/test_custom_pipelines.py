"""A CRM export whose pipeline has stages of its own is not forced into the CRM's default
template (issue 10, point 10)."""

from __future__ import annotations

from pathlib import Path

from export_fixtures import AMO_HEADERS, amo_row, write_csv

import voronka
from voronka.i18n import note_text
from voronka.io.inputs import open_inputs

DEFAULT = ("Первичный контакт", "Переговоры", "Принимают решение")
CUSTOM = ("Замер на объекте", "Выставлен счёт")


def _export(path: Path, n: int = 200) -> Path:
    rows = []
    for i in range(n):
        day = f"{1 + i % 28:02d}.0{1 + i % 6}.2025 10:00:00"
        if i % 10 == 0:
            stage = CUSTOM[i % 20 // 10]  # 10 % of deals in the account's own stages
        elif i % 7 == 0:
            stage = "Успешно реализовано"
        elif i % 11 == 0:
            stage = "Закрыто и не реализовано"
        else:
            stage = DEFAULT[i % 3]
        closed = day if stage in ("Успешно реализовано", "Закрыто и не реализовано") else ""
        rows.append(amo_row(1000 + i, stage, day, closed))
    return write_csv(path, AMO_HEADERS, rows)


def test_custom_stages_keep_their_deals_and_the_output_says_so(tmp_path: Path) -> None:
    """Fails on the code before issue 10: the amoCRM template was used (90 % of the names fit),
    the deals in the custom stages were rejected as unknown stages."""
    path = _export(tmp_path / "amocrm_export.csv")
    inputs = open_inputs(path)
    assert inputs.crm == "amocrm" and inputs.funnel is None
    result = voronka.audit(path, lang="en")
    assert result.funnel.origin == "inferred"
    names = {s.name for s in result.funnel.stages}
    assert set(CUSTOM) <= names
    unknown = [i for i in result.data_quality.issues if i.kind == "unknown_stage"]
    assert not unknown
    notes = " ".join(note_text(n, "en") or "" for n in result.data_quality.notes)
    assert "default pipeline lacks" in notes and "Замер на объекте" in notes
    assert result.funnel.deals == 200


def test_an_export_of_the_default_pipeline_still_uses_the_template(tmp_path: Path) -> None:
    rows = [amo_row(1 + i, DEFAULT[i % 3] if i % 5 else "Успешно реализовано",
                    f"0{1 + i % 9}.03.2025 10:00:00", "" if i % 5 else "20.03.2025 10:00:00")
            for i in range(60)]
    path = write_csv(tmp_path / "amocrm_export.csv", AMO_HEADERS, rows)
    assert open_inputs(path).funnel is not None
    assert voronka.audit(path, lang="en").funnel.origin == "template"
