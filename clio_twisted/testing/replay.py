"""The recorded rippled 3.1.1 corpus, compacted, and its loader.

The corpus recorded from a real rippled (ledgers 3-270) is kept in the project
as one gzip stream: the first ledger's full state, then for each ledger its
118-byte header, its transactions (tx blob and metadata blob, in
TransactionIndex order) and the objects it changed. JSON renderings are not
kept: rippled produces them from these blobs, and so do we.

Stream layout, big-endian: ``MAGIC``, u32 ledger count; per ledger: header,
u32 transaction count, per transaction (u32 length, tx blob, u32 length, meta
blob), u32 change count, per change (32-byte key, u32 length or ``DELETED``,
blob).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import struct
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from clio_twisted.protocol.hashing import transaction_id
from clio_twisted.protocol.ledger_header import HEADER_SIZE, LedgerHeader
from clio_twisted.testing.chain import Chain, ChainLedger

MAGIC = b"CLIO-REPLAY/1\n"
DELETED = 0xFFFFFFFF
LEDGERS_FILE = "ledgers.bin.gz"
CHECKS_FILE = "checks.json"
DEFAULT_CORPUS = Path(__file__).parent / "data" / "replay-3.1.1"

_U32 = struct.Struct(">I")


class CorpusError(ValueError):
    """A compact corpus that is truncated or not in this format."""


def state_digest(state: Mapping[bytes, bytes]) -> str:
    """A digest of a whole state (sorted keys and blobs), to compare states cheaply."""
    h = hashlib.sha256()
    for key in sorted(state):
        blob = state[key]
        h.update(key)
        h.update(_U32.pack(len(blob)))
        h.update(blob)
    return h.hexdigest()


def encode_corpus(ledgers: Iterable[ChainLedger]) -> bytes:
    """Ledgers (the first with its full state) in the compact format, before gzip."""
    body = io.BytesIO()
    count = 0
    for ledger in ledgers:
        count += 1
        body.write(ledger.header.to_bytes())
        body.write(_U32.pack(len(ledger.transactions)))
        for _hash, tx, meta in ledger.transactions:
            body.write(_U32.pack(len(tx)))
            body.write(tx)
            body.write(_U32.pack(len(meta)))
            body.write(meta)
        body.write(_U32.pack(len(ledger.changes)))
        for key in sorted(ledger.changes):
            blob = ledger.changes[key]
            body.write(key)
            if blob is None:
                body.write(_U32.pack(DELETED))
            else:
                body.write(_U32.pack(len(blob)))
                body.write(blob)
    return MAGIC + _U32.pack(count) + body.getvalue()


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def take(self, size: int) -> bytes:
        end = self._at + size
        if end > len(self._data):
            raise CorpusError("compact corpus is truncated")
        chunk = self._data[self._at : end]
        self._at = end
        return chunk

    def u32(self) -> int:
        value: int = _U32.unpack(self.take(4))[0]
        return value

    def blob(self) -> bytes:
        return self.take(self.u32())


def read_corpus(data: bytes) -> Iterator[ChainLedger]:
    """Decode a compact corpus (already gunzipped) into ChainLedgers, in order."""
    reader = _Reader(data)
    if reader.take(len(MAGIC)) != MAGIC:
        raise CorpusError("not a compact replay corpus")
    for _ in range(reader.u32()):
        header = LedgerHeader.from_bytes(reader.take(HEADER_SIZE))
        transactions = []
        for _ in range(reader.u32()):
            tx = reader.blob()
            meta = reader.blob()
            transactions.append((transaction_id(tx), tx, meta))
        changes: dict[bytes, bytes | None] = {}
        for _ in range(reader.u32()):
            key = reader.take(32)
            size = reader.u32()
            changes[key] = None if size == DELETED else reader.take(size)
        yield ChainLedger(header, tuple(transactions), changes)


def load_ledgers(directory: Path = DEFAULT_CORPUS) -> list[ChainLedger]:
    """Every ledger of a compact corpus directory, first one with its full state."""
    with gzip.open(directory / LEDGERS_FILE, "rb") as f:
        return list(read_corpus(f.read()))


def load_chain(directory: Path = DEFAULT_CORPUS, upto: int | None = None) -> Chain:
    """A Chain holding the corpus's ledgers up to sequence ``upto`` (all when None)."""
    chain = Chain()
    for ledger in load_ledgers(directory):
        if upto is not None and ledger.sequence > upto:
            break
        chain.append(ledger)
    return chain


def load_json(directory: Path, name: str) -> Any:
    """One of the recorded JSON answers kept beside the ledgers (gzip or plain)."""
    path = directory / name
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            return json.loads(f.read())
    return json.loads(path.read_bytes())
