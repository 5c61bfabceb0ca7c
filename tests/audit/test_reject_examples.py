"""Rejected-row examples in the data-quality section are worded by io's localised description,
in the audit's language, the cell a short escaped excerpt (issue 10, point 20)."""

from __future__ import annotations

from pathlib import Path

import voronka


def _events(path: Path) -> Path:
    lines = ["deal_id,stage,entered_at"]
    for i in range(30):
        lines += [f"d{i},Lead,2025-01-{1 + i % 20:02d}", f"d{i},Won,2025-02-{1 + i % 20:02d}"]
    lines.append("d99,Lead,soon\x1b[2J" + "x" * 300)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_examples_are_localised_and_excerpted(tmp_path: Path) -> None:
    path = _events(tmp_path / "events.csv")
    for lang, words in (("ru", ("строка данных 61", "не дата")),
                        ("en", ("data row 61", "is not a date"))):
        result = voronka.audit(path, lang=lang)
        bad = [i for i in result.data_quality.issues if i.kind == "bad_date"]
        assert len(bad) == 1 and bad[0].count == 1
        example = bad[0].examples[0]
        assert all(w in example for w in words), example
        assert "\x1b" not in example and "x" * 60 not in example
        assert "row 61, entered_at" not in example  # the English-only form is gone
