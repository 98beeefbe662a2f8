"""subscribe: Clio's validation errors in order, the ledger answer, book snapshots, the session's version."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import ensureDeferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import LedgerRange
from clio_twisted.feeds.manager import SubscriptionManager
from clio_twisted.rpc.context import Context
from clio_twisted.rpc.errors import RPCError
from clio_twisted.rpc.handlers import subscribe
from tests.feeds.recorded import FakeSession
from tests.rpc.corpus import FIRST, LAST, corpus_backend

ALICE = "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"
GATEWAY = "rRtJMZbVx3PM4iXvnH7pR1KYmnyzQXcfm"
USD = {"currency": "USD", "issuer": GATEWAY}


def error_of(params: dict[str, Any]) -> tuple[str, str | None]:
    try:
        subscribe.parse(params, 1)
    except RPCError as e:
        body = e.to_json()
        return body["error"], body.get("error_message")
    raise AssertionError(f"no error for {params}")


class ParseTests(SynchronousTestCase):
    def test_streams(self) -> None:
        """Not an array, a non-string, unsupported and unknown stream names."""
        self.assertEqual(error_of({"streams": "ledger"}), ("invalidParams", "streamsNotArray"))
        self.assertEqual(error_of({"streams": [1]}), ("invalidParams", "streamNotString"))
        for name in ("peer_status", "consensus", "server"):
            self.assertEqual(error_of({"streams": [name]})[0], "notSupported")
        self.assertEqual(
            error_of({"streams": ["ledgers"]}), ("malformedStream", "Stream malformed.")
        )

    def test_accounts(self) -> None:
        """accounts and accounts_proposed: arrays, not empty, valid addresses."""
        self.assertEqual(error_of({"accounts": ALICE}), ("invalidParams", "accountsNotArray"))
        self.assertEqual(error_of({"accounts": []}), ("actMalformed", "accounts malformed."))
        self.assertEqual(
            error_of({"accounts_proposed": [5]}),
            ("invalidParams", "accounts_proposed'sItemNotString"),
        )
        self.assertEqual(
            error_of({"accounts": ["rBAD"]}), ("actMalformed", "accounts'sItemMalformed")
        )

    def test_books(self) -> None:
        """books: array of objects, boolean both/snapshot, a valid taker, a valid distinct pair."""
        book = {"taker_pays": {"currency": "XRP"}, "taker_gets": USD}
        self.assertEqual(error_of({"books": book}), ("invalidParams", "booksNotArray"))
        self.assertEqual(error_of({"books": [1]}), ("invalidParams", "booksItemNotObject"))
        self.assertEqual(
            error_of({"books": [{**book, "both": 1}]}), ("invalidParams", "bothNotBool")
        )
        self.assertEqual(
            error_of({"books": [{**book, "snapshot": "y"}]}), ("invalidParams", "snapshotNotBool")
        )
        self.assertEqual(
            error_of({"books": [{**book, "taker": "rBAD"}]}),
            ("badIssuer", "Issuer account malformed."),
        )
        self.assertEqual(
            error_of({"books": [{"taker_gets": USD, "taker_pays": USD}]})[0], "badMarket"
        )
        self.assertEqual(
            error_of({"books": [{"taker_gets": USD, "taker_pays": {"currency": "USD"}}]})[0],
            "srcIsrMalformed",
        )

    def test_book_errors_are_clios(self) -> None:
        """A book's errors carry Clio's tokens and messages, in Clio's order (its book parser)."""
        xrp = {"currency": "XRP"}
        cases = [
            ({"taker_pays": xrp}, ("invalidParams", "Missing field 'taker_gets'")),
            (
                {"taker_pays": "USD", "taker_gets": xrp},
                ("invalidParams", "Field 'taker_pays' is not an object"),
            ),
            (
                {"taker_pays": {}, "taker_gets": {}},
                ("srcCurMalformed", "Source currency is malformed."),
            ),
            (
                {"taker_pays": xrp, "taker_gets": {"currency": 1}},
                ("dstAmtMalformed", "Destination amount/currency/issuer is malformed."),
            ),
            (
                {"taker_pays": {"currency": "XXXXXX"}, "taker_gets": {"currency": "yyyyyy"}},
                ("srcCurMalformed", "Source currency is malformed."),
            ),
            (
                {"taker_pays": {"currency": "USD", "issuer": "123"}, "taker_gets": xrp},
                ("srcIsrMalformed", "Source issuer is malformed."),
            ),
            (
                {"taker_pays": {"currency": "USD", "issuer": 1}, "taker_gets": xrp},
                ("invalidParams", "takerPaysIssuerNotString"),
            ),
            (
                {"taker_pays": xrp, "taker_gets": {"currency": "USD", "issuer": 1}},
                ("invalidParams", "taker_gets.issuer should be string"),
            ),
            (
                {"taker_pays": xrp, "taker_gets": {"currency": "USD", "issuer": "123"}},
                ("dstIsrMalformed", "Invalid field 'taker_gets.issuer', bad issuer."),
            ),
        ]
        for book, expected in cases:
            self.assertEqual(error_of({"books": [book]}), expected, book)

    def test_order_streams_first(self) -> None:
        """The first bad field in Clio's order (streams, accounts, accounts_proposed, books) is reported."""
        self.assertEqual(error_of({"books": 1, "streams": [2]})[1], "streamNotString")


class ProcessTests(SynchronousTestCase):
    def run_subscribe(self, params: dict[str, Any], version: int = 1) -> tuple[dict[str, Any], Any]:
        self.manager = SubscriptionManager()
        self.session = FakeSession()
        ctx = Context(
            backend=corpus_backend(),
            clock=Clock(),
            api_version=version,
            ledger_range=LedgerRange(FIRST, LAST),
            transport="ws",
            session=self.session,
            subscriptions=self.manager,
        )
        d = ensureDeferred(subscribe.process(ctx, subscribe.parse(params, version)))
        return self.successResultOf(d), ctx

    def test_ledger_answer_and_version(self) -> None:
        """The ledger stream answers the newest ledger; the request's version becomes the session's."""
        answer, _ = self.run_subscribe({"streams": ["ledger", "transactions"]}, version=2)
        self.assertEqual(answer["ledger_index"], LAST)
        self.assertEqual(answer["validated_ledgers"], f"{FIRST}-{LAST}")
        self.assertEqual(
            set(answer),
            {
                "ledger_index",
                "ledger_hash",
                "ledger_time",
                "fee_base",
                "reserve_base",
                "reserve_inc",
                "validated_ledgers",
                "network_id",
            },
        )
        self.assertEqual(self.manager.version_of(self.session), 2)
        self.assertEqual(self.manager.counts()["transactions"], 1)

    def test_other_streams_answer_empty(self) -> None:
        """Without the ledger stream (and snapshots) the result is empty."""
        answer, _ = self.run_subscribe({"streams": ["validations"], "accounts": [ALICE]})
        self.assertEqual(answer, {})
        self.assertEqual(self.manager.counts()["account"], 1)

    def test_snapshot_shapes(self) -> None:
        """snapshot gives offers; with both, bids and asks (and both books are subscribed)."""
        book = {"taker_pays": {"currency": "XRP"}, "taker_gets": USD, "snapshot": True}
        answer, _ = self.run_subscribe({"books": [book]})
        self.assertEqual(set(answer), {"offers"})
        answer, _ = self.run_subscribe({"books": [{**book, "both": True}]})
        self.assertEqual(set(answer), {"bids", "asks"})
        self.assertEqual(self.manager.counts()["books"], 2)

    def test_deprecated_fields_warn(self) -> None:
        """user, password, rt_accounts are accepted with the deprecation warning."""
        _, ctx = self.run_subscribe({"streams": ["ledger"], "rt_accounts": []})
        self.assertEqual([w["id"] for w in ctx.warnings], [2004])

    def test_websocket_only(self) -> None:
        """Over HTTP the envelope refuses it (badSyntax): the handler says it is WebSocket-only."""
        self.assertTrue(subscribe.HANDLER.ws_only)
