"""A versioned in-memory ledger store: the data behind the rippled stand-in.

The fake rippled must answer ``ledger_entry``, ``ledger_data`` and ``ledger``
for any ledger it has validated, not only the latest one, as rippled does for
the history it keeps. So every version of every object is kept: one sorted
list of every key ever seen (for successor walks from any key, live or not)
and, per key, the sequences at which it changed with the blob it took then
(``None`` once deleted). Looking an object up at a sequence is one bisect.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Mapping

from attrs import field, frozen

from clio_twisted.protocol.ledger_header import LedgerHeader

KEY_SIZE = 32
# Past this many new keys in one ledger, re-sorting the whole list is cheaper
# than inserting them one at a time.
_BULK_INSERT = 64


class ChainError(ValueError):
    """A ledger that does not extend the chain."""


@frozen
class ChainLedger:
    """One validated ledger: its header, transactions and state changes.

    For the first ledger of a chain, ``changes`` is the full state.
    """

    header: LedgerHeader
    # (tx hash, tx blob, meta blob), in TransactionIndex order.
    transactions: tuple[tuple[bytes, bytes, bytes], ...]
    # key -> new blob, or None when the object was deleted in this ledger.
    changes: Mapping[bytes, bytes | None] = field(hash=False)

    @property
    def sequence(self) -> int:
        return self.header.sequence

    @property
    def hash(self) -> bytes:
        return self.header.hash


def key_before(key: bytes) -> bytes:
    """The 256-bit key one less than ``key`` (wrapping at zero), as rippled's ``--k``."""
    value = (int.from_bytes(key, "big") - 1) % (1 << (8 * KEY_SIZE))
    return value.to_bytes(KEY_SIZE, "big")


class Chain:
    """Consecutive ledgers with every version of every state object."""

    def __init__(self) -> None:
        self._ledgers: list[ChainLedger] = []
        self._by_hash: dict[bytes, ChainLedger] = {}
        self._keys: list[bytes] = []
        # key -> (sequences at which it changed, blob from that sequence on).
        self._versions: dict[bytes, tuple[list[int], list[bytes | None]]] = {}
        self._transactions: dict[bytes, tuple[int, int]] = {}

    def __len__(self) -> int:
        return len(self._ledgers)

    @property
    def first(self) -> int | None:
        """The first sequence held, or None while the chain is empty."""
        return self._ledgers[0].sequence if self._ledgers else None

    @property
    def last(self) -> int | None:
        """The last (latest validated) sequence held, or None while empty."""
        return self._ledgers[-1].sequence if self._ledgers else None

    def append(self, ledger: ChainLedger) -> None:
        """Add the next ledger; it must follow the last one by sequence and parent hash."""
        if self._ledgers:
            last = self._ledgers[-1]
            if ledger.sequence != last.sequence + 1:
                raise ChainError(f"ledger {ledger.sequence} does not follow ledger {last.sequence}")
            if ledger.header.parent_hash != last.hash:
                raise ChainError(
                    f"ledger {ledger.sequence}'s parent hash is not ledger {last.sequence}'s hash"
                )
        sequence = ledger.sequence
        new_keys: list[bytes] = []
        for key, blob in ledger.changes.items():
            if len(key) != KEY_SIZE:
                raise ChainError(f"object key must be {KEY_SIZE} bytes, not {len(key)}")
            versions = self._versions.get(key)
            if versions is None:
                if blob is None:
                    continue  # deleting what never existed changes nothing
                self._versions[key] = ([sequence], [blob])
                new_keys.append(key)
            else:
                versions[0].append(sequence)
                versions[1].append(blob)
        self._add_keys(new_keys)
        for index, (tx_hash, _tx, _meta) in enumerate(ledger.transactions):
            self._transactions[tx_hash] = (sequence, index)
        self._ledgers.append(ledger)
        self._by_hash[ledger.hash] = ledger

    def _add_keys(self, new_keys: list[bytes]) -> None:
        if len(new_keys) > _BULK_INSERT:
            self._keys.extend(new_keys)
            self._keys.sort()
        else:
            for key in new_keys:
                insort(self._keys, key)

    def ledger(self, sequence: int) -> ChainLedger | None:
        first = self.first
        if first is None or not first <= sequence <= first + len(self._ledgers) - 1:
            return None
        return self._ledgers[sequence - first]

    def by_hash(self, ledger_hash: bytes) -> ChainLedger | None:
        return self._by_hash.get(ledger_hash)

    def object(self, key: bytes, sequence: int) -> bytes | None:
        """The object's blob as of ledger ``sequence``, or None if absent then."""
        versions = self._versions.get(key)
        if versions is None:
            return None
        position = bisect_right(versions[0], sequence) - 1
        if position < 0:
            return None
        return versions[1][position]

    def successor(self, key: bytes, sequence: int) -> bytes | None:
        """The first key strictly after ``key`` (any 32 bytes) live at ``sequence``."""
        position = bisect_right(self._keys, key)
        keys = self._keys
        while position < len(keys):
            candidate = keys[position]
            if self.object(candidate, sequence) is not None:
                return candidate
            position += 1
        return None

    def page(
        self, marker: bytes | None, sequence: int, limit: int
    ) -> tuple[list[tuple[bytes, bytes]], bytes | None]:
        """Up to ``limit`` live objects after ``marker``, and the marker to resume.

        As rippled's ``ledger_data`` (checked against its recorded answers):
        the walk starts strictly after the marker (any 32 bytes; from the
        start when None), and when objects remain the next marker is the key
        one less than the first object not returned.
        """
        start = bisect_right(self._keys, marker) if marker is not None else 0
        keys = self._keys
        found: list[tuple[bytes, bytes]] = []
        position = start
        while position < len(keys):
            key = keys[position]
            blob = self.object(key, sequence)
            position += 1
            if blob is None:
                continue
            if len(found) >= limit:
                return found, key_before(key)
            found.append((key, blob))
        return found, None

    def transaction(self, tx_hash: bytes) -> tuple[ChainLedger, int] | None:
        """The ledger holding the transaction and its index there, or None."""
        found = self._transactions.get(tx_hash)
        if found is None:
            return None
        ledger = self.ledger(found[0])
        assert ledger is not None
        return ledger, found[1]
