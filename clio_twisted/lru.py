"""One least-recently-used map bounded in entries and in bytes, for every memory of immutable data.

Why a shared one: the answer caches (``rpc/render_cache.py``) and the store
reads kept in memory (``backend/immutable_reads.py``) need the same thing (a
map that forgets the least recently used entries past a count or an estimate
of the bytes held), and one implementation keeps their bounds honest alike.
Values are shared between callers: what a caller gets must not be mutated.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedLRU(Generic[K, V]):
    """A least-recently-used map with a cap on entries and on the (estimated) bytes held."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self.size = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: K) -> V | None:
        entry = self._data.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._data.move_to_end(key)
        self.hits += 1
        return entry[0]

    def put(self, key: K, value: V, cost: int) -> None:
        """Keep ``value``; ``cost`` is its estimated size in bytes (over ``max_bytes``: not kept)."""
        if cost > self.max_bytes:
            return
        old = self._data.pop(key, None)
        if old is not None:
            self.size -= old[1]
        self._data[key] = (value, cost)
        self.size += cost
        while self.size > self.max_bytes or len(self._data) > self.max_entries:
            _, (_, dropped) = self._data.popitem(last=False)
            self.size -= dropped

    def clear(self) -> None:
        self._data.clear()
        self.size = 0
