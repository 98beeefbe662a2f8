"""Store reads that can never change, kept in memory: ledger headers and object versions at committed sequences.

Why: a request that misses the hot answers still reads the same few things
from the store (the newest header, the Amendments object, the asked
account's root, ...), each a round trip through the store's thread pool
(~0.1-0.2 ms on SQLite under load). Once ledger ``S`` is committed, "the
header of ``S``" and "object ``K`` as of ``S``" are facts: the store only adds
newer ledgers, so the same read always gives the same bytes. This wrapper
keeps such answers (``None`` included: "absent as of ``S``" is a fact too) for
sequences at or below the newest stored range it has seen pass through
(``fetch_ledger_range``: the dispatcher reads it first for every request), in
a memory-bounded LRU. Everything else goes to the store unchanged.

The API side uses it; the ETL (the writer) keeps the store itself.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from zope.interface import implementer

from clio_twisted.backend.interface import IBackend, LedgerRange

ENTRY_OVERHEAD = 120  # dict slot, key tuple: a rough per-entry cost in bytes
_ABSENT = b""  # stored for None (no blob is ever empty: deletions are None)


@implementer(IBackend)
class VersionCache:
    """An ``IBackend`` that answers immutable reads from memory and the rest from ``inner``.

    Args:
        inner: the store.
        max_bytes: memory budget for the kept blobs.
    """

    def __init__(self, inner: IBackend, max_bytes: int = 32 << 20) -> None:
        self._inner = inner
        self.max_bytes = max_bytes
        self.size = 0
        self.committed = 0  # the newest max sequence seen in a range read
        self._kept: OrderedDict[tuple[bytes, int], bytes] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __len__(self) -> int:
        return len(self._kept)

    # -- the memory ------------------------------------------------------------------------------

    def _get(self, key: tuple[bytes, int]) -> bytes | None:
        value = self._kept.get(key)
        if value is None:
            self.misses += 1
            return None
        self._kept.move_to_end(key)
        self.hits += 1
        return value

    def _put(self, key: tuple[bytes, int], blob: bytes | None) -> None:
        value = _ABSENT if blob is None else blob
        old = self._kept.pop(key, None)
        if old is not None:
            self.size -= len(old) + ENTRY_OVERHEAD
        self._kept[key] = value
        self.size += len(value) + ENTRY_OVERHEAD
        while self.size > self.max_bytes and self._kept:
            _, dropped = self._kept.popitem(last=False)
            self.size -= len(dropped) + ENTRY_OVERHEAD

    # -- reads -----------------------------------------------------------------------------------

    async def fetch_ledger_range(self) -> LedgerRange | None:
        stored: LedgerRange | None = await self._inner.fetch_ledger_range()
        if stored is not None and stored.max_sequence > self.committed:
            self.committed = stored.max_sequence
        return stored

    async def fetch_ledger_by_sequence(self, sequence: int) -> bytes | None:
        if sequence > self.committed:
            header: bytes | None = await self._inner.fetch_ledger_by_sequence(sequence)
            return header
        key = (b"", sequence)
        kept = self._get(key)
        if kept is not None:
            return kept or None
        header = await self._inner.fetch_ledger_by_sequence(sequence)
        if header is not None:  # a missing header is not kept: it may be written later
            self._put(key, header)
        return header

    async def fetch_ledger_object(self, key: bytes, sequence: int) -> bytes | None:
        if sequence > self.committed:
            blob: bytes | None = await self._inner.fetch_ledger_object(key, sequence)
            return blob
        kept = self._get((key, sequence))
        if kept is not None:
            return kept or None
        blob = await self._inner.fetch_ledger_object(key, sequence)
        self._put((key, sequence), blob)
        return blob

    async def fetch_ledger_objects(
        self, keys: Sequence[bytes], sequence: int
    ) -> list[bytes | None]:
        if sequence > self.committed:
            blobs: list[bytes | None] = await self._inner.fetch_ledger_objects(keys, sequence)
            return blobs
        out: list[bytes | None] = []
        missing: list[int] = []
        for i, key in enumerate(keys):
            kept = self._get((key, sequence))
            if kept is None:
                missing.append(i)
                out.append(None)
            else:
                out.append(kept or None)
        if missing:
            fetched = await self._inner.fetch_ledger_objects([keys[i] for i in missing], sequence)
            for i, blob in zip(missing, fetched, strict=True):
                out[i] = blob
                self._put((keys[i], sequence), blob)
        return out
