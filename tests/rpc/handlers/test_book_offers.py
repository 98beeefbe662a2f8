"""book_offers: validation order and errors, limits, and funding (transfer fees, running balances, freezes)."""

from __future__ import annotations

from typing import Any

from attrs import evolve

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import LedgerObject, LedgerRange, LedgerWrite
from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import decode_address
from clio_twisted.protocol.codec import encode
from clio_twisted.rpc.context import Context
from clio_twisted.rpc.handlers.book_offers import HANDLER
from tests.fakes.backend import InMemoryBackend
from tests.rpc.corpus import call, corpus_context
from tests.rpc.helpers import make_header

GW = "rRtJMZbVx3PM4iXvnH7pR1KYmnyzQXcfm"
ALICE = "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"
BOB = "ra6UF6SEGtsVr4A3giXbQvjjd8FEmNH6Q"
USD = {"currency": "USD", "issuer": GW}
XRP = {"currency": "XRP"}
TXID = "AB" * 32


def _root(address: str, balance: int, flags: int = 0, **extra: Any) -> tuple[bytes, dict[str, Any]]:
    obj = {
        "LedgerEntryType": "AccountRoot",
        "Account": address,
        "Balance": str(balance),
        "Flags": flags,
        "OwnerCount": 0,
        "Sequence": 1,
        "PreviousTxnID": TXID,
        "PreviousTxnLgrSeq": 1,
        **extra,
    }
    return keylets.account(decode_address(address)), obj


def _line(holder: str, value: str, flags: int = 0) -> tuple[bytes, dict[str, Any]]:
    h, g = decode_address(holder), decode_address(GW)
    low, high = (holder, GW) if h < g else (GW, holder)
    balance = value if low == holder else "-" + value
    obj = {
        "LedgerEntryType": "RippleState",
        "Balance": {"currency": "USD", "issuer": "rrrrrrrrrrrrrrrrrrrrBZbvji", "value": balance},
        "Flags": flags,
        "HighLimit": {"currency": "USD", "issuer": high, "value": "0"},
        "LowLimit": {"currency": "USD", "issuer": low, "value": "0"},
        "HighNode": "0",
        "LowNode": "0",
        "PreviousTxnID": TXID,
        "PreviousTxnLgrSeq": 1,
    }
    return keylets.line(h, g, keylets.currency_code("USD")), obj


def _book(offers: list[tuple[str, int, str, int]]) -> list[tuple[bytes, dict[str, Any]]]:
    """Offers (owner, sequence, USD sold, drops asked) of the XRP->USD book, with their directories."""
    pays, gets = (
        (keylets.XRP_CURRENCY, keylets.XRP_ISSUER),
        (keylets.currency_code("USD"), decode_address(GW)),
    )
    out: list[tuple[bytes, dict[str, Any]]] = []
    dirs: dict[bytes, list[str]] = {}
    for owner, seq, usd, drops in offers:
        quality = keylets.offer_quality(drops, usd)
        directory = keylets.book_directory(pays, gets, quality)
        key = keylets.offer(decode_address(owner), seq)
        dirs.setdefault(directory, []).append(key.hex().upper())
        out.append(
            (
                key,
                {
                    "LedgerEntryType": "Offer",
                    "Account": owner,
                    "Sequence": seq,
                    "TakerPays": str(drops),
                    "TakerGets": {**USD, "value": usd},
                    "BookDirectory": directory.hex().upper(),
                    "BookNode": "0",
                    "OwnerNode": "0",
                    "Flags": 0,
                    "PreviousTxnID": TXID,
                    "PreviousTxnLgrSeq": 1,
                },
            )
        )
    for directory, indexes in dirs.items():
        out.append(
            (
                directory,
                {
                    "LedgerEntryType": "DirectoryNode",
                    "Flags": 0,
                    "RootIndex": directory.hex().upper(),
                    "Indexes": indexes,
                    "TakerPaysCurrency": "0" * 40,
                    "TakerPaysIssuer": "0" * 40,
                    "TakerGetsCurrency": keylets.currency_code("USD").hex().upper(),
                    "TakerGetsIssuer": decode_address(GW).hex().upper(),
                    "ExchangeRate": directory[24:].hex().upper(),
                },
            )
        )
    return out


def _context(objects: list[tuple[bytes, dict[str, Any]]]) -> Context:
    backend = InMemoryBackend()
    header = make_header(10, 1_000_000_000.0)
    write = LedgerWrite(
        sequence=10,
        header=header.to_bytes(),
        ledger_hash=header.hash,
        objects=sorted(
            (LedgerObject(key, encode(obj), 10) for key, obj in objects), key=lambda o: o.key
        ),
        is_first=True,
    )
    failures: list[Any] = []
    Deferred.fromCoroutine(backend.write_ledger(write)).addErrback(failures.append)
    assert not failures, failures
    return Context(backend=backend, clock=Clock(), ledger_range=LedgerRange(10, 10), is_admin=True)


def _ask(ctx: Context, **params: Any) -> dict[str, Any]:
    return call(HANDLER, {"taker_pays": XRP, "taker_gets": USD, **params}, ctx=ctx)


class FundingTests(SynchronousTestCase):
    def _state(self, gw_flags: int = 0, line_flags: int = 0) -> Context:
        return _context(
            [
                _root(GW, 10**9, gw_flags, TransferRate=1_002_000_000),
                _root(ALICE, 10**9),
                _root(BOB, 10**9),
                _line(ALICE, "100", line_flags),
                *_book(
                    [
                        (ALICE, 5, "60", 60_000_000),
                        (ALICE, 6, "60", 66_000_000),
                        (GW, 7, "10", 20_000_000),
                    ]
                ),
            ]
        )

    def test_transfer_fee_and_running_balance(self) -> None:
        """The fee is charged on funds; the second offer gets what the first left; owner_funds once per owner."""
        offers = _ask(self._state())["offers"]
        self.assertEqual([o["Sequence"] for o in offers], [5, 6, 7])
        first, second, issuer = offers
        self.assertEqual((first["owner_funds"], first["quality"]), ("100", "1000000"))
        self.assertNotIn("taker_gets_funded", first)
        self.assertNotIn("owner_funds", second)
        self.assertEqual(second["taker_gets_funded"], {**USD, "value": "39.80039920159681"})
        self.assertEqual(second["taker_pays_funded"], "43780439")
        self.assertEqual((issuer["owner_funds"], issuer["quality"]), ("10", "2000000"))

    def test_taker_is_issuer(self) -> None:
        """When the issuer takes, no fee: the second offer is funded with the 40 left."""
        second = _ask(self._state(), taker=GW)["offers"][1]
        self.assertEqual(second["taker_gets_funded"], {**USD, "value": "40"})
        self.assertEqual(second["taker_pays_funded"], "44000000")

    def test_frozen_line_and_global_freeze(self) -> None:
        """A line frozen by the issuer funds nothing; a global freeze unfunds every non-issuer offer."""
        gw_is_high = decode_address(GW) > decode_address(ALICE)
        freeze = 0x00800000 if gw_is_high else 0x00400000
        offers = _ask(self._state(line_flags=freeze))["offers"]
        self.assertEqual(
            (offers[0]["owner_funds"], offers[0]["taker_gets_funded"]["value"]), ("0", "0")
        )
        offers = _ask(self._state(gw_flags=0x00400000))["offers"]
        self.assertEqual(offers[0]["owner_funds"], "0")
        self.assertNotIn("taker_gets_funded", offers[2])

    def test_limit(self) -> None:
        """limit cuts the walk; 0 gives none."""
        self.assertEqual(len(_ask(self._state(), limit=2)["offers"]), 2)
        self.assertEqual(_ask(self._state(), limit=0)["offers"], [])


class ErrorTests(SynchronousTestCase):
    def _err(self, params: dict[str, Any]) -> tuple[str, str]:
        out = call(HANDLER, params, ctx=evolve(corpus_context(), is_admin=True))
        return out["error"], out["error_message"]

    def test_errors_in_rippled_order(self) -> None:
        """Each malformed field gets rippled's own token and message."""
        cases = [
            ({"taker_gets": USD}, ("invalidParams", "Missing field 'taker_pays'.")),
            ({"taker_pays": XRP}, ("invalidParams", "Missing field 'taker_gets'.")),
            (
                {"taker_pays": "XRP", "taker_gets": USD},
                ("invalidParams", "Invalid field 'taker_pays', not object."),
            ),
            (
                {"taker_pays": {}, "taker_gets": USD},
                ("invalidParams", "Missing field 'taker_pays.currency'."),
            ),
            (
                {"taker_pays": {"currency": 1}, "taker_gets": USD},
                ("invalidParams", "Invalid field 'taker_pays.currency', not string."),
            ),
            (
                {"taker_pays": {"currency": "XRPX"}, "taker_gets": USD},
                ("srcCurMalformed", "Invalid field 'taker_pays.currency', bad currency."),
            ),
            (
                {"taker_pays": XRP, "taker_gets": {"currency": "US"}},
                ("dstAmtMalformed", "Invalid field 'taker_gets.currency', bad currency."),
            ),
            (
                {"taker_pays": {"currency": "XRP", "issuer": GW}, "taker_gets": USD},
                (
                    "srcIsrMalformed",
                    "Unneeded field 'taker_pays.issuer' for XRP currency specification.",
                ),
            ),
            (
                {"taker_pays": {"currency": "EUR"}, "taker_gets": USD},
                ("srcIsrMalformed", "Invalid field 'taker_pays.issuer', expected non-XRP issuer."),
            ),
            (
                {"taker_pays": XRP, "taker_gets": {"currency": "USD", "issuer": "bad"}},
                ("dstIsrMalformed", "Invalid field 'taker_gets.issuer', bad issuer."),
            ),
            (
                {
                    "taker_pays": XRP,
                    "taker_gets": {"currency": "USD", "issuer": "rrrrrrrrrrrrrrrrrrrrBZbvji"},
                },
                ("dstIsrMalformed", "Invalid field 'taker_gets.issuer', bad issuer account one."),
            ),
            (
                {"taker_pays": XRP, "taker_gets": USD, "taker": 5},
                ("invalidParams", "Invalid field 'taker', not string."),
            ),
            (
                {"taker_pays": XRP, "taker_gets": USD, "taker": "bad"},
                ("invalidParams", "Invalid field 'taker'."),
            ),
            (
                {"taker_pays": XRP, "taker_gets": USD, "domain": "AB"},
                ("domainMalformed", "Unable to parse domain."),
            ),
            ({"taker_pays": USD, "taker_gets": USD}, ("badMarket", "No such market.")),
            (
                {"taker_pays": XRP, "taker_gets": USD, "limit": -1},
                ("invalidParams", "Invalid field 'limit', not unsigned integer."),
            ),
        ]
        for params, expected in cases:
            self.assertEqual(self._err(params), expected, params)

    def test_ledger_first(self) -> None:
        """An unknown ledger is reported before any field error."""
        self.assertEqual(self._err({"ledger_index": 99999}), ("lgrNotFound", "ledgerNotFound"))

    def test_public_limit_clamped(self) -> None:
        """A public client asking 1000 gets at most 100 (the corpus book has fewer)."""
        out = call(
            HANDLER, {"taker_pays": XRP, "taker_gets": USD, "ledger_index": 27, "limit": 1000}
        )
        self.assertEqual(len(out["offers"]), 4)
