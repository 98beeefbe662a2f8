"""account_offers: paging, offer shape, errors."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers.account_offers import HANDLER, offer_json
from tests.rpc.corpus import call
from tests.rpc.handlers._paging import admin, check_walks

BOB = "ra6UF6SEGtsVr4A3giXbQvjjd8FEmNH6Q"


class AccountOffersTests(SynchronousTestCase):
    def test_paging(self) -> None:
        """Walks of every limit give bob's five offers at 27 exactly once, in order."""
        whole = check_walks(self, HANDLER, {"account": BOB, "ledger_index": 27}, "offers")
        self.assertEqual(len(whole), 5)

    def test_offer_shape(self) -> None:
        """quality comes from the book directory; expiration appears only when set."""
        offer = {
            "BookDirectory": "12811BFEEC2F8EBCB090B8D2B5A68AB5D7AB9E4F039BB5035B03E871B540C000",
            "Flags": 131072,
            "Sequence": 3,
            "TakerGets": "10",
            "TakerPays": "11",
            "Expiration": 99,
        }
        self.assertEqual(
            offer_json(offer),
            {
                "expiration": 99,
                "flags": 131072,
                "quality": "1100000",
                "seq": 3,
                "taker_gets": "10",
                "taker_pays": "11",
            },
        )

    def test_errors(self) -> None:
        """Bad limit, zero limit, bad marker, malformed and unknown accounts."""
        self.assertEqual(
            call(HANDLER, {"account": BOB, "limit": "x"})["error_message"],
            "Invalid field 'limit', not unsigned integer.",
        )
        self.assertEqual(
            call(HANDLER, {"account": BOB, "limit": 0}, ctx=admin())["error_message"],
            "Invalid parameters.",
        )
        self.assertEqual(
            call(HANDLER, {"account": BOB, "marker": "zz"})["error_message"], "Invalid parameters."
        )
        self.assertEqual(
            call(HANDLER, {"account": "bad", "ledger_index": 270})["ledger_index"], 270
        )
        self.assertEqual(
            call(HANDLER, {"account": "rs1DUUekbFymvBXw1p3bxXR1DZPiH8itwR"})["error"], "actNotFound"
        )
        self.assertEqual(call(HANDLER, {})["error_message"], "Missing field 'account'.")
