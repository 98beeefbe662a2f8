"""The subscription manager's copy rules, per-version serialisation and cleanup; the bounded send queue."""

from __future__ import annotations

import json
from typing import Any

from twisted.test.proto_helpers import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.feeds.manager import Payload, SubscriptionManager
from clio_twisted.feeds.relay import Relay
from clio_twisted.feeds.send_queue import SendQueue
from tests.feeds.recorded import FakeSession

A, B = b"\x01" * 20, b"\x02" * 20
USD = ((b"\x00" * 12 + b"USD" + b"\x00" * 5, b"\x03" * 20), ((bytes(20), b"")), None)
EUR = ((b"\x00" * 12 + b"EUR" + b"\x00" * 5, b"\x03" * 20), ((bytes(20), b"")), None)


class FakeTx:
    """A DecodedTransaction stand-in whose message says its version, counting builds."""

    def __init__(self, accounts: set[bytes], books: set[Any]) -> None:
        self.accounts = frozenset(accounts)
        self.books = frozenset(books)
        self.builds: list[int] = []

    def message(self, api_version: int, network_id: int) -> dict[str, Any]:
        self.builds.append(api_version)
        return {"type": "transaction", "v": api_version}


def publish(manager: SubscriptionManager, tx: FakeTx) -> None:
    manager.publish_transaction(tx, 0)  # type: ignore[arg-type]


class ManagerTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.m = SubscriptionManager()

    def test_serialised_once_per_version(self) -> None:
        """A thousand subscribers in two versions cost two builds; each gets its version's bytes."""
        sessions = [FakeSession() for _ in range(1000)]
        for i, s in enumerate(sessions):
            self.m.sub_stream(s, "transactions")
            self.m.set_version(s, 2 if i % 2 else 1)
        tx = FakeTx(set(), set())
        publish(self.m, tx)
        self.assertEqual(sorted(tx.builds), [1, 2])
        self.assertEqual(sessions[0].messages, [{"type": "transaction", "v": 1}])
        self.assertEqual(sessions[1].messages, [{"type": "transaction", "v": 2}])
        self.assertIs(sessions[0].raw[0], sessions[2].raw[0])  # the very same bytes object

    def test_one_copy_per_connection_for_accounts_and_books(self) -> None:
        """Several watched accounts (or books) touched by one transaction: one copy each."""
        s = FakeSession()
        self.m.sub_account(s, A)
        self.m.sub_account(s, B)
        self.m.sub_account(s, A, proposed=True)
        self.m.sub_book(s, USD)
        self.m.sub_book(s, EUR)
        publish(self.m, FakeTx({A, B}, set()))
        self.assertEqual(len(s.raw), 1)
        publish(self.m, FakeTx(set(), {USD, EUR}))
        self.assertEqual(len(s.raw), 2)
        publish(self.m, FakeTx({A}, {USD}))  # accounts and books are counted apart, as Clio
        self.assertEqual(len(s.raw), 4)

    def test_transactions_and_proposed_streams_each_get_a_copy(self) -> None:
        """A connection on transactions and transactions_proposed gets a validated tx twice (rippled does)."""
        s = FakeSession()
        self.m.sub_stream(s, "transactions")
        self.m.sub_stream(s, "transactions_proposed")
        publish(self.m, FakeTx(set(), set()))
        self.assertEqual(len(s.raw), 2)

    def test_untouched_subscribers_get_nothing(self) -> None:
        """Account and book subscribers only get what touches them."""
        s = FakeSession()
        self.m.sub_account(s, A)
        self.m.sub_book(s, USD)
        publish(self.m, FakeTx({B}, {EUR}))
        self.assertEqual(s.raw, [])

    def test_unsubscribe_and_remove_session(self) -> None:
        """Unsubscribing stops delivery; a closed session disappears from every table and count."""
        s, t = FakeSession(), FakeSession()
        for x in (s, t):
            self.m.sub_stream(x, "ledger")
            self.m.sub_account(x, A)
            self.m.sub_book(x, USD)
        self.m.unsub_stream(s, "ledger")
        self.m.publish_stream("ledger", {"type": "ledgerClosed"})
        self.assertEqual((len(s.raw), len(t.raw)), (0, 1))
        self.m.remove_session(t)
        counts = self.m.counts()
        self.assertEqual((counts["ledger"], counts["account"], counts["books"]), (0, 1, 1))
        self.m.unsub_account(s, A)
        self.m.unsub_book(s, USD)
        self.assertEqual(self.m.counts()["account"] + self.m.counts()["books"], 0)
        self.assertFalse(self.m.wants_transactions())

    def test_proposed_relay_reaches_accounts_proposed(self) -> None:
        """A relayed proposed transaction goes to transactions_proposed and to accounts_proposed it names."""
        from clio_twisted.protocol.addresses import decode_address

        alice = "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"
        s, t, u = FakeSession(), FakeSession(), FakeSession()
        self.m.sub_stream(s, "transactions_proposed")
        self.m.sub_account(t, decode_address(alice), proposed=True)
        self.m.sub_account(u, decode_address(alice))  # validated-only: not for proposed
        message = {"type": "transaction", "transaction": {"Account": alice}, "validated": False}
        self.m.publish_proposed(message)
        self.assertEqual((s.messages, t.messages, u.messages), ([message], [message], []))

    def test_payload_unversioned(self) -> None:
        """Messages equal in every version are serialised once for all."""
        p = Payload(lambda v: {"v": v}, versioned=False)
        self.assertIs(p.for_version(1), p.for_version(2))
        self.assertEqual(json.loads(p.for_version(2)), {"v": 1})


class RelayTests(SynchronousTestCase):
    def test_one_source_only_and_failover(self) -> None:
        """Only the first healthy source's messages go out; another takes over when it is unhealthy."""

        class Src:
            def __init__(self, name: str) -> None:
                self.name, self.healthy = name, True

        m = SubscriptionManager()
        s = FakeSession()
        m.sub_stream(s, "validations")
        relay = Relay(m)
        a, b = Src("a"), Src("b")
        relay.on_stream(a, {"type": "validationReceived", "n": 1})
        relay.on_stream(b, {"type": "validationReceived", "n": 1})
        a.healthy = False
        relay.on_stream(b, {"type": "validationReceived", "n": 2})
        self.assertEqual([x["n"] for x in s.messages], [1, 2])

    def test_validated_transactions_are_not_relayed(self) -> None:
        """From transactions_proposed only proposed ones are relayed: validated ones come from the store."""
        m = SubscriptionManager()
        s = FakeSession()
        m.sub_stream(s, "transactions_proposed")
        relay = Relay(m)
        relay.on_stream("src", {"type": "transaction", "meta": {}, "validated": True})
        relay.on_stream("src", {"type": "ledgerClosed"})
        relay.on_stream("src", {"type": "transaction", "validated": False, "transaction": {}})
        self.assertEqual(len(s.raw), 1)


class SendQueueTests(SynchronousTestCase):
    def make(self, limit: int = 3) -> tuple[SendQueue, list[bytes], list[bool], StringTransport]:
        sent: list[bytes] = []
        dropped: list[bool] = []
        q = SendQueue(sent.append, lambda: dropped.append(True), limit, name="198.51.100.7")
        transport = StringTransport()
        q.attach(transport)
        return q, sent, dropped, transport

    def test_registers_as_streaming_producer(self) -> None:
        """The queue is the transport's push producer (replacing an earlier one)."""
        q, _, _, transport = self.make()
        self.assertIs(transport.producer, q)
        self.assertTrue(transport.streaming)

    def test_straight_through_then_queued_while_paused_then_drained_in_order(self) -> None:
        """Messages pass while the transport keeps up, wait while paused, and go out in order on resume."""
        q, sent, dropped, _ = self.make()
        q.push(b"1")
        q.pauseProducing()
        q.push(b"2")
        q.push(b"3")
        self.assertEqual(sent, [b"1"])
        self.assertEqual(len(q), 2)
        q.resumeProducing()
        q.push(b"4")
        self.assertEqual(sent, [b"1", b"2", b"3", b"4"])
        self.assertEqual(dropped, [])

    def test_over_the_bound_the_client_is_dropped_and_memory_freed(self) -> None:
        """More than ``limit`` waiting messages: disconnect, log, and forget what was waiting."""
        q, sent, dropped, _ = self.make(limit=3)
        q.pauseProducing()
        for i in range(3):
            q.push(b"x%d" % i)
        self.assertEqual(dropped, [])
        q.push(b"over")
        self.assertEqual(dropped, [True])
        self.assertEqual(len(q), 0)
        q.push(b"later")
        q.resumeProducing()
        self.assertEqual(sent, [])
        self.flushLoggedErrors()
