"""The deals file is read alongside the events file (``voronka.io.prefetch``): the inputs, the
progress calls and the errors are those of reading one file after the other."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from voronka.engine.read import read_fast
from voronka.errors import InputError
from voronka.io.inputs import open_inputs

EVENTS = "ID сделки;Этап;Дата перехода\n" + "".join(
    f"{i};{stage};0{1 + j}.03.2024 10:00\n" for i in range(1, 40)
    for j, stage in enumerate(("Новая", "Встреча")))
DEALS = "ID сделки;Дата создания;Бюджет;Статус\n" + "".join(
    f"{i};01.03.2024 09:00;{100 * i};в работе\n" for i in range(1, 40))


def _files(tmp_path: Path, events: str = EVENTS, deals: str = DEALS) -> tuple[Path, Path]:
    (tmp_path / "events.csv").write_text(events, encoding="utf-8")
    (tmp_path / "deals.csv").write_text(deals, encoding="utf-8")
    return tmp_path / "events.csv", tmp_path / "deals.csv"


def _sequential(events: Path, deals: Path, **kw: Any) -> Any:
    """``open_inputs`` with the read-ahead turned off (the read of one file after the other)."""
    from voronka.io.opener import Opener

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Opener, "read_ahead", lambda self, path, kind: None)
        return open_inputs(events, deals=deals, **kw)


@pytest.mark.parametrize("fast", [read_fast, None])
def test_the_inputs_and_progress_are_those_of_one_file_after_the_other(tmp_path: Path,
                                                                      fast: Any) -> None:
    events, deals = _files(tmp_path)
    calls: list[tuple[str, int, int]] = []
    threads: set[str] = set()

    def reader(*args: Any, **kw: Any) -> Any:
        threads.add(threading.current_thread().name)
        return None if fast is None else fast(*args, **kw)

    ahead = open_inputs(events, deals=deals, fast=reader,
                        progress=lambda f, d, t: calls.append((Path(f).name, d, t)))
    before = _sequential(events, deals, fast=fast)
    assert any(name.startswith("voronka-read") for name in threads)  # read in the worker
    for kind in ("events", "deals"):
        a, b = getattr(ahead, kind), getattr(before, kind)
        assert a.table.equals(b.table) and a.rows_read == b.rows_read
        assert a.rejects.equals(b.rejects) and a.field_issues.equals(b.field_issues)
    names = [name for name, _, _ in calls]
    assert names.index("events.csv") < names.index("deals.csv")
    assert names[names.index("deals.csv"):] == ["deals.csv"] * names.count("deals.csv")


def test_a_bad_deals_file_raises_its_error_and_a_bad_events_file_wins(tmp_path: Path) -> None:
    bad_deals = DEALS + "7;01.03.2024 09:00;сто;в работе\n"
    events, deals = _files(tmp_path, deals=bad_deals)
    with pytest.raises(InputError) as ahead:
        open_inputs(events, deals=deals, strict=True, fast=read_fast)
    with pytest.raises(InputError) as before:
        _sequential(events, deals, strict=True, fast=read_fast)
    assert str(ahead.value) == str(before.value) and "deals.csv" in str(ahead.value)
    events, deals = _files(tmp_path, events=EVENTS + "5;Новая;вчера\n", deals=bad_deals)
    with pytest.raises(InputError) as both:
        open_inputs(events, deals=deals, strict=True, fast=read_fast)
    assert "events.csv" in str(both.value)
    assert not [t for t in threading.enumerate() if t.name.startswith("voronka-read")]
