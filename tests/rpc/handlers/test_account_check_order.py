"""The paged account methods check the account before limit, marker and type, in rippled's order."""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers import (
    account_channels,
    account_lines,
    account_nfts,
    account_objects,
    account_offers,
)
from tests.rpc.corpus import call

ABSENT = "rf1BiGeXwwQoi8Z2ueFYTEXSwuJYfV2Jpn"  # a valid address with no AccountRoot in the corpus
BAD_INPUTS: tuple[dict[str, Any], ...] = (
    {"limit": -1},
    {"limit": "x"},
    {"limit": 0},
    {"marker": 9},
    {"marker": "123invalid"},
)


class CheckOrderTests(SynchronousTestCase):
    def test_account_not_found_comes_first(self) -> None:
        """A bad limit or marker for an account the ledger lacks is actNotFound (rippled checks the account first)."""
        handlers = (account_channels, account_lines, account_offers, account_nfts, account_objects)
        for module in handlers:
            for bad in BAD_INPUTS:
                out = call(module.HANDLER, {"account": ABSENT, **bad})
                self.assertEqual(out.get("error"), "actNotFound", (module.NAME, bad, out))

    def test_account_objects_type_after_account(self) -> None:
        """account_objects: a non-string type for an absent account is actNotFound too."""
        out = call(account_objects.HANDLER, {"account": ABSENT, "type": 1})
        self.assertEqual(out.get("error"), "actNotFound")
