"""Test data for the storage contract: headers, keys and a small ledger chain model.

``Chain`` plays the ETL's part: it keeps the live key set and emits, with each
ledger, exactly the successor links the ETL would (``FIRST_KEY`` and every live
key whose next key changed, ``LAST_KEY`` at the end), so backends that walk a
successor table (Cassandra) and backends that use an ordered index (SQLite,
memory) are fed the same way.
"""

from __future__ import annotations

import bisect
import hashlib
import struct
from collections.abc import Iterable, Sequence

from clio_twisted.backend.interface import (
    FIRST_KEY,
    LAST_KEY,
    NFT,
    AccountTransactionRow,
    LedgerObject,
    LedgerWrite,
    MPTHolderRow,
    NFTTransactionRow,
    TransactionRecord,
)
from clio_twisted.protocol.ledger_header import LedgerHeader

BASE_SEQUENCE = 1000


def key(n: int) -> bytes:
    """A 32-byte object key whose order is unrelated to ``n`` (like real keys)."""
    return hashlib.sha256(b"key-%d" % n).digest()


def tx_hash(n: int) -> bytes:
    return hashlib.sha256(b"tx-%d" % n).digest()


def account(n: int) -> bytes:
    return hashlib.sha256(b"account-%d" % n).digest()[:20]


def blob(n: int, version: int = 0) -> bytes:
    """A distinct non-empty blob for object ``n`` at ``version``."""
    return b"\x11\x00\x61" + struct.pack(">II", n, version) + bytes(20)


def nft_id(issuer: bytes, taxon: int, sequence: int, flags: int = 8, fee: int = 0) -> bytes:
    """An NFToken id laid out as XLS-20 says (taxon scrambled with the sequence)."""
    scrambled = taxon ^ ((384160001 * sequence + 2459) & 0xFFFFFFFF)
    return struct.pack(">HH", flags, fee) + issuer + struct.pack(">II", scrambled, sequence)


def header(sequence: int, variant: int = 0) -> bytes:
    """A well-formed 118-byte header; ``variant`` changes its hash (a fork)."""
    return LedgerHeader(
        sequence=sequence,
        total_drops=99_999_999_999_000_000,
        parent_hash=hashlib.sha256(b"parent-%d" % sequence).digest(),
        transaction_hash=bytes(32),
        account_hash=hashlib.sha256(b"state-%d" % sequence).digest(),
        parent_close_time=700_000_000 + sequence * 4 - 4,
        close_time=700_000_000 + sequence * 4 + variant,
        close_time_resolution=10,
        close_flags=0,
    ).to_bytes()


def header_hash(blob_: bytes) -> bytes:
    return LedgerHeader.from_bytes(blob_).hash


def transaction(n: int, sequence: int, index: int) -> TransactionRecord:
    return TransactionRecord(
        hash=tx_hash(n),
        ledger_sequence=sequence,
        transaction_index=index,
        date=700_000_000 + sequence * 4,
        transaction=b"\x12\x00\x00" + struct.pack(">I", n),
        metadata=b"\x20\x1c" + struct.pack(">I", index),
    )


class Chain:
    """The live key set over successive ledgers, and LedgerWrites that describe it."""

    def __init__(self, first_sequence: int = BASE_SEQUENCE) -> None:
        self.next_sequence = first_sequence
        self.live: list[bytes] = []
        self.history: dict[int, dict[bytes, bytes]] = {}
        self.state: dict[bytes, bytes] = {}

    def ledger(
        self,
        objects: Iterable[LedgerObject] = (),
        *,
        variant: int = 0,
        transactions: Sequence[TransactionRecord] = (),
        account_transactions: Sequence[AccountTransactionRow] = (),
        nfts: Sequence[NFT] = (),
        nft_transactions: Sequence[NFTTransactionRow] = (),
        mpt_holders: Sequence[MPTHolderRow] = (),
    ) -> LedgerWrite:
        """The next ledger's write (the first one is ``is_first``); updates the model."""
        sequence = self.next_sequence
        is_first = not self.history
        objects = list(objects)
        before = self._links()
        for obj in objects:
            if obj.blob:
                if obj.key not in self.state:
                    bisect.insort(self.live, obj.key)
                self.state[obj.key] = obj.blob
            elif obj.key in self.state:
                del self.state[obj.key]
                self.live.remove(obj.key)
        after = self._links()
        successors = [(k, n) for k, n in after.items() if before.get(k) != n]
        header_blob = header(sequence, variant)
        self.history[sequence] = dict(self.state)
        self.next_sequence += 1
        return LedgerWrite(
            sequence=sequence,
            header=header_blob,
            ledger_hash=header_hash(header_blob),
            objects=[LedgerObject(o.key, o.blob, sequence) for o in objects],
            successors=successors,
            transactions=transactions,
            account_transactions=account_transactions,
            nfts=nfts,
            nft_transactions=nft_transactions,
            mpt_holders=mpt_holders,
            is_first=is_first,
        )

    def live_at(self, sequence: int) -> list[bytes]:
        return sorted(self.history[sequence])

    def _links(self) -> dict[bytes, bytes]:
        chain = [FIRST_KEY, *self.live, LAST_KEY]
        return {chain[i]: chain[i + 1] for i in range(len(chain) - 1)}


def put(n: int, version: int = 0) -> LedgerObject:
    return LedgerObject(key(n), blob(n, version))


def delete(n: int) -> LedgerObject:
    return LedgerObject(key(n), b"")
