"""nft_buy_offers / nft_sell_offers: paging from the first offer not returned, limits, errors."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers.nft_buy_offers import HANDLER as BUY
from clio_twisted.rpc.handlers.nft_sell_offers import HANDLER as SELL
from tests.rpc.corpus import call
from tests.rpc.handlers._paging import admin, check_walks

H10 = "000909C454073A3970D5F8FEE4CAC0D5C3941041C35E59AE6E5D19A900000010"
H11 = "0018C35054073A3970D5F8FEE4CAC0D5C3941041C35E59AE8542EAAF00000011"


class NftOffersTests(SynchronousTestCase):
    def test_paging(self) -> None:
        """Walks of limits 1-3 give all 55 buy offers of h10 at 55 once each, in order."""
        whole = check_walks(self, BUY, {"nft_id": H10, "ledger_index": 55}, "offers")
        self.assertEqual(len(whole), 55)
        self.assertEqual(len({o["nft_offer_index"] for o in whole}), 55)

    def test_public_limit_and_shape(self) -> None:
        """A public client gets at least 50; answers carry no ledger fields."""
        out = call(BUY, {"nft_id": H10, "ledger_index": 55, "limit": 1})
        self.assertEqual((len(out["offers"]), out["limit"]), (50, 50))
        self.assertNotIn("ledger_index", out)
        sells = call(SELL, {"nft_id": H11}, ctx=admin())["offers"]
        self.assertEqual({o["flags"] & 1 for o in sells}, {1})

    def test_errors(self) -> None:
        """nft_id, marker and unknown-NFT errors as rippled gives them."""
        self.assertEqual(call(BUY, {})["error_message"], "Missing field 'nft_id'.")
        self.assertEqual(call(BUY, {"nft_id": "bad"})["error_message"], "Invalid field 'nft_id'.")
        self.assertEqual(call(SELL, {"nft_id": "00" * 32})["error"], "objectNotFound")
        for marker in ("bad", "00" * 32):
            out = call(BUY, {"nft_id": H10, "ledger_index": 55, "marker": marker})
            self.assertEqual(out["error_message"], "Invalid parameters.", marker)
        out = call(BUY, {"nft_id": H10, "ledger_index": 55, "marker": 7})
        self.assertEqual(out["error_message"], "Invalid field 'marker', not string.")
        out = call(BUY, {"nft_id": H10, "limit": "x"})
        self.assertEqual(out["error_message"], "Invalid field 'limit', not unsigned integer.")
