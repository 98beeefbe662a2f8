"""An honest in-memory IBackend for unit tests of the handlers and the ETL.

It keeps the same model as the real backends (every version of every object,
a deletion is a version with an empty blob, the range's max is the commit
point and the writer fence) in plain dicts and sorted lists, and passes the
same contract suite (tests/backend/contract.py). Everything is synchronous
inside the async methods, so ``successResultOf(Deferred.fromCoroutine(...))``
sees results at once.

Two backends sharing one ``MemoryStore`` behave like two servers sharing a
database: both read, and only one can advance the range.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from typing import TypeVar

from attrs import Factory, define
from zope.interface import implementer

from clio_twisted.backend.interface import (
    NFT,
    IBackend,
    LedgerObject,
    LedgerPage,
    LedgerRange,
    LedgerWrite,
    MPTHolderRow,
    NFTsPage,
    TransactionRecord,
    TransactionsPage,
    TxCursor,
    WriteConflict,
)
from clio_twisted.backend.nft_ids import nft_issuer, nft_taxon

_Row = TypeVar("_Row", tuple[int, int, bytes], tuple[int, bytes])


@define
class MemoryStore:
    """The shared "database": what two InMemoryBackends on one store both see."""

    range: LedgerRange | None = None
    headers: dict[int, bytes] = Factory(dict)
    hashes: dict[int, bytes] = Factory(dict)
    by_hash: dict[bytes, int] = Factory(dict)
    # key -> ([sequences ascending], [blobs]) ; all keys ever seen, sorted
    versions: dict[bytes, tuple[list[int], list[bytes]]] = Factory(dict)
    keys: list[bytes] = Factory(list)
    diffs: dict[int, dict[bytes, bytes]] = Factory(dict)
    transactions: dict[bytes, TransactionRecord] = Factory(dict)
    ledger_transactions: dict[int, dict[int, bytes]] = Factory(dict)
    account_tx: dict[bytes, list[tuple[int, int, bytes]]] = Factory(dict)
    nft_states: dict[bytes, list[NFT]] = Factory(dict)
    nft_uris: dict[bytes, list[tuple[int, bytes]]] = Factory(dict)
    nft_tx: dict[bytes, list[tuple[int, int, bytes]]] = Factory(dict)
    # issuer -> sorted [(taxon, token id)]
    issuer_nfts: dict[bytes, list[tuple[int, bytes]]] = Factory(dict)
    # issuance -> sorted [(holder, mptoken key, first sequence)]
    mpt_holders: dict[bytes, list[tuple[bytes, bytes, int]]] = Factory(dict)


@implementer(IBackend)
class InMemoryBackend:
    """IBackend in dicts; pass ``store=`` to share one store between "servers"."""

    def __init__(self, store: MemoryStore | None = None, read_only: bool = False) -> None:
        self.store = store if store is not None else MemoryStore()
        self.read_only = read_only
        self.started = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    def is_too_busy(self) -> bool:
        return False

    # -- ledgers and the range ---------------------------------------------------------

    async def fetch_ledger_range(self) -> LedgerRange | None:
        return self.store.range

    async def fetch_ledger_by_sequence(self, sequence: int) -> bytes | None:
        if not self._committed(sequence):
            return None
        return self.store.headers.get(sequence)

    async def fetch_ledger_by_hash(self, ledger_hash: bytes) -> bytes | None:
        sequence = self.store.by_hash.get(ledger_hash)
        if sequence is None:
            return None
        return await self.fetch_ledger_by_sequence(sequence)

    def _committed(self, sequence: int) -> bool:
        rng = self.store.range
        return rng is not None and rng.min_sequence <= sequence <= rng.max_sequence

    # -- state -------------------------------------------------------------------------

    async def fetch_ledger_object(self, key: bytes, sequence: int) -> bytes | None:
        version = self._version(key, sequence)
        if version is None or not version.blob:
            return None
        return version.blob

    async def fetch_ledger_objects(
        self, keys: Sequence[bytes], sequence: int
    ) -> list[bytes | None]:
        return [await self.fetch_ledger_object(key, sequence) for key in keys]

    async def fetch_ledger_object_version(self, key: bytes, sequence: int) -> LedgerObject | None:
        return self._version(key, sequence)

    def _version(self, key: bytes, sequence: int) -> LedgerObject | None:
        entry = self.store.versions.get(key)
        if entry is None:
            return None
        sequences, blobs = entry
        i = bisect.bisect_right(sequences, sequence)
        if i == 0:
            return None
        return LedgerObject(key=key, blob=blobs[i - 1], sequence=sequences[i - 1])

    async def fetch_successor_key(self, key: bytes, sequence: int) -> bytes | None:
        for live in self._live_after(key, sequence):
            return live.key
        return None

    def _live_after(self, key: bytes | None, sequence: int) -> Iterator[LedgerObject]:
        keys = self.store.keys
        start = 0 if key is None else bisect.bisect_right(keys, key)
        for k in keys[start:]:
            version = self._version(k, sequence)
            if version is not None and version.blob:
                yield version

    async def fetch_ledger_page(
        self, cursor: bytes | None, sequence: int, limit: int
    ) -> LedgerPage:
        objects: list[LedgerObject] = []
        more = False
        for version in self._live_after(cursor, sequence):
            if len(objects) == limit:
                more = True
                break
            objects.append(version)
        next_cursor = objects[-1].key if more and objects else None
        return LedgerPage(objects=objects, cursor=next_cursor)

    async def fetch_ledger_diff(self, sequence: int) -> list[LedgerObject]:
        diff = self.store.diffs.get(sequence, {})
        return [LedgerObject(key=k, blob=diff[k], sequence=sequence) for k in sorted(diff)]

    # -- transactions ------------------------------------------------------------------

    async def fetch_transaction(self, tx_hash: bytes) -> TransactionRecord | None:
        record = self.store.transactions.get(tx_hash)
        if record is None or not self._committed(record.ledger_sequence):
            return None
        return record

    async def fetch_transactions(self, hashes: Sequence[bytes]) -> list[TransactionRecord | None]:
        return [await self.fetch_transaction(h) for h in hashes]

    async def fetch_ledger_transaction_hashes(self, sequence: int) -> list[bytes]:
        if not self._committed(sequence):
            return []
        by_index = self.store.ledger_transactions.get(sequence, {})
        return [by_index[i] for i in sorted(by_index)]

    async def fetch_ledger_transactions(self, sequence: int) -> list[TransactionRecord]:
        hashes = await self.fetch_ledger_transaction_hashes(sequence)
        return [self.store.transactions[h] for h in hashes]

    async def fetch_account_transactions(
        self,
        account: bytes,
        limit: int,
        forward: bool,
        cursor: TxCursor | None,
        min_sequence: int,
        max_sequence: int,
    ) -> TransactionsPage:
        rows = self.store.account_tx.get(account, [])
        return self._history_page(rows, limit, forward, cursor, min_sequence, max_sequence)

    def _history_page(
        self,
        rows: list[tuple[int, int, bytes]],
        limit: int,
        forward: bool,
        cursor: TxCursor | None,
        min_sequence: int,
        max_sequence: int,
    ) -> TransactionsPage:
        rng = self.store.range
        if rng is None:
            return TransactionsPage(transactions=[], cursor=None)
        max_sequence = min(max_sequence, rng.max_sequence)
        lo: tuple[int, int] = (min_sequence, 0)
        hi: tuple[int, int] = (max_sequence, 0xFFFFFFFF)
        if cursor is not None:
            position = (cursor.ledger_sequence, cursor.transaction_index)
            if forward:
                lo = max(lo, position)
            else:
                hi = min(hi, position)
        selected = [r for r in rows if lo <= (r[0], r[1]) <= hi]
        if not forward:
            selected.reverse()
        page, rest = selected[:limit], selected[limit:]
        next_cursor = TxCursor(rest[0][0], rest[0][1]) if rest else None
        return TransactionsPage(
            transactions=[self.store.transactions[r[2]] for r in page], cursor=next_cursor
        )

    # -- NFTs and MPTs -----------------------------------------------------------------

    async def fetch_nft(self, token_id: bytes, sequence: int) -> NFT | None:
        states = self.store.nft_states.get(token_id, [])
        i = bisect.bisect_right([s.ledger_sequence for s in states], sequence)
        if i == 0:
            return None
        state = states[i - 1]
        uris = self.store.nft_uris.get(token_id, [])
        j = bisect.bisect_right([u[0] for u in uris], sequence)
        uri = uris[j - 1][1] if j else None
        return NFT(
            token_id=token_id,
            ledger_sequence=state.ledger_sequence,
            owner=state.owner,
            is_burned=state.is_burned,
            uri=uri,
        )

    async def fetch_nft_transactions(
        self,
        token_id: bytes,
        limit: int,
        forward: bool,
        cursor: TxCursor | None,
        min_sequence: int,
        max_sequence: int,
    ) -> TransactionsPage:
        rows = self.store.nft_tx.get(token_id, [])
        return self._history_page(rows, limit, forward, cursor, min_sequence, max_sequence)

    async def fetch_nfts_by_issuer(
        self, issuer: bytes, taxon: int | None, limit: int, cursor: bytes | None, sequence: int
    ) -> NFTsPage:
        index = self.store.issuer_nfts.get(issuer, [])
        start = 0
        if cursor is not None:
            start = bisect.bisect_right(index, (nft_taxon(cursor), cursor))
        nfts: list[NFT] = []
        more = False
        for row_taxon, token_id in index[start:]:
            if taxon is not None and row_taxon != taxon:
                continue
            nft = await self.fetch_nft(token_id, sequence)
            if nft is None:
                continue
            if len(nfts) == limit:
                more = True
                break
            nfts.append(nft)
        return NFTsPage(nfts=nfts, cursor=nfts[-1].token_id if more and nfts else None)

    async def fetch_mpt_holders(
        self, issuance_id: bytes, limit: int, cursor: bytes | None, sequence: int
    ) -> tuple[list[bytes], bytes | None]:
        rows = self.store.mpt_holders.get(issuance_id, [])
        keys: list[bytes] = []
        last: bytes | None = None
        more = False
        for holder, key, first in rows:
            if cursor is not None and holder <= cursor:
                continue
            if first > sequence or await self.fetch_ledger_object(key, sequence) is None:
                continue
            if len(keys) == limit:
                more = True
                break
            keys.append(key)
            last = holder
        return keys, last if more else None

    # -- writing -----------------------------------------------------------------------

    async def write_state_objects(self, sequence: int, objects: Sequence[LedgerObject]) -> None:
        self._check_writable()
        for obj in objects:
            self._put_object(obj.key, sequence, obj.blob)

    async def write_ledger(self, ledger: LedgerWrite) -> None:
        self._check_writable()
        store = self.store
        rng = store.range
        expected_previous = None if ledger.is_first else ledger.sequence - 1
        current = rng.max_sequence if rng is not None else None
        if current != expected_previous:
            if current == ledger.sequence and store.hashes.get(current) == ledger.ledger_hash:
                pass  # an idempotent rewrite of the max: the rows below are the same again
            else:
                raise WriteConflict(
                    f"cannot commit ledger {ledger.sequence}: the stored max is {current}"
                )
        seq = ledger.sequence
        store.headers[seq] = ledger.header
        store.hashes[seq] = ledger.ledger_hash
        store.by_hash[ledger.ledger_hash] = seq
        diff = store.diffs.setdefault(seq, {})
        for obj in ledger.objects:
            self._put_object(obj.key, seq, obj.blob)
            if not ledger.is_first:
                diff[obj.key] = obj.blob
        for tx in ledger.transactions:
            store.transactions[tx.hash] = tx
            store.ledger_transactions.setdefault(seq, {})[tx.transaction_index] = tx.hash
        for row in ledger.account_transactions:
            _insort_unique(
                store.account_tx.setdefault(row.account, []),
                (row.ledger_sequence, row.transaction_index, row.hash),
            )
        for nft in ledger.nfts:
            self._put_nft(nft)
        for nrow in ledger.nft_transactions:
            _insort_unique(
                store.nft_tx.setdefault(nrow.token_id, []),
                (nrow.ledger_sequence, nrow.transaction_index, nrow.hash),
            )
        for mrow in ledger.mpt_holders:
            self._put_mpt_holder(mrow)
        # the commit point, last
        if ledger.is_first or rng is None:
            store.range = LedgerRange(seq, seq)
        else:
            store.range = LedgerRange(rng.min_sequence, seq)

    def _check_writable(self) -> None:
        if self.read_only:
            raise WriteConflict("this backend is read-only")

    def _put_object(self, key: bytes, sequence: int, blob: bytes) -> None:
        entry = self.store.versions.get(key)
        if entry is None:
            entry = ([], [])
            self.store.versions[key] = entry
            bisect.insort(self.store.keys, key)
        sequences, blobs = entry
        i = bisect.bisect_left(sequences, sequence)
        if i < len(sequences) and sequences[i] == sequence:
            blobs[i] = blob
        else:
            sequences.insert(i, sequence)
            blobs.insert(i, blob)

    def _put_nft(self, nft: NFT) -> None:
        store = self.store
        states = store.nft_states.setdefault(nft.token_id, [])
        sequences = [s.ledger_sequence for s in states]
        i = bisect.bisect_left(sequences, nft.ledger_sequence)
        state = NFT(nft.token_id, nft.ledger_sequence, nft.owner, nft.is_burned, None)
        if i < len(states) and sequences[i] == nft.ledger_sequence:
            states[i] = state
        else:
            states.insert(i, state)
        if nft.uri is not None:
            uris = store.nft_uris.setdefault(nft.token_id, [])
            uris[:] = [u for u in uris if u[0] != nft.ledger_sequence]
            bisect.insort(uris, (nft.ledger_sequence, nft.uri))
        _insort_unique(
            store.issuer_nfts.setdefault(nft_issuer(nft.token_id), []),
            (nft_taxon(nft.token_id), nft.token_id),
        )

    def _put_mpt_holder(self, row: MPTHolderRow) -> None:
        rows = self.store.mpt_holders.setdefault(row.issuance_id, [])
        for i, (holder, _key, first) in enumerate(rows):
            if holder == row.holder:
                rows[i] = (holder, row.mptoken_key, min(first, row.sequence))
                return
        bisect.insort(rows, (row.holder, row.mptoken_key, row.sequence))


def _insort_unique(rows: list[_Row], item: _Row) -> None:
    i = bisect.bisect_left(rows, item)
    if i == len(rows) or rows[i] != item:
        rows.insert(i, item)
