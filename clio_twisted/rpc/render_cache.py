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

from typing import Any

from clio_twisted.backend.interface import TransactionRecord
from clio_twisted.lru import BoundedLRU
from clio_twisted.protocol.codec import decode
from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.protocol.render import Form, render_ledger_entry, render_transaction

JsonDict = dict[str, Any]

# Decoded JSON takes several times its binary size in Python objects.
JSON_OVERHEAD = 12
MAX_BLOB = 64 << 10  # larger blobs are rendered every time, never kept


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
