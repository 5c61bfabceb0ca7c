"""The ``GLOB`` that gates a date column's ``strptime`` reading (``voronka.engine.read_columns.
_template_glob``) keeps exactly the texts the template's full regex keeps: compared by DuckDB on
texts that ``strptime`` reads although they are not in the template's shape (a number short of a
digit with whitespace making up the length: at the start, the end, around the space) and on
random edits of good dates."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from voronka.engine.read_columns import (
    _globbed,
    _strptime_format,
    _template_glob,
    _template_regex,
    quote,
)
from voronka.io.dates import _TEMPLATES

TEMPLATES = [t for t in _TEMPLATES if "/" not in t and "Z" not in t and "UTC" not in t
             and "YYYY" in t]
SPACES = [" ", "\t", "\n", "\r", "\x0b", "\x0c"]


def _good(template: str, rng: random.Random) -> str:
    values = {"YYYY": f"{rng.randint(0, 2999):04d}", "MM": f"{rng.randint(1, 12):02d}",
              "DD": f"{rng.randint(1, 28):02d}", "hh": f"{rng.randint(0, 23):02d}",
              "mm": f"{rng.randint(0, 59):02d}", "ss": f"{rng.randint(0, 59):02d}"}
    text = template
    for letters, value in values.items():
        text = text.replace(letters, value)
    return text


def _shortened(text: str, template: str, rng: random.Random) -> str:
    """``text`` with a leading zero of one number dropped and whitespace added at the start,
    the end or around the space, to the template's length (``strptime`` reads many of them)."""
    starts = [i for i, ch in enumerate(template) if ch in "YMDhms"
              and (i == 0 or template[i - 1] not in "YMDhms")]
    i = rng.choice(starts)
    text = text[:i] + text[i + 1:]
    space = rng.choice(SPACES)
    where = rng.choice(["start", "end", "space"])
    if where == "start":
        return space + text
    if where == "end":
        return text + space
    at = template.find(" ")
    if at < 0:
        return space + text
    at = min(at, len(text))
    return text[:at] + space + text[at:]


def _edited(text: str, template: str, rng: random.Random) -> str:
    alphabet = "0123456789" + "".join(SPACES) + "".join(set(template) - set("YMDhms")) + "+-x"
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(["swap", "insert", "delete"])
        i = rng.randrange(len(chars) + (op == "insert"))
        if op == "swap" and chars:
            chars[min(i, len(chars) - 1)] = rng.choice(alphabet)
        elif op == "insert":
            chars.insert(i, rng.choice(alphabet))
        elif chars:
            del chars[min(i, len(chars) - 1)]
    return "".join(chars)


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_glob_keeps_what_the_regex_keeps(template: str) -> None:
    assert _globbed(template), template
    rng = random.Random(template)
    texts = []
    for _ in range(3000):
        good = _good(template, rng)
        texts += [good, _shortened(good, template, rng), _edited(good, template, rng)]
    fmt = quote(_strptime_format(template))
    con = duckdb.connect()
    table = pa.table({"s": texts})
    con.register("t", table)
    year = template.index("YYYY") + 1
    old = (f"CASE WHEN regexp_full_match(s, {quote(_template_regex(template))}) AND "
           f"substr(s, {year}, 4) <> '0000' THEN try_strptime(s, {fmt}) END")
    new = (f"CASE WHEN s GLOB {quote(_template_glob(template))} AND "
           f"year(try_strptime(s, {fmt})) <> 0 THEN try_strptime(s, {fmt}) END")
    differ = con.sql(f"SELECT s, {old}, {new} FROM t WHERE ({old}) IS DISTINCT FROM ({new})"
                     ).fetchall()
    assert differ == []
    odd = con.sql(f"SELECT count(*) FROM t WHERE try_strptime(s, {fmt}) IS NOT NULL "
                  f"AND ({old}) IS NULL").fetchall()[0][0]
    assert odd > 300  # texts strptime reads but the template refuses were tried


def test_the_forms_strptime_forgives_are_refused() -> None:
    template = "DD.MM.YYYY hh:mm"
    glob, fmt = quote(_template_glob(template)), quote(_strptime_format(template))
    texts = [" 1.04.2025 09:11", "01.04.2025  9:11", "01.04.2025 09:1 ", "01.04.25   09:11",
             "01.04.2025\t09:11", "01.04.0000 09:11", "01.04.2025 09:11"]
    con = duckdb.connect()
    read = [con.execute(f"SELECT try_strptime(?, {fmt}) IS NOT NULL, ? GLOB {glob}",
                        [t, t]).fetchall()[0] for t in texts]
    assert all(r[0] for r in read)  # strptime reads every one of them
    assert [r[1] for r in read] == [False] * 5 + [True, True]  # year 0 is refused apart


def test_a_date_column_empty_at_the_start_still_gets_its_template(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The samples of all date columns come from the file's first rows at once; a column with
    too few values there is sampled on its own, so it is read in SQL all the same."""
    import voronka.engine.read_columns as columns
    from voronka.engine.read import read_fast
    from voronka.io.readers import read_deals

    chosen: list[str | None] = []
    real = columns.ColumnRules._template

    def spy(self: columns.ColumnRules, col: str) -> str | None:
        chosen.append(real(self, col))
        return chosen[-1]

    monkeypatch.setattr(columns.ColumnRules, "_template", spy)
    rows = columns.SAMPLE_ROWS + 3 * columns.SAMPLE
    lines = ["ID сделки;Дата создания;Дата закрытия"] + [
        f"{i};01.03.2024 09:00;{'' if i < columns.SAMPLE_ROWS else '05.03.2024 10:30'}"
        for i in range(rows)]
    path = tmp_path / "deals.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fast, slow = read_fast(path, "deals"), read_deals(path)
    assert chosen == ["DD.MM.YYYY hh:mm", "DD.MM.YYYY hh:mm"]
    assert fast is not None
    assert fast.table.equals(slow.table)
    assert fast.rows_read == slow.rows_read == rows
