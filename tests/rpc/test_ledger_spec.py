"""Shared ledger selection: parsing errors as Clio gives them, and lgrNotFound rules."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import LedgerRange
from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.rpc.context import Context
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from tests.fakes.backend import InMemoryBackend
from tests.rpc.helpers import NOW, store_ledgers

HASH = "E782CD33D3908099E067BAA9D7835D040C9C1E908E635A0E171BF338654539A8"


class ParseTests(SynchronousTestCase):
    def error(self, params: dict[str, Any]) -> RPCError:
        with self.assertRaises(RPCError) as caught:
            parse_ledger_spec(params)
        return caught.exception

    def test_accepted_forms(self) -> None:
        """int, numeric string and 'validated' select by sequence; a hash wins over an index."""
        self.assertEqual(parse_ledger_spec({}), LedgerSpec())
        self.assertEqual(parse_ledger_spec({"ledger_index": 5}), LedgerSpec(sequence=5))
        self.assertEqual(parse_ledger_spec({"ledger_index": "5"}), LedgerSpec(sequence=5))
        self.assertEqual(parse_ledger_spec({"ledger_index": "validated"}), LedgerSpec())
        self.assertEqual(
            parse_ledger_spec({"ledger_hash": HASH.lower(), "ledger_index": 5}),
            LedgerSpec(ledger_hash=bytes.fromhex(HASH)),
        )

    def test_malformed_index(self) -> None:
        """Anything else in ledger_index, a negative integer too, is invalidParams 'ledgerIndexMalformed' (rippled's answer)."""
        for value in ("bogus", "-1", -5, "1.5", "4294967296", 1.0, True, None, [], {}, "", " 5"):
            e = self.error({"ledger_index": value})
            self.assertEqual(
                (e.error, e.message), (RippledError.invalidParams, "ledgerIndexMalformed"), value
            )

    def test_malformed_hash(self) -> None:
        """A bad ledger_hash is 'ledgerHashMalformed', a non-string one 'ledgerHashNotString' (rippled's)."""
        for value, message in (
            ("ZZ", "ledgerHashMalformed"),
            (HASH + "00", "ledgerHashMalformed"),
            (5, "ledgerHashNotString"),
            ([HASH], "ledgerHashNotString"),
        ):
            e = self.error({"ledger_hash": value})
            self.assertEqual((e.error, e.message), (RippledError.invalidParams, message), value)

    def test_null_hash_is_no_hash(self) -> None:
        """rippled reads a null ledger_hash as absent: ledger_index decides."""
        self.assertEqual(
            parse_ledger_spec({"ledger_hash": None, "ledger_index": 5}), LedgerSpec(sequence=5)
        )

    def test_clio_spellings_for_clio_methods(self) -> None:
        """as_clio keeps Clio's 'ledger_hashMalformed'/'ledger_hashNotString' and a negative index as not found."""

        def error(params: dict[str, object]) -> RPCError:
            with self.assertRaises(RPCError) as e:
                parse_ledger_spec(params, as_clio=True)
            return e.exception

        self.assertEqual(error({"ledger_hash": "ZZ"}).message, "ledger_hashMalformed")
        self.assertEqual(error({"ledger_hash": 5}).message, "ledger_hashNotString")
        self.assertEqual(
            parse_ledger_spec({"ledger_index": -5}, as_clio=True), LedgerSpec(sequence=-5)
        )

    def test_open_ledgers_not_supported_without_forwarding(self) -> None:
        """'current' and 'closed' need rippled: notSupported until a forwarder takes them."""
        for name in ("current", "closed"):
            self.assertEqual(self.error({"ledger_index": name}).error, RippledError.notSupported)


class SelectTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.backend = InMemoryBackend()
        self.headers = store_ledgers(self.backend, 3, 9, NOW)
        clock = Clock()
        self.ctx = Context(backend=self.backend, clock=clock, ledger_range=LedgerRange(3, 9))

    def select(self, spec: LedgerSpec) -> LedgerHeader:
        return self.successResultOf(Deferred.fromCoroutine(select_ledger(self.ctx, spec)))

    def not_found(self, spec: LedgerSpec) -> None:
        failure = self.failureResultOf(
            Deferred.fromCoroutine(select_ledger(self.ctx, spec)), RPCError
        )
        self.assertEqual(failure.value.to_json()["error"], "lgrNotFound")
        self.assertEqual(failure.value.message, "ledgerNotFound")

    def test_default_is_newest(self) -> None:
        """No selector means the newest stored ledger."""
        self.assertEqual(self.select(LedgerSpec()).sequence, 9)

    def test_by_sequence_and_hash(self) -> None:
        """A stored sequence or hash selects that header."""
        self.assertEqual(self.select(LedgerSpec(sequence=4)), self.headers[1])
        self.assertEqual(self.select(LedgerSpec(ledger_hash=self.headers[2].hash)).sequence, 5)

    def test_outside_range_not_found(self) -> None:
        """Above the max, below the min, negative, or an unknown hash: lgrNotFound 'ledgerNotFound'."""
        for spec in (
            LedgerSpec(sequence=10),
            LedgerSpec(sequence=2),
            LedgerSpec(sequence=-1),
            LedgerSpec(ledger_hash=bytes(32)),
        ):
            self.not_found(spec)

    def test_hash_of_ledger_outside_range(self) -> None:
        """A hash stored but outside this request's range is not found (range read once per request)."""
        ctx = Context(backend=self.backend, clock=Clock(), ledger_range=LedgerRange(3, 6))
        d = Deferred.fromCoroutine(
            select_ledger(ctx, LedgerSpec(ledger_hash=self.headers[-1].hash))
        )
        self.assertEqual(self.failureResultOf(d, RPCError).value.message, "ledgerNotFound")
