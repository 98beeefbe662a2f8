"""account_channels: paging, destination filter, channel shape, errors."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers.account_channels import HANDLER
from tests.rpc.corpus import call
from tests.rpc.handlers._paging import admin, check_walks

WALTER = "r31AivdpNHsJ6sYooC2rWtGFQ3Utm6o8PW"
CAROL = "rPmezossNCbrUWcWSL4SDSvV8gZSTDWjUP"


class AccountChannelsTests(SynchronousTestCase):
    def test_paging(self) -> None:
        """Walks of every limit give walter's three channels at 39 once each, in order."""
        whole = check_walks(self, HANDLER, {"account": WALTER, "ledger_index": 39}, "channels")
        self.assertEqual(len(whole), 3)
        self.assertEqual(whole[0]["public_key"][0], "a")

    def test_destination_filter(self) -> None:
        """destination_account keeps the channels to carol; carol sees none of her incoming ones."""
        out = call(
            HANDLER,
            {"account": WALTER, "ledger_index": 39, "destination_account": CAROL},
            ctx=admin(),
        )
        self.assertEqual({c["destination_account"] for c in out["channels"]}, {CAROL})
        self.assertEqual(call(HANDLER, {"account": CAROL}, ctx=admin())["channels"], [])

    def test_errors(self) -> None:
        """Malformed destination is a bare actMalformed; bad markers and limits are refused."""
        out = call(HANDLER, {"account": WALTER, "destination_account": "bad"})
        self.assertEqual(out["error"], "actMalformed")
        self.assertNotIn("ledger_index", out)
        self.assertEqual(
            call(HANDLER, {"account": WALTER, "marker": 3})["error_message"],
            "Invalid field 'marker', not string.",
        )
        self.assertEqual(
            call(HANDLER, {"account": WALTER, "limit": 1.5})["error_message"],
            "Invalid field 'limit', not unsigned integer.",
        )
        self.assertEqual(
            call(HANDLER, {"account": "rs1DUUekbFymvBXw1p3bxXR1DZPiH8itwR"})["error"], "actNotFound"
        )
