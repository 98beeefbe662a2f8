"""Tests for the versioned in-memory ledger store behind the fake rippled."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.testing.chain import Chain, ChainError, ChainLedger, key_before


def _key(n: int) -> bytes:
    return n.to_bytes(32, "big")


def _header(sequence: int, parent: bytes) -> LedgerHeader:
    return LedgerHeader(
        sequence=sequence,
        total_drops=10**17,
        parent_hash=parent,
        transaction_hash=bytes(32),
        account_hash=bytes([sequence % 256]) * 32,
        parent_close_time=1000 + sequence,
        close_time=1001 + sequence,
        close_time_resolution=10,
        close_flags=0,
    )


def _chain() -> tuple[Chain, list[ChainLedger]]:
    """Three ledgers: 10 holds keys 1..5, 11 deletes 3 and adds 7, 12 changes 1."""
    chain = Chain()
    first = ChainLedger(_header(10, bytes(32)), (), {_key(n): b"v%d" % n for n in (5, 1, 2, 3, 4)})
    chain.append(first)
    second = ChainLedger(
        _header(11, first.hash),
        ((b"\xaa" * 32, b"tx", b"meta"),),
        {_key(3): None, _key(7): b"v7"},
    )
    chain.append(second)
    third = ChainLedger(_header(12, second.hash), (), {_key(1): b"v1'"})
    chain.append(third)
    return chain, [first, second, third]


class ChainTests(SynchronousTestCase):
    def test_range(self) -> None:
        """first and last follow the appended ledgers; an empty chain has neither."""
        self.assertIsNone(Chain().first)
        self.assertIsNone(Chain().last)
        chain, _ = _chain()
        self.assertEqual((chain.first, chain.last, len(chain)), (10, 12, 3))

    def test_append_checks_sequence_and_parent(self) -> None:
        """A ledger out of sequence or with the wrong parent hash is refused."""
        chain, ledgers = _chain()
        with self.assertRaises(ChainError):
            chain.append(ChainLedger(_header(14, ledgers[2].hash), (), {}))
        with self.assertRaises(ChainError):
            chain.append(ChainLedger(_header(13, ledgers[1].hash), (), {}))
        chain.append(ChainLedger(_header(13, ledgers[2].hash), (), {}))
        self.assertEqual(chain.last, 13)

    def test_ledger_lookup(self) -> None:
        """Ledgers are found by sequence and by hash; unknown ones are None."""
        chain, ledgers = _chain()
        self.assertIs(chain.ledger(11), ledgers[1])
        self.assertIs(chain.by_hash(ledgers[2].hash), ledgers[2])
        self.assertIsNone(chain.ledger(9))
        self.assertIsNone(chain.ledger(13))
        self.assertIsNone(chain.by_hash(bytes(32)))

    def test_object_versions(self) -> None:
        """Each sequence sees the object's version as of that ledger."""
        chain, _ = _chain()
        self.assertEqual(chain.object(_key(1), 11), b"v1")
        self.assertEqual(chain.object(_key(1), 12), b"v1'")
        self.assertEqual(chain.object(_key(3), 10), b"v3")
        self.assertIsNone(chain.object(_key(3), 11))
        self.assertIsNone(chain.object(_key(7), 10))
        self.assertEqual(chain.object(_key(7), 12), b"v7")
        self.assertIsNone(chain.object(_key(1), 9))

    def test_successor_from_any_key(self) -> None:
        """successor skips deleted and not-yet-created keys, starting from any key."""
        chain, _ = _chain()
        self.assertEqual(chain.successor(_key(2), 10), _key(3))
        self.assertEqual(chain.successor(_key(2), 11), _key(4))
        self.assertEqual(chain.successor(_key(5), 10), None)
        self.assertEqual(chain.successor(_key(5), 11), _key(7))
        self.assertEqual(chain.successor(_key(6), 12), _key(7))
        self.assertEqual(chain.successor(bytes(32), 10), _key(1))

    def test_page_marker(self) -> None:
        """page resumes strictly after the marker; the next marker is the key before the next object."""
        chain, _ = _chain()
        items, marker = chain.page(None, 11, 2)
        self.assertEqual(items, [(_key(1), b"v1"), (_key(2), b"v2")])
        self.assertEqual(marker, _key(3))
        items, marker = chain.page(marker, 11, 2)
        self.assertEqual(items, [(_key(4), b"v4"), (_key(5), b"v5")])
        self.assertEqual(marker, _key(6))
        items, marker = chain.page(marker, 11, 2)
        self.assertEqual((items, marker), ([(_key(7), b"v7")], None))

    def test_page_from_any_key(self) -> None:
        """A marker that is no live object's key starts at the next live key."""
        chain, _ = _chain()
        items, marker = chain.page(_key(3), 10, 1)
        self.assertEqual((items, marker), ([(_key(4), b"v4")], _key(4)))
        items, marker = chain.page(_key(6), 10, 5)
        self.assertEqual((items, marker), ([], None))
        self.assertEqual(chain.page(bytes(32), 10, 1)[0], [(_key(1), b"v1")])

    def test_page_exact_fit_has_no_marker(self) -> None:
        """When the last page is exactly full there is no further marker."""
        chain, _ = _chain()
        items, marker = chain.page(_key(3), 10, 2)
        self.assertEqual([k for k, _ in items], [_key(4), _key(5)])
        self.assertIsNone(marker)

    def test_page_limit_zero(self) -> None:
        """A zero limit returns nothing and the key before the first live key."""
        chain, _ = _chain()
        self.assertEqual(chain.page(None, 10, 0), ([], _key(0)))

    def test_key_before_wraps(self) -> None:
        """key_before is a 256-bit decrement, wrapping at zero."""
        self.assertEqual(key_before(_key(0x100)), _key(0xFF))
        self.assertEqual(key_before(bytes(32)), b"\xff" * 32)

    def test_transaction_lookup(self) -> None:
        """A transaction is found with its ledger and index; unknown ones are None."""
        chain, ledgers = _chain()
        self.assertEqual(chain.transaction(b"\xaa" * 32), (ledgers[1], 0))
        self.assertIsNone(chain.transaction(b"\xbb" * 32))
