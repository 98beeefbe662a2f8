"""unsubscribe: the same validation as subscribe (no snapshot check), and it undoes each kind."""

from __future__ import annotations

from twisted.internet.defer import ensureDeferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import LedgerRange
from clio_twisted.feeds.manager import SubscriptionManager
from clio_twisted.rpc.context import Context
from clio_twisted.rpc.errors import RPCError
from clio_twisted.rpc.handlers import subscribe, unsubscribe
from tests.fakes.backend import InMemoryBackend
from tests.feeds.recorded import FakeSession

ALICE = "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"
USD = {"currency": "USD", "issuer": "rRtJMZbVx3PM4iXvnH7pR1KYmnyzQXcfm"}
BOOK = {"taker_pays": {"currency": "XRP"}, "taker_gets": USD, "both": True}


class UnsubscribeTests(SynchronousTestCase):
    def test_undoes_everything(self) -> None:
        """Streams, accounts, proposed accounts and both sides of a book are removed."""
        manager, session = SubscriptionManager(), FakeSession()
        ctx = Context(
            backend=InMemoryBackend(),
            clock=Clock(),
            ledger_range=LedgerRange(1, 1),
            session=session,
            subscriptions=manager,
        )
        params = {
            "streams": ["transactions", "book_changes"],
            "accounts": [ALICE],
            "accounts_proposed": [ALICE],
            "books": [BOOK],
        }
        self.successResultOf(ensureDeferred(subscribe.process(ctx, subscribe.parse(params, 1))))
        self.assertEqual(sum(manager.counts().values()), 6)
        answer = self.successResultOf(
            ensureDeferred(unsubscribe.process(ctx, unsubscribe.parse(params, 1)))
        )
        self.assertEqual(answer, {})
        self.assertEqual(sum(manager.counts().values()), 0)

    def test_validation(self) -> None:
        """Bad streams are refused as by subscribe; snapshot is not checked."""
        with self.assertRaises(RPCError):
            unsubscribe.parse({"streams": ["server"]}, 1)
        unsubscribe.parse({"books": [{**BOOK, "snapshot": "whatever"}]}, 1)
        self.assertTrue(unsubscribe.HANDLER.ws_only)
