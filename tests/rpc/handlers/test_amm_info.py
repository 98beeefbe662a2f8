"""amm_info: selection by assets or account, LP view, auction slot interval, errors."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers.amm_info import HANDLER, iso8601, time_interval
from tests.rpc.corpus import call

XRP = {"currency": "XRP"}
USD = {"currency": "USD", "issuer": "rRtJMZbVx3PM4iXvnH7pR1KYmnyzQXcfm"}
POOL = "rpQQPCvmgeikW2DVc9sTW3QZhU9ztARqXd"
ALICE = "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"


class AmmInfoTests(SynchronousTestCase):
    def test_asset_order_follows_request(self) -> None:
        """Asking USD/XRP shows USD as amount; by account equals by assets."""
        swapped = call(HANDLER, {"asset": USD, "asset2": XRP})["amm"]
        self.assertEqual(swapped["amount"]["currency"], "USD")
        self.assertIn("asset_frozen", swapped)
        self.assertNotIn("asset2_frozen", swapped)
        by_assets = call(HANDLER, {"asset": XRP, "asset2": USD})
        self.assertEqual(call(HANDLER, {"amm_account": POOL}), by_assets)

    def test_lp_view(self) -> None:
        """account shows that provider's LP tokens."""
        out = call(HANDLER, {"asset": XRP, "asset2": USD, "account": ALICE})["amm"]
        self.assertNotEqual(out["lp_token"]["value"], "0")
        self.assertEqual(out["lp_token"]["issuer"], POOL)

    def test_slot_interval(self) -> None:
        """The interval counts 72-minute steps from the slot's start; 20 once expired."""
        self.assertEqual(time_interval(1000, 1000 + 86400), 0)
        self.assertEqual(time_interval(1000 + 4320 * 3, 1000 + 86400), 3)
        self.assertEqual(time_interval(1000 + 86400, 1000 + 86400), 20)
        self.assertEqual(iso8601(0), "2000-01-01T00:00:00.000000000+0000")

    def test_errors(self) -> None:
        """Both or neither selectors, half a pair, bad assets and accounts, unknown pools."""

        def err(**params: object) -> str:
            return str(call(HANDLER, {"ledger_index": 270, **params})["error"])

        self.assertEqual(err(), "invalidParams")
        self.assertEqual(err(asset=XRP), "invalidParams")
        self.assertEqual(err(asset=XRP, asset2=USD, amm_account=POOL), "invalidParams")
        self.assertEqual(err(asset={"currency": "USD"}, asset2=XRP), "issueMalformed")
        self.assertEqual(
            err(asset={"currency": "XRP", "issuer": ALICE}, asset2=USD), "issueMalformed"
        )
        self.assertEqual(err(amm_account="bad"), "actMalformed")
        self.assertEqual(err(amm_account=ALICE), "actNotFound")
        self.assertEqual(err(asset=XRP, asset2=USD, account="bad"), "actMalformed")
        self.assertEqual(err(asset=XRP, asset2={"currency": "ZZZ", "issuer": ALICE}), "actNotFound")
