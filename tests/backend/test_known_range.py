"""The ledger range kept in memory: the store at start-up, commits at once, another writer within the refresh."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import LedgerRange, LedgerWrite
from clio_twisted.backend.known_range import KnownRange
from tests.fakes.backend import InMemoryBackend
from tests.rpc.helpers import NOW, make_header, store_ledgers


def extend(store: InMemoryBackend, first: int, last: int) -> None:
    """Commit ledgers ``first..last`` after the stored ones (as a writer would)."""
    for seq in range(first, last + 1):
        header = make_header(seq, NOW)
        write = LedgerWrite(sequence=seq, header=header.to_bytes(), ledger_hash=header.hash)
        Deferred.fromCoroutine(store.write_ledger(write)).addErrback(lambda f: f.raiseException())


class CountingBackend(InMemoryBackend):
    """Counts range reads, so a test can see which answers came from memory."""

    range_reads = 0

    async def fetch_ledger_range(self) -> LedgerRange | None:
        self.range_reads += 1
        return await super().fetch_ledger_range()


class KnownRangeTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.store = CountingBackend()
        self.known = KnownRange(self.store, self.clock, refresh_seconds=1.0)
        self.successResultOf(Deferred.fromCoroutine(self.known.start()))
        self.addCleanup(lambda: self.successResultOf(Deferred.fromCoroutine(self.known.stop())))

    def range(self) -> Any:
        return self.successResultOf(Deferred.fromCoroutine(self.known.fetch_ledger_range()))

    def test_store_is_read_once_then_memory_answers(self) -> None:
        """The first read goes to the store; later reads within the refresh period do not."""
        store_ledgers(self.store, 3, 10, NOW)
        self.assertEqual(self.range(), LedgerRange(3, 10))
        for _ in range(5):
            self.assertEqual(self.range(), LedgerRange(3, 10))
        self.assertEqual(self.store.range_reads, 1)

    def test_commit_is_visible_to_the_next_read(self) -> None:
        """A ledger the ETL reports committed is in the very next answer, without a store read."""
        store_ledgers(self.store, 3, 10, NOW)
        self.range()
        extend(self.store, 11, 11)
        self.known.on_committed(11)
        self.assertEqual(self.range(), LedgerRange(3, 11))
        self.assertEqual(self.store.range_reads, 1)

    def test_other_writer_seen_within_refresh_period(self) -> None:
        """A reader whose writer is another process sees the new ledger after one refresh period."""
        store_ledgers(self.store, 3, 10, NOW)
        self.range()
        extend(self.store, 11, 12)  # written behind our back
        self.assertEqual(self.range(), LedgerRange(3, 10))
        self.clock.advance(1.0)
        self.assertEqual(self.range(), LedgerRange(3, 12))

    def test_empty_store_then_first_commit(self) -> None:
        """Nothing stored reads as None; the first commit makes a one-ledger range."""
        self.assertIsNone(self.range())
        store_ledgers(self.store, 5, 5, NOW)
        self.known.on_committed(5)
        self.assertEqual(self.range(), LedgerRange(5, 5))

    def test_never_goes_backwards(self) -> None:
        """A refresh that reads an older max (a lagging replica) keeps the newer sequence."""
        store_ledgers(self.store, 3, 10, NOW)
        self.range()
        self.known.on_committed(12)
        self.clock.advance(1.0)
        self.assertEqual(self.range(), LedgerRange(3, 12))

    def test_refresh_stops_with_the_backend(self) -> None:
        """After stop() no refresh is scheduled on the clock."""
        self.successResultOf(Deferred.fromCoroutine(self.known.stop()))
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertFalse(self.store.started)
        self.successResultOf(Deferred.fromCoroutine(self.known.start()))


class ListenerTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.store = CountingBackend()
        store_ledgers(self.store, 3, 10, NOW)
        self.known = KnownRange(self.store, self.clock, refresh_seconds=1.0)
        self.seen: list[LedgerRange | None] = []
        self.known.add_listener(self.seen.append)
        self.successResultOf(Deferred.fromCoroutine(self.known.start()))
        self.addCleanup(lambda: self.successResultOf(Deferred.fromCoroutine(self.known.stop())))

    def test_told_at_once_on_commit(self) -> None:
        """A commit reaches the listener synchronously, with the new range."""
        self.successResultOf(Deferred.fromCoroutine(self.known.fetch_ledger_range()))
        self.known.on_committed(11)
        self.assertEqual(self.seen, [LedgerRange(3, 10), LedgerRange(3, 11)])

    def test_told_on_refresh_only_when_changed(self) -> None:
        """A refresh that reads the same range says nothing; one that sees another writer's ledger does."""
        self.clock.advance(1.0)
        self.clock.advance(1.0)
        self.assertEqual(self.seen, [LedgerRange(3, 10)])
        extend(self.store, 11, 11)
        self.clock.advance(1.0)
        self.assertEqual(self.seen, [LedgerRange(3, 10), LedgerRange(3, 11)])

    def test_failing_listener_does_not_stop_others(self) -> None:
        """A listener that raises is logged; the range still moves and later listeners are told."""

        def broken(_: object) -> None:
            raise RuntimeError("boom")

        later: list[LedgerRange | None] = []
        self.known._listeners.insert(0, broken)
        self.known.add_listener(later.append)
        self.known.on_committed(11)
        self.assertEqual(later, [LedgerRange(11, 11)])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
