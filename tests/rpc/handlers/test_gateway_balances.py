"""gateway_balances: obligations, hot wallets, assets, v1/v2 differences, errors."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers.gateway_balances import HANDLER
from tests.rpc.corpus import call

GW = "rRtJMZbVx3PM4iXvnH7pR1KYmnyzQXcfm"
HOT = "rPNAKgxRdVTKfWnHQP3wdUCihscrpvMiBQ"
UNFUNDED = "rs1DUUekbFymvBXw1p3bxXR1DZPiH8itwR"


class GatewayBalancesTests(SynchronousTestCase):
    def test_hotwallet_moves_from_obligations(self) -> None:
        """A hot wallet's holdings leave obligations and appear under balances."""
        plain = call(HANDLER, {"account": GW, "ledger_index": 270})
        hot = call(HANDLER, {"account": GW, "ledger_index": 270, "hotwallet": HOT})
        self.assertNotIn("balances", plain)
        self.assertEqual({b["currency"] for b in hot["balances"][HOT]}, {"USD", "EUR"})
        self.assertEqual(plain["obligations"]["EUR"], "99985.34")
        self.assertEqual(hot["obligations"]["EUR"], "7299.94")

    def test_unknown_account_by_version(self) -> None:
        """v1 answers an empty success, v2 actNotFound with the account and ledger."""
        v1 = call(HANDLER, {"account": UNFUNDED}, 1)
        self.assertNotIn("error", v1)
        v2 = call(HANDLER, {"account": UNFUNDED}, 2)
        self.assertEqual((v2["error"], v2["account"]), ("actNotFound", UNFUNDED))

    def test_bad_hotwallet_by_version(self) -> None:
        """An unparsable hotwallet is invalidHotWallet in v1, invalidParams in v2."""
        for value in ("bad", [HOT, 3], 5):
            self.assertEqual(
                call(HANDLER, {"account": GW, "hotwallet": value}, 1)["error"], "invalidHotWallet"
            )
            self.assertEqual(
                call(HANDLER, {"account": GW, "hotwallet": value}, 2)["error"], "invalidParams"
            )
        self.assertNotIn("error", call(HANDLER, {"account": GW, "hotwallet": None}))

    def test_account_errors(self) -> None:
        """Missing and malformed accounts."""
        self.assertEqual(call(HANDLER, {})["error_message"], "Missing field 'account'.")
        out = call(HANDLER, {"account": "bad"})
        self.assertEqual(out["error"], "actMalformed")
        self.assertNotIn("ledger_index", out)
