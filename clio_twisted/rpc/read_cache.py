"""Store reads whose answer can never change, kept in memory per backend.

Why: a SQLite read runs on a pool thread, and handing it there and back costs
the reactor more than the read itself (GIL hand-offs on every socket call
while the thread works). Some reads are fixed for good once their ledgers are
stored, so their results can be kept without any invalidation:

- a transaction found by hash (a transaction is in exactly one validated
  ledger; *not found* is never kept: it may be stored later);
- a page of a ledger's state (``ledger_data``): the objects of a stored
  ledger never change;
- a page of an account's history between two **stored** ledgers (the
  handlers resolve the bounds to stored sequences first).

The request still checks the stored range itself (an online-deleted ledger is
refused before or after the read, as without the cache). Caches belong to one
backend object (weakly: a test's store takes its caches with it), and every
one is bounded in entries and in the bytes of the blobs it holds.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from clio_twisted.backend.interface import (
    LedgerPage,
    TransactionRecord,
    TransactionsPage,
    TxCursor,
)
from clio_twisted.rpc.render_cache import BoundedLRU

RECORD_OVERHEAD = 200  # attrs instance, key tuple, dict slot: a rough per-record cost

_PER_BACKEND: WeakKeyDictionary[Any, dict[str, BoundedLRU[Any, Any]]] = WeakKeyDictionary()

# name -> (max entries, max bytes)
LIMITS = {
    "tx": (16384, 32 << 20),
    "ledger_page": (2048, 32 << 20),
    "history_page": (2048, 32 << 20),
}


def _cache(backend: Any, name: str) -> BoundedLRU[Any, Any] | None:
    try:
        caches = _PER_BACKEND.get(backend)
        if caches is None:
            caches = _PER_BACKEND[backend] = {}
    except TypeError:  # not weakly referenceable: no memory
        return None
    cache = caches.get(name)
    if cache is None:
        cache = caches[name] = BoundedLRU(*LIMITS[name])
    return cache


def _record_cost(record: TransactionRecord) -> int:
    return len(record.transaction) + len(record.metadata) + RECORD_OVERHEAD


async def fetch_transaction(backend: Any, tx_hash: bytes) -> TransactionRecord | None:
    """``backend.fetch_transaction``; a found transaction is kept."""
    cache = _cache(backend, "tx")
    if cache is not None:
        hit: TransactionRecord | None = cache.get(tx_hash)
        if hit is not None:
            return hit
    record: TransactionRecord | None = await backend.fetch_transaction(tx_hash)
    if record is not None and cache is not None:
        cache.put(tx_hash, record, _record_cost(record))
    return record


async def fetch_ledger_page(
    backend: Any, cursor: bytes | None, sequence: int, limit: int
) -> LedgerPage:
    """``backend.fetch_ledger_page`` of a **stored** ledger (the caller checked), kept."""
    cache = _cache(backend, "ledger_page")
    key = (cursor, sequence, limit)
    if cache is not None:
        hit: LedgerPage | None = cache.get(key)
        if hit is not None:
            return hit
    page: LedgerPage = await backend.fetch_ledger_page(cursor, sequence, limit)
    if cache is not None:
        cost = sum(len(o.blob) + len(o.key) + RECORD_OVERHEAD for o in page.objects)
        cache.put(key, page, cost + RECORD_OVERHEAD)
    return page


async def fetch_account_transactions(
    backend: Any,
    account: bytes,
    limit: int,
    forward: bool,
    cursor: TxCursor | None,
    min_sequence: int,
    max_sequence: int,
) -> TransactionsPage:
    """``backend.fetch_account_transactions`` between two **stored** ledgers (the caller checked), kept."""
    cache = _cache(backend, "history_page")
    key = (account, limit, forward, cursor, min_sequence, max_sequence)
    if cache is not None:
        hit: TransactionsPage | None = cache.get(key)
        if hit is not None:
            return hit
    page: TransactionsPage = await backend.fetch_account_transactions(
        account, limit, forward, cursor, min_sequence, max_sequence
    )
    if cache is not None:
        cost = sum(_record_cost(r) for r in page.transactions)
        cache.put(key, page, cost + RECORD_OVERHEAD)
    return page
