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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class DealKeys:
    """The sorted distinct deal ids of a log: key ``k`` is the deal ``ids[k]``."""

    ids: pa.Array

    def texts(self, keys: pd.Series) -> pd.Series:
        """The original ids of ``keys`` (a column of keys, nulls kept as None), as text."""
        values = pa.array(keys, pa.int64(), from_pandas=True)
        taken = self.ids.take(values)
        return pd.Series(taken.to_pylist(), index=keys.index, dtype=object, name=keys.name)

    def text(self, key: object) -> str:
        """The original id of one key (a value read from the backend)."""
        return str(self.ids[int(key)].as_py())  # type: ignore[call-overload]


def encode(events: pa.Table, deals: pa.Table | None) -> tuple[pa.Table, pa.Table | None, DealKeys]:
    """``events`` and ``deals`` (canonical Arrow tables, ``deal_id`` as text) with ``deal_id``
    replaced by the deal's integer key (``int32``: half the bytes of ``int64`` in every per-deal
    table; null ids stay null), and the keys' texts.

    One hash pass (a dictionary encoding of both id columns together), one sort of the distinct
    ids, one gather of the keys: the texts are hashed once here instead of in every later join.
    """
    chunks = list(events.column("deal_id").chunks)
    if deals is not None:
        chunks += deals.column("deal_id").chunks
    encoded = pc.dictionary_encode(pa.chunked_array(chunks, pa.string()))
    dictionary = encoded.chunk(0).dictionary if encoded.num_chunks else pa.array([], pa.string())
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(order), np.int32)  # int32: the dictionary's own index type
    rank[order] = np.arange(len(order), dtype=np.int32)  # dictionary position → key
    ranks = pa.array(rank)
    keys = pa.chunked_array([ranks.take(c.indices) for c in encoded.chunks], pa.int32())

    def keyed(table: pa.Table, start: int) -> pa.Table:
        i = table.schema.get_field_index("deal_id")
        return table.set_column(i, "deal_id", keys.slice(start, table.num_rows))

    return (
        keyed(events, 0),
        None if deals is None else keyed(deals, events.num_rows),
        DealKeys(dictionary.take(pa.array(order))),
    )
