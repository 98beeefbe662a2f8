"""Bounded memory of rendered JSON for data that never changes once stored.

Why: under load the same transactions, state objects and ledger headers are
asked for again and again (a page of ``account_tx`` or ``ledger_data``, one
``tx``, ``account_info``'s amendments), and turning their binary into rippled's
JSON is most of what those requests cost. A stored transaction or object
version never changes, so its rendering can be kept without any invalidation:
every key holds the *bytes* the rendering is a function of (the blob itself,
or a hash fixed by it), so a different blob can never meet a stale answer.

Every cache here is a least-recently-used map bounded in entries and in an
estimate of the bytes it holds. Values are shared between requests:
**callers must not mutate what they get** (copy first; the handlers that add
fields, as ``account_info`` does, copy the top level).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Generic, TypeVar

from clio_twisted.backend.interface import TransactionRecord
from clio_twisted.protocol.codec import decode
from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.protocol.render import Form, render_ledger_entry, render_transaction

K = TypeVar("K")
V = TypeVar("V")
JsonDict = dict[str, Any]

# Decoded JSON takes several times its binary size in Python objects.
JSON_OVERHEAD = 12
MAX_BLOB = 64 << 10  # larger blobs are rendered every time, never kept


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


TxKey = tuple[bytes, bytes, int, int, str, "int | None", bool]

TRANSACTIONS: BoundedLRU[TxKey, tuple[JsonDict, JsonDict]] = BoundedLRU(8192, 64 << 20)
ENTRIES: BoundedLRU[tuple[bytes, bytes], JsonDict] = BoundedLRU(32768, 64 << 20)
AMENDMENTS: BoundedLRU[bytes, frozenset[str]] = BoundedLRU(64, 1 << 20)
# whole account_tx / nft_history entries (rpc.tx_json.history_item)
HISTORY_ITEMS: BoundedLRU[tuple[Any, ...], JsonDict] = BoundedLRU(8192, 64 << 20)
HEADERS: BoundedLRU[tuple[LedgerHeader, int], tuple[bytes, JsonDict]] = BoundedLRU(4096, 8 << 20)


def rendered_transaction(
    record: TransactionRecord,
    api_version: int,
    form: Form,
    network_id: int | None,
    delivered_amount: bool,
) -> tuple[JsonDict, JsonDict]:
    """``protocol.render.render_transaction`` of a stored transaction, kept (shared: do not mutate)."""
    key: TxKey = (
        record.hash,
        record.metadata,
        record.ledger_sequence,
        api_version,
        form,
        network_id,
        delivered_amount,
    )
    hit = TRANSACTIONS.get(key)
    if hit is not None:
        return hit
    tx, meta = render_transaction(
        record.transaction,
        record.metadata,
        api_version=api_version,
        ledger_index=record.ledger_sequence,
        close_time=record.date,
        network_id=network_id,
        form=form,
    )
    if not delivered_amount:
        meta.pop("delivered_amount", None)
    size = len(record.transaction) + len(record.metadata)
    if size <= MAX_BLOB:
        TRANSACTIONS.put(key, (tx, meta), size * JSON_OVERHEAD + len(record.metadata))
    return tx, meta


def rendered_entry(blob: bytes, key: bytes) -> JsonDict:
    """``protocol.render.render_ledger_entry`` of one object version, kept (shared: do not mutate)."""
    cache_key = (key, blob)
    hit = ENTRIES.get(cache_key)
    if hit is not None:
        return hit
    value = render_ledger_entry(blob, key)
    if len(blob) <= MAX_BLOB:
        ENTRIES.put(cache_key, value, len(blob) * (JSON_OVERHEAD + 1) + 64)
    return value


def amendment_ids(blob: bytes) -> frozenset[str]:
    """The upper-case hex ids listed in an Amendments object's binary."""
    hit = AMENDMENTS.get(blob)
    if hit is not None:
        return hit
    value = frozenset(decode(blob).get("Amendments", []))
    AMENDMENTS.put(blob, value, len(blob) * 4 + 64)
    return value


def header_json(header: LedgerHeader, api_version: int) -> tuple[bytes, JsonDict]:
    """A header's hash and ``to_json(api_version)``, kept (shared: copy before adding fields)."""
    key = (header, api_version)
    hit = HEADERS.get(key)
    if hit is not None:
        return hit
    value = (header.hash, header.to_json(api_version))
    HEADERS.put(key, value, 1024)
    return value


def clear_all() -> None:
    """Forget everything (tests)."""
    for cache in (TRANSACTIONS, ENTRIES, AMENDMENTS, HEADERS, LEDGER_HASHES, HISTORY_ITEMS):
        cache.clear()


LEDGER_HASHES: BoundedLRU[bytes, bytes] = BoundedLRU(4096, 1 << 20)


def ledger_hash_of(blob: bytes) -> bytes:
    """The hash of a stored ledger header (its binary), kept."""
    hit = LEDGER_HASHES.get(blob)
    if hit is not None:
        return hit
    value = LedgerHeader.from_bytes(blob).hash
    LEDGER_HASHES.put(blob, value, len(blob) + 96)
    return value
