"""The publisher: strict ledger order from the store, catch-up ledgers skipped, starting point."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import ensureDeferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.feeds.manager import SubscriptionManager
from clio_twisted.feeds.publisher import Publisher
from clio_twisted.protocol.ledger_header import RIPPLE_EPOCH_UNIX
from tests.feeds.recorded import FakeSession
from tests.rpc.corpus import corpus_backend

CLOSE_OF_28 = 849058476


class PublisherTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = Clock()
        self.clock.advance(CLOSE_OF_28 + RIPPLE_EPOCH_UNIX + 5)
        self.manager = SubscriptionManager()
        self.session = FakeSession()
        for stream in ("ledger", "transactions", "book_changes"):
            self.manager.sub_stream(self.session, stream)
        self.published: list[int] = []
        self.publisher = Publisher(
            corpus_backend(), self.manager, self.clock, on_published=self.published.append
        )

    def kinds(self) -> list[tuple[str, int]]:
        return [(m["type"], m["ledger_index"]) for m in self.session.messages]

    def test_first_commit_is_the_starting_point_and_order_is_kept(self) -> None:
        """The first ledger seen is published, then every later one in order, even if announced out of order."""
        self.publisher.on_committed(28)
        self.publisher.on_committed(30)  # 29 was committed too (a reader can jump)
        self.publisher.on_committed(29)
        self.assertEqual(self.published, [28, 29, 30])
        kinds = self.kinds()
        ledgers = [seq for _kind, seq in kinds]
        self.assertEqual(ledgers, sorted(ledgers))
        # per ledger: ledgerClosed first, then its transactions, then bookChanges
        for seq in (28, 29, 30):
            mine = [k for k, s in kinds if s == seq]
            self.assertEqual(mine[0], "ledgerClosed")
            self.assertEqual(mine[-1], "bookChanges")
            self.assertEqual(set(mine[1:-1]), {"transaction"})
        indexes = [
            m["meta"]["TransactionIndex"]
            for m in self.session.messages
            if m["type"] == "transaction" and m["ledger_index"] == 30
        ]
        self.assertEqual(indexes, sorted(indexes))
        self.assertTrue(self.publisher.idle())

    def test_catch_up_ledgers_are_not_published(self) -> None:
        """A ledger that closed more than 600 s ago is skipped, as in Clio."""
        self.clock.advance(601)
        self.publisher.on_committed(28)
        self.assertEqual(self.published, [])
        self.assertEqual(self.session.raw, [])

    def test_missing_ledger_is_skipped(self) -> None:
        """A sequence the store does not hold publishes nothing (and does not stop the publisher)."""
        d: Any = ensureDeferred(self.publisher.publish(10_000))
        self.assertFalse(self.successResultOf(d))
        self.publisher.on_committed(28)
        self.assertEqual(self.published, [28])

    def test_nobody_subscribed_reads_little(self) -> None:
        """With no subscribers the ledger still counts as published, and nothing is sent."""
        manager = SubscriptionManager()
        publisher = Publisher(corpus_backend(), manager, self.clock)
        publisher.on_committed(28)
        self.assertEqual(publisher.last_published, 28)
