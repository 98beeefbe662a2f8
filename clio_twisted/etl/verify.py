"""Check a fetched ledger against its own header before anything of it is written.

Always: the header hashes to the hash the source announced, its parent is
the stored previous ledger, and its transactions rebuild ``transaction_hash``.
With ``verify_state``: applying the ledger's object changes to an
incrementally kept state SHAMap gives ``account_hash``; a failed check undoes
the changes, so the map stays at the last good ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from clio_twisted.backend.interface import LedgerObject, TransactionRecord
from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.protocol.shamap import SHAMap, transaction_tree_hash


class VerificationError(Exception):
    """The ledger does not match its header (or its place in the chain)."""


def check_header(
    header: LedgerHeader, expected_hash: bytes | None, parent_hash: bytes | None
) -> None:
    """The header's own hash, and its link to the stored parent when there is one."""
    if expected_hash is not None and header.hash != expected_hash:
        raise VerificationError(
            f"ledger {header.sequence}: header hashes to {header.hash.hex().upper()}, "
            f"source said {expected_hash.hex().upper()}"
        )
    if parent_hash is not None and header.parent_hash != parent_hash:
        raise VerificationError(
            f"ledger {header.sequence}: parent_hash {header.parent_hash.hex().upper()} "
            f"is not the stored ledger {header.sequence - 1}'s hash {parent_hash.hex().upper()}"
        )


def check_transactions(header: LedgerHeader, transactions: Sequence[TransactionRecord]) -> None:
    tree = transaction_tree_hash((t.hash, t.transaction, t.metadata) for t in transactions)
    if tree != header.transaction_hash:
        raise VerificationError(
            f"ledger {header.sequence}: transactions hash to {tree.hex().upper()}, "
            f"header says {header.transaction_hash.hex().upper()}"
        )


class StateVerifier:
    """The latest ledger's state as a SHAMap, kept in step with the commits."""

    def __init__(self) -> None:
        self._map = SHAMap()
        self.sequence = 0

    def __len__(self) -> int:
        return len(self._map)

    def load(self, objects: Iterable[tuple[bytes, bytes]], sequence: int) -> None:
        for key, blob in objects:
            self._map.set(key, blob)
        self.sequence = sequence

    def root_hash(self) -> bytes:
        return self._map.root_hash()

    def check(
        self,
        header: LedgerHeader,
        objects: Sequence[LedgerObject],
        previous: dict[bytes, bytes | None],
    ) -> None:
        """Apply ``objects`` and compare with ``account_hash``; undo them if it does not match.

        ``previous`` maps each changed key to its blob before this ledger (None
        if it did not exist), for the undo.
        """
        self.apply(objects)
        root = self._map.root_hash()
        if root != header.account_hash:
            self.apply([LedgerObject(k, v or b"", 0) for k, v in previous.items()])
            raise VerificationError(
                f"ledger {header.sequence}: state hashes to {root.hex().upper()}, "
                f"header says {header.account_hash.hex().upper()}"
            )
        self.sequence = header.sequence

    def apply(self, objects: Iterable[LedgerObject]) -> None:
        for obj in objects:
            if obj.blob:
                self._map.set(obj.key, obj.blob)
            else:
                self._map.delete(obj.key)

    def memory_estimate(self) -> int:
        """A rough byte count: ~ leaf hash + key + inner-node share per object."""
        return len(self._map) * 200
