"""Every stream message rippled 3.1.1 sent while ledgers 28-270 closed, rebuilt from our store.

Each recorded connection is replayed: its own ``subscribe`` request goes
through our handler (against the store as it stood at ledger 27, when the
recording subscribed), then ledgers 28-270 are published from the store. What
each session receives must equal what rippled sent, message for message, in
order. ``validated_ledgers`` is the one field left out: rippled held ledgers
from 2, our corpus from 3.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import LedgerRange
from clio_twisted.feeds.manager import SubscriptionManager
from clio_twisted.feeds.publisher import Publisher
from clio_twisted.protocol.ledger_header import RIPPLE_EPOCH_UNIX
from clio_twisted.rpc.context import Context
from clio_twisted.rpc.handlers import subscribe
from tests.feeds.recorded import FakeSession, recorded_stream
from tests.rpc.corpus import FIRST, LAST, corpus_backend

SUBSCRIBED_AT = 27
CLOSE_OF_28 = 849058476  # the recorded ledger 28's close time (seconds since 2000)


def _run(test: SynchronousTestCase, coroutine: Any) -> Any:
    d: Deferred[Any] = ensureDeferred(coroutine)
    return test.successResultOf(d)


def _without_range(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "validated_ledgers"}


class RecordedStreamsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.backend = corpus_backend()
        self.clock = Clock()
        self.clock.advance(CLOSE_OF_28 + RIPPLE_EPOCH_UNIX)
        self.manager = SubscriptionManager()

    def subscribe(self, name: str) -> tuple[FakeSession, dict[str, Any], list[dict[str, Any]]]:
        """Replay a recorded connection's subscribe; return the session, our answer, rippled's messages."""
        sent, messages = recorded_stream(name)
        session = FakeSession()
        version = sent.get("api_version", 1)
        ctx = Context(
            backend=self.backend,
            clock=self.clock,
            api_version=version,
            ledger_range=LedgerRange(FIRST, SUBSCRIBED_AT),
            transport="ws",
            session=session,
            subscriptions=self.manager,
        )
        answer = _run(self, subscribe.process(ctx, subscribe.parse(sent, version)))
        return session, answer, messages

    def publish_all(self) -> None:
        publisher = Publisher(self.backend, self.manager, self.clock)
        for sequence in range(SUBSCRIBED_AT + 1, LAST + 1):
            self.clock.advance(1)
            self.assertTrue(_run(self, publisher.publish(sequence)), sequence)

    def check(self, name: str, ignore_range: bool = False) -> None:
        session, answer, messages = self.subscribe(name)
        self.publish_all()
        expected = messages[1:-1]  # the subscribe answer first, the unsubscribe answer last
        got = session.messages
        if ignore_range:
            got = [_without_range(m) for m in got]
            expected = [_without_range(m) for m in expected]
        self.assertEqual(len(got), len(expected))
        for index, (ours, theirs) in enumerate(zip(got, expected, strict=True)):
            self.assertEqual(ours, theirs, f"{name} message {index}")

    def test_ledger(self) -> None:
        """ledgerClosed for every ledger, with fees, txn_count and network_id; the subscribe answer too."""
        session, answer, messages = self.subscribe("ledger")
        self.assertEqual(_without_range(answer), _without_range(messages[0]["result"]))
        self.assertEqual(answer["validated_ledgers"], f"{FIRST}-{SUBSCRIBED_AT}")
        self.publish_all()
        got = [_without_range(m) for m in session.messages]
        self.assertEqual(got, [_without_range(m) for m in messages[1:-1]])
        self.assertEqual(session.messages[-1]["validated_ledgers"], f"{FIRST}-{LAST}")

    def test_transactions_v1(self) -> None:
        """Every transaction in v1 shape (``transaction`` with hash, owner_funds, ctid), in order."""
        self.check("transactions")

    def test_transactions_v2(self) -> None:
        """Every transaction in v2 shape (``tx_json``, hash beside it)."""
        self.check("transactions_v2")

    def test_accounts_v1(self) -> None:
        """Exactly the transactions touching four accounts, one copy each."""
        self.check("accounts")

    def test_accounts_v2(self) -> None:
        """Account subscriptions in a v2 session get v2 messages."""
        self.check("accounts_v2")

    def test_book_changes(self) -> None:
        """bookChanges for every ledger."""
        self.check("book_changes")

    def test_books_with_snapshot_and_both(self) -> None:
        """Book subscribers get the snapshot (offers, bids/asks) and exactly the transactions of their books."""
        session, answer, messages = self.subscribe("books")
        self.assertEqual(answer, messages[0]["result"])
        self.publish_all()
        self.assertEqual(session.messages, messages[1:-1])
