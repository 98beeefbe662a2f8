"""Store reads whose answer can never change, kept in memory: one ``IBackend`` wrapper for all of them.

Why: a request that misses the hot answers still reads from the store, each
read a round trip through the store's thread pool (~0.1-0.2 ms on SQLite
under load, and the GIL hand-offs cost the reactor more than the read).
Once ledger ``S`` is committed the store only adds newer ledgers, so some
reads are facts and can be kept without any invalidation:

- **the header of ``S``**, and **object ``K`` as of ``S``** (``None``
  included: "absent as of ``S``" is a fact too), for ``S`` at or below the
  newest committed sequence this wrapper has seen pass through
  ``fetch_ledger_range`` (the dispatcher reads it first for every request);
  a missing header is not kept (it may be written later);
- **a transaction found by hash** (it is in exactly one validated ledger);
  *not found* is never kept: it may be stored later;
- **a page of a ledger's state** (``ledger_data``) of a **stored** ledger;
- **a page of an account's history** between two **stored** ledgers.

Contract for the two pages: the caller passes sequences of stored ledgers
(``ledger_data`` selects a stored header first; ``rpc/history.resolve_range``
clamps the bounds to the stored range). This wrapper cannot tell an
online-deleted ledger from a stored one, so it only adds a guard of its own:
pages at sequences above the newest committed one go to the store, never
kept. The request still checks the stored range itself (a transaction of a
deleted ledger is refused after the read, as without this wrapper).

Every kind has its own bounded LRU (``clio_twisted.lru``; a ``ledger_data``
crawl cannot push out the hot Amendments object), each capped in entries and
in ``max_bytes`` of estimated size. Values are shared between requests:
**callers must not mutate what they get** (the handlers copy first).
Everything else goes to the store unchanged. The API side uses it; the ETL
(the writer) keeps the store itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zope.interface import implementer

from clio_twisted.backend.interface import (
    IBackend,
    LedgerPage,
    LedgerRange,
    TransactionRecord,
    TransactionsPage,
    TxCursor,
)
from clio_twisted.lru import BoundedLRU

ENTRY_OVERHEAD = 120  # dict slot, key tuple: a rough per-version cost in bytes
RECORD_OVERHEAD = 200  # attrs instance, key tuple, dict slot: a rough per-record cost
_ABSENT = b""  # kept for None (no stored blob is empty: deletions read as None)

# kind -> max entries (the bytes are ``max_bytes`` for each)
MAX_ENTRIES = {
    "versions": 1 << 18,
    "tx": 16384,
    "ledger_page": 2048,
    "history_page": 2048,
}


def _record_cost(record: TransactionRecord) -> int:
    return len(record.transaction) + len(record.metadata) + RECORD_OVERHEAD


@implementer(IBackend)
class ImmutableReads:
    """An ``IBackend`` that answers immutable reads from memory and the rest from ``inner``.

    Args:
        inner: the store (as the API sees it).
        max_bytes: memory budget of each kind of kept read.
    """

    def __init__(self, inner: IBackend, max_bytes: int = 32 << 20) -> None:
        self._inner = inner
        self.max_bytes = max_bytes
        self.committed = 0  # the newest max sequence seen in a range read
        # (key or b"" for a header, sequence) -> blob (or _ABSENT)
        self.versions: BoundedLRU[tuple[bytes, int], bytes] = BoundedLRU(
            MAX_ENTRIES["versions"], max_bytes
        )
        self.transactions: BoundedLRU[bytes, TransactionRecord] = BoundedLRU(
            MAX_ENTRIES["tx"], max_bytes
        )
        self.ledger_pages: BoundedLRU[tuple[bytes | None, int, int], LedgerPage] = BoundedLRU(
            MAX_ENTRIES["ledger_page"], max_bytes
        )
        self.history_pages: BoundedLRU[tuple[Any, ...], TransactionsPage] = BoundedLRU(
            MAX_ENTRIES["history_page"], max_bytes
        )
        self._all = (self.versions, self.transactions, self.ledger_pages, self.history_pages)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __len__(self) -> int:
        return sum(len(lru) for lru in self._all)

    @property
    def size(self) -> int:
        """Estimated bytes held, all kinds together."""
        return sum(lru.size for lru in self._all)

    @property
    def hits(self) -> int:
        return sum(lru.hits for lru in self._all)

    @property
    def misses(self) -> int:
        return sum(lru.misses for lru in self._all)

    def _put_version(self, key: tuple[bytes, int], blob: bytes | None) -> None:
        value = _ABSENT if blob is None else blob
        self.versions.put(key, value, len(value) + ENTRY_OVERHEAD)

    # -- headers and object versions ---------------------------------------------------------

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
        kept = self.versions.get(key)
        if kept is not None:
            return kept or None
        header = await self._inner.fetch_ledger_by_sequence(sequence)
        if header is not None:  # a missing header is not kept: it may be written later
            self._put_version(key, header)
        return header

    async def fetch_ledger_object(self, key: bytes, sequence: int) -> bytes | None:
        if sequence > self.committed:
            blob: bytes | None = await self._inner.fetch_ledger_object(key, sequence)
            return blob
        kept = self.versions.get((key, sequence))
        if kept is not None:
            return kept or None
        blob = await self._inner.fetch_ledger_object(key, sequence)
        self._put_version((key, sequence), blob)
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
            kept = self.versions.get((key, sequence))
            if kept is None:
                missing.append(i)
                out.append(None)
            else:
                out.append(kept or None)
        if missing:
            fetched = await self._inner.fetch_ledger_objects([keys[i] for i in missing], sequence)
            for i, blob in zip(missing, fetched, strict=True):
                out[i] = blob
                self._put_version((keys[i], sequence), blob)
        return out

    # -- transactions and pages --------------------------------------------------------------

    async def fetch_transaction(self, tx_hash: bytes) -> TransactionRecord | None:
        """A found transaction is kept; not found is asked again next time."""
        hit = self.transactions.get(tx_hash)
        if hit is not None:
            return hit
        record: TransactionRecord | None = await self._inner.fetch_transaction(tx_hash)
        if record is not None:
            self.transactions.put(tx_hash, record, _record_cost(record))
        return record

    async def fetch_ledger_page(
        self, cursor: bytes | None, sequence: int, limit: int
    ) -> LedgerPage:
        """A page of a **stored** ledger (the caller checked), kept."""
        if sequence > self.committed:
            fresh: LedgerPage = await self._inner.fetch_ledger_page(cursor, sequence, limit)
            return fresh
        key = (cursor, sequence, limit)
        hit = self.ledger_pages.get(key)
        if hit is not None:
            return hit
        page: LedgerPage = await self._inner.fetch_ledger_page(cursor, sequence, limit)
        cost = sum(len(o.blob) + len(o.key) + RECORD_OVERHEAD for o in page.objects)
        self.ledger_pages.put(key, page, cost + RECORD_OVERHEAD)
        return page

    async def fetch_account_transactions(
        self,
        account: bytes,
        limit: int,
        forward: bool,
        cursor: TxCursor | None,
        min_sequence: int,
        max_sequence: int,
    ) -> TransactionsPage:
        """A page of history between two **stored** ledgers (the caller resolved them), kept."""
        if max_sequence > self.committed:
            fresh: TransactionsPage = await self._inner.fetch_account_transactions(
                account, limit, forward, cursor, min_sequence, max_sequence
            )
            return fresh
        key = (account, limit, forward, cursor, min_sequence, max_sequence)
        hit = self.history_pages.get(key)
        if hit is not None:
            return hit
        page: TransactionsPage = await self._inner.fetch_account_transactions(
            account, limit, forward, cursor, min_sequence, max_sequence
        )
        cost = sum(_record_cost(r) for r in page.transactions)
        self.history_pages.put(key, page, cost + RECORD_OVERHEAD)
        return page
