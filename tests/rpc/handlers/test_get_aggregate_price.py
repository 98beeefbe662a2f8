"""get_aggregate_price: stats arithmetic as rippled's, history lookback, field and oracle errors."""

from __future__ import annotations

from decimal import Decimal

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers.get_aggregate_price import HANDLER, number_sqrt, stats
from tests.rpc.corpus import call

ORACLES = [
    {"account": "rs2gEygEeWGYmv3MX6fbakcU75ijfsdr3B", "oracle_document_id": 1},
    {"account": "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq", "oracle_document_id": 7},
]


class StatsTests(SynchronousTestCase):
    def test_mean_uses_rippled_divide(self) -> None:
        """2.23 / 3 is 0.7433333333333334 (rippled's +5 bias), not ...333."""
        self.assertEqual(
            stats([Decimal("0.735"), Decimal("0.745"), Decimal("0.75")])["mean"],
            "0.7433333333333334",
        )

    def test_sqrt_as_rippled_number(self) -> None:
        """root2 follows rippled's Newton steps (its last digit, not the correctly rounded one)."""
        self.assertEqual(str(number_sqrt(Decimal(4))), "2.000000000000000000")
        self.assertEqual(stats([Decimal(5)])["standard_deviation"], "0")


class HandlerTests(SynchronousTestCase):
    def test_history_lookback(self) -> None:
        """A pair missing from an oracle's current series is found in its previous state."""
        out = call(
            HANDLER,
            {"base_asset": "BTC", "quote_asset": "USD", "oracles": ORACLES[:1], "ledger_index": 67},
        )
        self.assertEqual((out["median"], out["entire_set"]["size"]), ("65000", 1))

    def test_errors(self) -> None:
        """Field errors before the ledger; oracle errors after it."""
        base = {"base_asset": "XRP", "quote_asset": "USD", "ledger_index": 270}
        self.assertEqual(
            call(HANDLER, {"base_asset": "XRP", "quote_asset": "USD"})["error_message"],
            "Missing field 'oracles'.",
        )
        self.assertEqual(call(HANDLER, {**base, "oracles": []})["error"], "oracleMalformed")
        self.assertEqual(
            call(HANDLER, {**base, "oracles": ORACLES, "trim": 26})["error"], "invalidParams"
        )
        self.assertEqual(
            call(HANDLER, {**base, "oracles": ORACLES, "time_threshold": -1})["error"],
            "invalidParams",
        )
        self.assertEqual(
            call(HANDLER, {**base, "oracles": ORACLES, "quote_asset": ""})["error"], "invalidParams"
        )
        out = call(HANDLER, {**base, "oracles": [{"account": ORACLES[0]["account"]}]})
        self.assertEqual((out["error"], out["ledger_index"]), ("oracleMalformed", 270))
        out = call(HANDLER, {**base, "oracles": [{"account": "bad", "oracle_document_id": 1}]})
        self.assertEqual(out["error"], "invalidParams")
