"""account_currencies: send/receive rules, ordering, errors."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers.account_currencies import HANDLER
from tests.rpc.corpus import call

ALICE = "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"
JUDY = "rEL2Tu99BS7vzw8bZDFfWLGWAtbGFywQQC"


class AccountCurrenciesTests(SynchronousTestCase):
    def test_order_iso_before_hex(self) -> None:
        """Codes sort by their 160-bit value: ISO codes first, then hex codes."""
        out = call(HANDLER, {"account": ALICE, "ledger_index": 270})
        self.assertEqual(out["send_currencies"][:3], ["CLW", "EUR", "USD"])
        self.assertEqual(len(out["send_currencies"][3]), 40)
        self.assertNotIn("account", out)

    def test_nothing_to_send(self) -> None:
        """A holder with no balance and a zero peer limit can only receive."""
        out = call(HANDLER, {"account": JUDY})
        self.assertEqual((out["receive_currencies"], out["send_currencies"]), (["USD"], []))

    def test_errors(self) -> None:
        """Missing, non-string, malformed and unknown accounts; ident is accepted."""
        self.assertEqual(call(HANDLER, {})["error_message"], "Missing field 'account'.")
        self.assertEqual(call(HANDLER, {"account": 1})["error_message"], "Invalid field 'account'.")
        self.assertEqual(
            call(HANDLER, {"account": "bad", "ledger_index": 270})["ledger_index"], 270
        )
        self.assertEqual(
            call(HANDLER, {"account": "rs1DUUekbFymvBXw1p3bxXR1DZPiH8itwR"})["error"], "actNotFound"
        )
        self.assertIn("send_currencies", call(HANDLER, {"ident": JUDY}))
