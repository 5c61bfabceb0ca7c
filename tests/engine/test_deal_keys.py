"""The integer deal key (``voronka.engine.deal_keys``): inside the engine a deal is a number, and
every deal id that leaves the engine is the original text, byte for byte.

The reference is the engine on the text ids themselves (``encode`` replaced by a pass-through,
as the engine was before the key): each output that carries deal ids — the deal pages in every
sort, the worst stuck deals, the stuck deals by value, data quality's examples, a filtered log's
pages, the whole audit JSON of the demo — must be equal, on ids that a careless cast or a
numeric sort would change (``"007"``, ``"1e3"``, ``" 12 "``, ``""``, non-ASCII).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from engine_logs import random_log

import voronka
from voronka.engine import (
    DealSelection,
    EventLog,
    deal_page,
    filter_log,
    stuck_deal_values,
    worst_stuck,
)
from voronka.engine import log_tables as log_module
from voronka.engine.backend import scalar
from voronka.engine.deal_keys import DealKeys, encode
from voronka.funnel import Funnel

WEIRD = [
    "007", "7", "1e3", "1000", " 12 ", "12", "", "Сделка №5", "ß", "é", "e", "E", "-1", "0x1F",
    "NaN", "null", "None", "1.0", "1", "01", "😀", "a b", "a\tb", "Z", "z", "10", "9", "2", "100",
    "ё", "Ё", "е", " ", "  ", "0", "00", "000", "true", "x" * 30, "日本", "-0", "+1", "1,5",
]
"""Ids that a cast to a number, a strip, a case fold or a numeric sort would change or reorder."""


def _weird(table: pa.Table, names: dict[str, str]) -> pa.Table:
    i = table.schema.get_field_index("deal_id")
    ids = [None if v is None else names[v] for v in table.column(i).to_pylist()]
    return table.set_column(i, "deal_id", pa.array(ids, pa.string()))


@pytest.fixture(scope="module")
def tables() -> tuple[pa.Table, pa.Table]:
    events, deals = random_log(7, n_deals=40)
    every = sorted(set(events.column("deal_id").to_pylist()) | set(deals.column("deal_id").to_pylist()))
    assert len(every) <= len(WEIRD)
    names = dict(zip(every, WEIRD, strict=False))
    return _weird(events, names), _weird(deals, names)


def _plain(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """A frame's columns as lists, missing values (NaN, NaT, None) as None, so equal frames
    compare equal."""
    return {c: [None if pd.isna(v) else v for v in frame[c]] for c in frame.columns}


def _outputs(log: EventLog) -> dict[str, Any]:
    """Every engine output that carries deal ids, as plain values."""
    funnel = log.require_funnel()
    limits = {k: 0.5 for k in range(funnel.won_index)}
    pages = {
        (sort, desc): _plain(deal_page(log, DealSelection("all"), sort=sort, descending=desc,
                                       limit=500).rows)
        for sort in ("deal_id", "created_at", "manager") for desc in (False, True)
    }
    # an offset page (Ibis' PySpark backend once left its row-number column in it)
    window = deal_page(log, DealSelection("all"), offset=7, limit=9)
    assert list(window.rows.columns) == list(window.columns)
    whole = deal_page(log, DealSelection("all"), limit=500).rows
    assert _plain(window.rows) == _plain(whole.iloc[7:16].reset_index(drop=True))
    pages["window"] = _plain(window.rows)
    narrowed = filter_log(log, where={"source": ["ads", None]})
    return {
        "pages": pages,
        "worst_stuck": _plain(worst_stuck(log, limits, limit=15)),
        "stuck_values": _plain(stuck_deal_values(log, {k: 0.3 for k in limits}, limits,
                                                 limit=12)),
        "quality": log.quality(),
        "filtered_page": _plain(deal_page(narrowed, DealSelection("open"), limit=500).rows),
        "filtered_quality": narrowed.quality(),
    }


def _text_ids(events: pa.Table, deals: pa.Table | None) -> tuple[pa.Table, pa.Table | None, None]:
    return events, deals, None


def test_the_key_is_used_and_every_id_out_is_the_original(
    tables: tuple[pa.Table, pa.Table], funnel: Funnel, backend: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events, deals = tables
    keyed_log = EventLog.build(events, deals, funnel, backend=backend)
    assert keyed_log.deal_summary().schema()["deal_id"].is_integer()  # the key is in use
    keyed = _outputs(keyed_log)
    monkeypatch.setattr(log_module, "encode", _text_ids)
    text_log = EventLog.build(events, deals, funnel, backend=backend)
    assert text_log.deal_summary().schema()["deal_id"].is_string()
    plain = _outputs(text_log)
    assert keyed == plain

    every = set(WEIRD)
    shown = set(keyed["pages"][("deal_id", False)]["deal_id"])
    assert shown <= every and {"007", "1e3", " 12 ", "", "Сделка №5"} & shown
    assert keyed["pages"][("deal_id", False)]["deal_id"] == sorted(shown, key=str.encode)
    for name in ("worst_stuck", "stuck_values"):
        assert keyed[name]["deal_id"] and set(keyed[name]["deal_id"]) <= every
    q = keyed["quality"]
    examples = [*q.backward_move.examples, *q.deal_without_events.examples,
                *q.event_without_deal.examples, *q.won_without_won_stage.examples]
    assert examples and set(examples) <= every


def test_keys_are_dense_in_byte_order_and_come_back_exactly() -> None:
    ids = ["b", "007", None, "7", "1e3", " 12 ", "é", "e", "007", ""]
    events = pa.table({"deal_id": pa.array(ids, pa.string())})
    deals = pa.table({"deal_id": pa.array(["zz", "7"], pa.string())})
    keyed_events, keyed_deals, keys = encode(events, deals)
    assert isinstance(keys, DealKeys)
    distinct = sorted({i for i in ids if i is not None} | {"zz"}, key=str.encode)
    assert keys.ids.to_pylist() == distinct
    column = keyed_events.column("deal_id")
    assert column.type == pa.int32() and column.null_count == 1
    assert pc.max(column).as_py() == len(distinct) - 1
    assert keys.texts(column.to_pandas()).tolist() == ids
    assert keyed_deals is not None
    assert keys.texts(keyed_deals.column("deal_id").to_pandas()).tolist() == ["zz", "7"]


def test_digit_ids_of_one_width_are_their_own_keys() -> None:
    ids = ["00017", "90001", None, "00017", "12345", "00000"]
    events = pa.table({"deal_id": pa.array(ids, pa.string())})
    deals = pa.table({"deal_id": pa.array(["00002", "99999"], pa.string())})
    keyed_events, keyed_deals, keys = encode(events, deals)
    column = keyed_events.column("deal_id")
    assert column.type == pa.int32() and column.to_pylist() == [17, 90001, None, 17, 12345, 0]
    assert keys.texts(column.to_pandas()).tolist() == ids  # leading zeros back
    assert keyed_deals is not None
    assert [keys.text(k) for k in keyed_deals.column("deal_id").to_pylist()] == ["00002", "99999"]
    texts = [i for i in ids if i is not None]
    assert sorted(texts, key=str.encode) == [keys.text(k) for k in sorted(int(i) for i in texts)]


@pytest.mark.parametrize(
    "ids",
    [
        ["12", "123"],  # two widths: "123" < "13" as text, not as numbers
        ["١", "12"],  # an Arabic-Indic digit: two bytes, not ASCII
        ["+1", "12"], [" 1", "12"], ["1a", "12"], ["", ""],
        ["1234567890", "1234567891"],  # ten digits: past int32
    ],
)
def test_other_ids_get_dense_keys(ids: list[str]) -> None:
    events = pa.table({"deal_id": pa.array([*ids, None], pa.string())})
    keyed, _, keys = encode(events, pa.table({"deal_id": pa.array(ids[:1], pa.string())}))
    assert keys.ids is not None and keys.ids.to_pylist() == sorted(set(ids), key=str.encode)
    assert keys.texts(keyed.column("deal_id").to_pandas()).tolist() == [*ids, None]


def test_digit_ids_give_the_same_outputs_with_and_without_the_key(
    tables: tuple[pa.Table, pa.Table], funnel: Funnel, backend: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events, deals = tables
    every = sorted({*events.column("deal_id").to_pylist(), *deals.column("deal_id").to_pylist()}
                   - {None}, key=str.encode)
    # digit ids of one width, leading zeros, in an order unlike the file's
    names = {old: f"{(7919 * i) % 100_000:05d}" for i, old in enumerate(every)}
    events, deals = _weird(events, names), _weird(deals, names)
    keyed_log = EventLog.build(events, deals, funnel, backend=backend)
    summary = keyed_log.deal_summary()
    assert scalar(keyed_log.backend, summary.deal_id.max()) >= len(every)  # the ids' values, not dense keys
    keyed = _outputs(keyed_log)
    monkeypatch.setattr(log_module, "encode", _text_ids)
    assert keyed == _outputs(EventLog.build(events, deals, funnel, backend=backend))
    shown = keyed["pages"][("deal_id", False)]["deal_id"]
    assert shown == sorted(shown) and all(len(i) == 5 for i in shown)
    assert any(i.startswith("0") for i in shown)


def _renamed_encode(real: Any) -> Any:
    """``encode`` after renaming every id to an odd text (spaces, a leading zero, non-ASCII,
    reversed so the text order is not the file's); ``real=None``: the engine on the texts."""

    def rename(table: pa.Table | None) -> pa.Table | None:
        if table is None:
            return None
        i = table.schema.get_field_index("deal_id")
        ids = [None if v is None else f" 0{v[::-1]}ё " for v in table.column(i).to_pylist()]
        return table.set_column(i, "deal_id", pa.array(ids, pa.string()))

    def encoded(events: pa.Table, deals: pa.Table | None) -> Any:
        events, deals = rename(events), rename(deals)
        return real(events, deals) if real is not None else (events, deals, None)

    return encoded


def test_the_demo_audit_json_is_the_same_with_and_without_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voronka.demo import generate_demo, write_demo

    files = write_demo(generate_demo(500, seed=2, months=8, end_day=15), tmp_path)

    def audited() -> dict[str, Any]:
        result = voronka.audit(files.events, deals=files.deals, spend=files.spend,
                               funnel=files.funnel, plan=3.0)
        return json.loads(json.dumps(result.to_dict(), ensure_ascii=False, default=str))

    monkeypatch.setattr(log_module, "encode", _renamed_encode(encode))
    keyed = audited()
    monkeypatch.setattr(log_module, "encode", _renamed_encode(None))
    plain = audited()
    assert keyed == plain
    stuck = [d["deal_id"] for d in keyed["stuck"]["deals"]]
    assert stuck and all(d.startswith(" 0") and d.endswith("ё ") for d in stuck)
