"""account_lines: paging, limits as rippled clamps them, markers, peer and ignore_default, line flags."""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers.account_lines import HANDLER, line_json, negate
from tests.rpc.corpus import call
from tests.rpc.handlers._paging import admin, check_walks, walk

GW = "rRtJMZbVx3PM4iXvnH7pR1KYmnyzQXcfm"
ALICE = "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"
UNFUNDED = "rs1DUUekbFymvBXw1p3bxXR1DZPiH8itwR"


def _error(out: dict[str, Any]) -> tuple[str, str]:
    return out["error"], out["error_message"]


class PagingTests(SynchronousTestCase):
    def test_pages_yield_every_line_once_in_order(self) -> None:
        """Walking with limits 1, 2 and 3 gives exactly the unpaged answer, in order."""
        whole = check_walks(self, HANDLER, {"account": GW, "ledger_index": 270}, "lines")
        self.assertEqual(len(whole), 20)
        params = {"account": ALICE, "ledger_index": 270}
        alice = call(HANDLER, params, ctx=admin())["lines"]
        self.assertEqual(walk(self, HANDLER, params, "lines", 1), alice)

    def test_non_admin_limit_is_clamped(self) -> None:
        """A public client asking 3 gets rippled's minimum of 10."""
        out = call(HANDLER, {"account": GW, "ledger_index": 270, "limit": 3})
        self.assertEqual((len(out["lines"]), out["limit"]), (10, 10))


class ErrorTests(SynchronousTestCase):
    def test_limit_errors(self) -> None:
        """Negative, fractional and boolean limits are 'not unsigned integer'; zero is invalidParams."""
        for bad in (-1, 1.5, True, "3"):
            out = call(HANDLER, {"account": GW, "limit": bad})
            self.assertEqual(
                _error(out), ("invalidParams", "Invalid field 'limit', not unsigned integer.")
            )
        out = call(HANDLER, {"account": GW, "limit": 0}, ctx=admin())
        self.assertEqual(_error(out), ("invalidParams", "Invalid parameters."))

    def test_marker_errors(self) -> None:
        """Unparsable, non-string, unknown and foreign markers are rejected."""
        for marker in ("bad", "AB,0", "0" * 64, "0" * 64 + ",x"):
            out = call(HANDLER, {"account": GW, "marker": marker})
            self.assertEqual(_error(out), ("invalidParams", "Invalid parameters."), marker)
        out = call(HANDLER, {"account": GW, "marker": 5})
        self.assertEqual(_error(out), ("invalidParams", "Invalid field 'marker', not string."))
        alice_root = "152BC5B6C82C172525E02E82E81412B347738447F8B089721E6CDEE86E6E232F"
        out = call(HANDLER, {"account": GW, "marker": alice_root + ",0"})
        self.assertEqual(_error(out), ("invalidParams", "Invalid parameters."))

    def test_account_errors(self) -> None:
        """Malformed account and peer carry the ledger; an unknown account does not."""
        out = call(HANDLER, {"account": "xyz", "ledger_index": 270})
        self.assertEqual((out["error"], out["ledger_index"]), ("actMalformed", 270))
        out = call(HANDLER, {"account": GW, "ledger_index": 270, "peer": "nope"})
        self.assertEqual((out["error"], out["ledger_index"]), ("actMalformed", 270))
        out = call(HANDLER, {"account": UNFUNDED})
        self.assertEqual(out["error"], "actNotFound")
        self.assertNotIn("ledger_index", out)
        self.assertEqual(call(HANDLER, {})["error_message"], "Missing field 'account'.")


class FilterTests(SynchronousTestCase):
    def test_peer(self) -> None:
        """peer keeps only the lines with that counterparty."""
        out = call(HANDLER, {"account": GW, "peer": ALICE}, ctx=admin())
        self.assertTrue(out["lines"])
        self.assertEqual({line["account"] for line in out["lines"]}, {ALICE})

    def test_ignore_default(self) -> None:
        """ignore_default drops lines whose reserve the account does not carry (all of gw's)."""
        out = call(HANDLER, {"account": GW, "ignore_default": True}, ctx=admin())
        self.assertEqual(out["lines"], [])


class LineTests(SynchronousTestCase):
    def test_sides_and_flags(self) -> None:
        """The high side sees the negated balance, its own limit and its own flags."""
        state = {
            "Balance": {"currency": "USD", "issuer": "rrrrrrrrrrrrrrrrrrrrBZbvji", "value": "5"},
            "Flags": 0x00040000 | 0x00200000 | 0x04000000,
            "HighLimit": {"currency": "USD", "issuer": "rHigh", "value": "100"},
            "LowLimit": {"currency": "USD", "issuer": "rLow", "value": "0"},
            "HighQualityIn": 7,
        }
        high = line_json(state, "rHigh")
        self.assertEqual(
            high,
            {
                "account": "rLow",
                "balance": "-5",
                "currency": "USD",
                "deep_freeze": True,
                "limit": "100",
                "limit_peer": "0",
                "no_ripple": True,
                "peer_authorized": True,
                "quality_in": 7,
                "quality_out": 0,
            },
        )
        low = line_json(state, "rLow")
        self.assertEqual(
            (low["balance"], low["authorized"], low["no_ripple_peer"]), ("5", True, True)
        )
        self.assertEqual((negate("0"), negate("-1.5")), ("0", "1.5"))
