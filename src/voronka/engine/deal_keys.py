"""The integer deal key: inside the engine a deal is a number, outside it its text id.

Every per-deal table of the engine (deal × stage, deal summary, ``reached_at``, the episode
tables, the cube queries) groups and joins on ``deal_id``. Grouping and hash-joining on an
integer is several times cheaper than on text, so :meth:`voronka.engine.EventLog.build`
replaces the text ``deal_id`` of the events and deals tables by a dense integer key before they
reach the backend, and keeps the texts here, in Python: the key of a deal is the position of its
id in the sorted list of distinct ids.

Two properties make the swap invisible:

- **Order kept.** Keys are given in the byte order of the ids (Arrow's, DuckDB's and Spark's
  order of text), so every ``ORDER BY deal_id`` — the ties of the stuck list, the deal pages, the
  largest open deals, the examples of data quality — picks the same deals in the same order.
- **Texts back on the way out.** Every frame that leaves the engine goes through
  :meth:`EventLog.frame`, which turns a ``deal_id`` column of keys back into the original texts
  (:meth:`DealKeys.texts`); the examples of data quality are translated by name. A null id stays
  null; blank or odd ids (``" 12 "``, ``"007"``, ``"1e3"``, non-ASCII) come back byte for byte.

**Digit ids of one width.** CRM ids are usually numbers of one width (``24000129``); when every
id is 1 to :data:`MAX_DIGITS` ASCII digits, all of the same length, the key is the id's value
itself: among strings of digits of one length, numeric order is byte order, and the text comes
back as the number written with that many digits (leading zeros kept). This spares the hash of
every id text and the sort of the distinct ids (0.05 instead of 0.40 s CPU for the 4.1 million
ids of the 1,000,000-deal bench, bench/README.md round 9); the keys are then not dense.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MAX_DIGITS = 9
"""The longest digit ids whose value is the key: ``999,999,999`` still fits in an ``int32``."""


@dataclass(frozen=True)
class DealKeys:
    """The texts of a log's keys: key ``k`` is the deal ``ids[k]`` (the sorted distinct ids), or,
    with ``width`` (digit ids of one width), ``k`` written with ``width`` digits."""

    ids: pa.Array | None
    width: int = 0

    def texts(self, keys: pd.Series) -> pd.Series:
        """The original ids of ``keys`` (a column of keys, nulls kept as None), as text."""
        values = pa.array(keys, pa.int64(), from_pandas=True)
        if self.ids is None:
            taken = pc.utf8_lpad(pc.cast(values, pa.string()), width=self.width, padding="0")
        else:
            taken = self.ids.take(values)
        return pd.Series(taken.to_pylist(), index=keys.index, dtype=object, name=keys.name)

    def text(self, key: object) -> str:
        """The original id of one key (a value read from the backend)."""
        if self.ids is None:
            return str(int(key)).zfill(self.width)  # type: ignore[call-overload]
        return str(self.ids[int(key)].as_py())  # type: ignore[call-overload]


def digit_width(chunks: list[pa.Array]) -> int:
    """The width of the ids when every non-null one is 1 to :data:`MAX_DIGITS` ASCII digits, all
    of one length; else 0. Length bounds first (no pass over the text when they differ). Also
    read by :func:`voronka.engine.prepare.after_close`, which matches such ids as numbers."""
    width = 0
    for chunk in chunks:
        if chunk.null_count == len(chunk):
            continue
        bounds = pc.min_max(pc.binary_length(chunk)).as_py()
        if bounds["min"] != bounds["max"] or not 1 <= bounds["min"] <= MAX_DIGITS:
            return 0
        if width and bounds["min"] != width:
            return 0
        width = bounds["min"]
    if width and all(pc.all(pc.ascii_is_decimal(chunk)).as_py() is not False for chunk in chunks):
        return width
    return 0


def encode(events: pa.Table, deals: pa.Table | None) -> tuple[pa.Table, pa.Table | None, DealKeys]:
    """``events`` and ``deals`` (canonical Arrow tables, ``deal_id`` as text) with ``deal_id``
    replaced by the deal's integer key (``int32``: half the bytes of ``int64`` in every per-deal
    table; null ids stay null), and the keys' texts.

    Digit ids of one width: each id's value, one cast (see the module docstring). Any other ids:
    one hash pass (a dictionary encoding of both id columns together), one sort of the distinct
    ids, one gather of the keys: the texts are hashed once here instead of in every later join.
    """
    chunks = list(events.column("deal_id").chunks)
    if deals is not None:
        chunks += deals.column("deal_id").chunks

    def keyed(table: pa.Table, keys: pa.ChunkedArray, start: int) -> pa.Table:
        i = table.schema.get_field_index("deal_id")
        return table.set_column(i, "deal_id", keys.slice(start, table.num_rows))

    width = digit_width(chunks)
    if width:
        keys = pa.chunked_array([pc.cast(c, pa.int32()) for c in chunks], pa.int32())
        return (
            keyed(events, keys, 0),
            None if deals is None else keyed(deals, keys, events.num_rows),
            DealKeys(None, width),
        )
    encoded = pc.dictionary_encode(pa.chunked_array(chunks, pa.string()))
    dictionary = encoded.chunk(0).dictionary if encoded.num_chunks else pa.array([], pa.string())
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(order), np.int32)  # int32: the dictionary's own index type
    rank[order] = np.arange(len(order), dtype=np.int32)  # dictionary position → key
    ranks = pa.array(rank)
    keys = pa.chunked_array([ranks.take(c.indices) for c in encoded.chunks], pa.int32())
    return (
        keyed(events, keys, 0),
        None if deals is None else keyed(deals, keys, events.num_rows),
        DealKeys(dictionary.take(pa.array(order))),
    )
