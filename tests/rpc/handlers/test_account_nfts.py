"""account_nfts: token fields from the id, paging with token-id markers, limits, errors."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers.account_nfts import HANDLER
from clio_twisted.rpc.nft_fields import nft_id_fields
from tests.rpc.corpus import call
from tests.rpc.handlers._paging import admin, check_walks

HENRY = "r3CJRHXodGzkCU6J7NnRn7W9TZzyr9fFsL"


class AccountNftsTests(SynchronousTestCase):
    def test_paging(self) -> None:
        """Walks of limits 1-3 give henry's 77 tokens once each, in page order."""
        whole = check_walks(self, HANDLER, {"account": HENRY, "ledger_index": 270}, "account_nfts")
        self.assertEqual(len(whole), 77)
        self.assertEqual(len({n["NFTokenID"] for n in whole}), 77)

    def test_page_at_limit_has_no_account(self) -> None:
        """A page that reached the limit carries limit and marker but no account (as rippled)."""
        out = call(HANDLER, {"account": HENRY, "limit": 1}, ctx=admin())
        self.assertEqual((out["limit"], out["marker"]), (1, out["account_nfts"][0]["NFTokenID"]))
        self.assertNotIn("account", out)

    def test_public_limits(self) -> None:
        """A public client gets at least 20 and by default 100."""
        self.assertEqual(len(call(HANDLER, {"account": HENRY, "limit": 1})["account_nfts"]), 20)
        self.assertEqual(len(call(HANDLER, {"account": HENRY})["account_nfts"]), 77)

    def test_id_fields(self) -> None:
        """Flags, issuer, taxon (unscrambled), serial and transfer fee come from the id."""
        token = bytes.fromhex("000909C454073A3970D5F8FEE4CAC0D5C3941041C35E59AE0245C1D100000038")
        self.assertEqual(
            nft_id_fields(token),
            {"Flags": 9, "Issuer": HENRY, "NFTokenTaxon": 2, "nft_serial": 56, "TransferFee": 2500},
        )

    def test_errors(self) -> None:
        """Markers that are not hex or not a token of the account, bad accounts."""
        for marker in ("bad", "00" * 32):
            self.assertEqual(
                call(HANDLER, {"account": HENRY, "marker": marker})["error_message"],
                "Invalid field 'marker'.",
            )
        self.assertEqual(
            call(HANDLER, {"account": HENRY, "marker": 1})["error_message"],
            "Invalid field 'marker', not string.",
        )
        out = call(HANDLER, {"account": "bad"})
        self.assertEqual(out["error"], "actMalformed")
        self.assertNotIn("ledger_index", out)
        self.assertEqual(
            call(HANDLER, {"account": "rs1DUUekbFymvBXw1p3bxXR1DZPiH8itwR"})["error"], "actNotFound"
        )
        self.assertEqual(call(HANDLER, {})["error_message"], "Missing field 'account'.")
