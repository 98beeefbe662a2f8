"""account_objects: NFT pages then the owner directory, rippled's markers and limits, type filters."""

from __future__ import annotations

from typing import Any

from attrs import evolve

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers.account_objects import HANDLER
from tests.rpc.corpus import call, corpus_context

ALICE = "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"
HENRY = "r3CJRHXodGzkCU6J7NnRn7W9TZzyr9fFsL"
WALTER = "r31AivdpNHsJ6sYooC2rWtGFQ3Utm6o8PW"
UNFUNDED = "rs1DUUekbFymvBXw1p3bxXR1DZPiH8itwR"


def admin(version: int = 1) -> Any:
    return evolve(corpus_context(version), is_admin=True)


def _indexes(objects: list[dict[str, Any]]) -> list[str]:
    return [o["index"] for o in objects]


class PagingTests(SynchronousTestCase):
    def _walk(self, params: dict[str, Any], limit: int) -> list[str]:
        ctx = admin()
        seen: list[str] = []
        params = {**params, "limit": limit}
        for _ in range(200):
            out = call(HANDLER, params, ctx=ctx)
            seen += _indexes(out["account_objects"])
            if "marker" not in out:
                self.assertNotIn("limit", out)
                return seen
            params = {**params, "marker": out["marker"]}
        self.fail("no last page")

    def test_every_object_once_in_order(self) -> None:
        """Walks with limits 1-4 list exactly the unpaged answer, NFT pages first."""
        for account in (ALICE, HENRY, WALTER):
            base = {"account": account, "ledger_index": 270}
            whole = _indexes(call(HANDLER, base, ctx=admin())["account_objects"])
            self.assertTrue(whole)
            for limit in (1, 2, 3, 4):
                self.assertEqual(self._walk(base, limit), whole, (account, limit))

    def test_filtered_walk(self) -> None:
        """A filtered walk yields the filtered whole; pages may be empty but still carry a marker."""
        base = {"account": HENRY, "ledger_index": 270, "type": "nft_page"}
        whole = _indexes(call(HANDLER, base, ctx=admin())["account_objects"])
        self.assertEqual(len(whole), 4)
        self.assertEqual(self._walk(base, 1), whole)

    def test_limit_zero(self) -> None:
        """Admin limit 0 means everything (rippled's wrap); a public client is clamped to 10."""
        whole = call(HANDLER, {"account": ALICE}, ctx=admin())["account_objects"]
        out = call(HANDLER, {"account": ALICE, "limit": 0}, ctx=admin())
        self.assertEqual(out["account_objects"], whole)
        self.assertNotIn("marker", out)
        public = call(HANDLER, {"account": ALICE, "limit": 0})
        self.assertEqual((len(public["account_objects"]), public["limit"]), (10, 10))


class FilterTests(SynchronousTestCase):
    def test_type(self) -> None:
        """type keeps one type, by RPC or canonical name."""
        for name in ("offer", "Offer", "offer"):
            out = call(
                HANDLER,
                {"account": "ra6UF6SEGtsVr4A3giXbQvjjd8FEmNH6Q", "ledger_index": 27, "type": name},
            )
            self.assertEqual({o["LedgerEntryType"] for o in out["account_objects"]}, {"Offer"})

    def test_not_owned_types(self) -> None:
        """Types no account owns are Invalid field 'type'."""
        for name in ("amendments", "directory", "fee", "hashes", "nunl", "bogus"):
            out = call(HANDLER, {"account": ALICE, "type": name})
            self.assertEqual(out["error_message"], "Invalid field 'type'.", name)
        out = call(HANDLER, {"account": ALICE, "type": 5})
        self.assertEqual(out["error_message"], "Invalid field 'type', not string.")

    def test_deletion_blockers(self) -> None:
        """deletion_blockers_only keeps blockers; with type, only that one (or none if not a blocker)."""
        out = call(HANDLER, {"account": WALTER, "deletion_blockers_only": True})
        self.assertEqual(
            [o["LedgerEntryType"] for o in out["account_objects"]],
            ["PayChannel", "Escrow", "RippleState"],
        )
        out = call(HANDLER, {"account": WALTER, "deletion_blockers_only": True, "type": "escrow"})
        self.assertEqual([o["LedgerEntryType"] for o in out["account_objects"]], ["Escrow"])
        out = call(HANDLER, {"account": WALTER, "deletion_blockers_only": True, "type": "offer"})
        self.assertEqual(out["account_objects"], [])


class ErrorTests(SynchronousTestCase):
    def test_markers(self) -> None:
        """Non-string, one-part, non-hex, non-directory and foreign-entry markers are refused."""
        out = call(HANDLER, {"account": ALICE, "marker": 1})
        self.assertEqual(out["error_message"], "Invalid field 'marker', not string.")
        alice_root = "152BC5B6C82C172525E02E82E81412B347738447F8B089721E6CDEE86E6E232F"
        for marker in ("abc", "zz,00", f"{alice_root},0", "0,", "1,1"):
            out = call(HANDLER, {"account": ALICE, "marker": marker})
            self.assertEqual(out["error_message"], "Invalid field 'marker'.", marker)

    def test_accounts(self) -> None:
        """Missing, malformed and unknown accounts."""
        self.assertEqual(call(HANDLER, {})["error_message"], "Missing field 'account'.")
        out = call(HANDLER, {"account": "xyz", "ledger_index": 270})
        self.assertEqual((out["error"], out["ledger_index"]), ("actMalformed", 270))
        self.assertEqual(call(HANDLER, {"account": UNFUNDED})["error"], "actNotFound")

    def test_limit(self) -> None:
        """A non-integer limit is refused."""
        out = call(HANDLER, {"account": ALICE, "limit": "x"})
        self.assertEqual(out["error_message"], "Invalid field 'limit', not unsigned integer.")
