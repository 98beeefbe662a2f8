"""account_tx: rippled's range, limit and marker rules, both API versions, and full walks."""

from __future__ import annotations

from typing import Any

from clio_twisted.protocol.addresses import decode_address
from clio_twisted.rpc.handlers import account_tx
from clio_twisted.rpc.markers import TX_MARKER_MESSAGE
from tests.rpc.corpus import corpus_backend
from tests.rpc.handlers._helpers import ALICE, GW, HandlerCase


def _history(account: str) -> list[str]:
    """Every transaction hash of the account, oldest first, straight from the store."""
    rows = corpus_backend().store.account_tx[decode_address(account)]
    return [tx_hash.hex().upper() for _seq, _index, tx_hash in sorted(rows)]


def _position(item: dict[str, Any]) -> tuple[int, str]:
    tx = item.get("tx") or item.get("tx_json") or {}
    return item.get("ledger_index") or tx["ledger_index"], item.get("hash") or tx["hash"]


class WalkTests(HandlerCase):
    handler = account_tx.HANDLER

    def _walk(self, forward: bool, limit: int, api_version: int, binary: bool = False) -> list[Any]:
        params: dict[str, Any] = {
            "account": ALICE,
            "limit": limit,
            "forward": forward,
            "binary": binary,
        }
        items: list[Any] = []
        for _ in range(500):
            page = self.call(params, api_version)
            self.assertLessEqual(len(page["transactions"]), limit)
            items += page["transactions"]
            if "marker" not in page:
                return items
            self.assertEqual(len(page["transactions"]), limit)
            params["marker"] = page["marker"]
        self.fail("walk did not end")

    def test_backward_walk(self) -> None:
        """Pages of 7, newest first, yield every transaction exactly once, in order (v2)."""
        walked = self._walk(False, 7, 2)
        self.assertGreater(len(walked), 200)
        self.assertEqual([t["hash"] for t in walked], list(reversed(_history(ALICE))))

    def test_forward_walk(self) -> None:
        """Walking forward (v1, limit 9) yields them oldest first."""
        walked = self._walk(True, 9, 1)
        self.assertEqual([t["tx"]["hash"] for t in walked], _history(ALICE))

    def test_binary_walk(self) -> None:
        """Binary pages (default page size) walk the same history."""
        walked = self._walk(False, 200, 2, binary=True)
        self.assertEqual(len(walked), len(_history(ALICE)))
        self.assertEqual(sorted(walked[0]), ["ledger_index", "meta_blob", "tx_blob", "validated"])


class ShapeTests(HandlerCase):
    handler = account_tx.HANDLER

    def test_v1_and_v2_items(self) -> None:
        """v1 items hold tx+meta; v2 items tx_json, hash, ledger_hash and close_time_iso."""
        (v1,) = self.call({"account": GW, "limit": 1}, 1)["transactions"]
        self.assertEqual(sorted(v1), ["meta", "tx", "validated"])
        self.assertIn("inLedger", v1["tx"])
        (v2,) = self.call({"account": GW, "limit": 1}, 2)["transactions"]
        self.assertEqual(
            sorted(v2),
            [
                "close_time_iso",
                "hash",
                "ledger_hash",
                "ledger_index",
                "meta",
                "tx_json",
                "validated",
            ],
        )
        (b1,) = self.call({"account": GW, "limit": 1, "binary": True}, 1)["transactions"]
        self.assertEqual(sorted(b1), ["ledger_index", "meta", "tx_blob", "validated"])

    def test_limit_echo_and_range(self) -> None:
        """The requested limit is echoed (0 when absent) with the searched range."""
        page = self.call(
            {"account": ALICE, "ledger_index_min": 27, "ledger_index_max": 57, "limit": 3}
        )
        self.assertEqual(
            (page["ledger_index_min"], page["ledger_index_max"], page["limit"]), (27, 57, 3)
        )
        self.assertEqual(self.call({"account": ALICE, "ledger_index": 31}, 2)["limit"], 0)

    def test_v1_clamps_range(self) -> None:
        """v1 clamps bounds into the stored range; v2 refuses them."""
        page = self.call(
            {"account": ALICE, "ledger_index_min": 1, "ledger_index_max": 99999999, "limit": 1}, 1
        )
        self.assertEqual((page["ledger_index_min"], page["ledger_index_max"]), (3, 270))
        self.assertError(
            {"account": ALICE, "ledger_index_min": 1, "ledger_index_max": 99999999},
            "lgrIdxMalformed",
            58,
            "Ledger index malformed.",
            2,
        )

    def test_marker_not_in_history_gives_empty_page(self) -> None:
        """As rippled, a marker that names no transaction of the account returns nothing."""
        page = self.call({"account": ALICE, "marker": {"ledger": 27, "seq": 0}})
        self.assertEqual(page["transactions"], [])
        self.assertNotIn("marker", page)

    def test_tx_type_filter(self) -> None:
        """Clio's tx_type keeps only transactions of that type (any case)."""
        page = self.call({"account": ALICE, "limit": 200, "tx_type": "payment"}, 2)
        types = {t["tx_json"]["TransactionType"] for t in page["transactions"]}
        self.assertEqual(types, {"Payment"})
        self.assertError(
            {"account": ALICE, "tx_type": "Nope"}, "invalidParams", 31, "Invalid field 'tx_type'."
        )


class ErrorTests(HandlerCase):
    handler = account_tx.HANDLER

    def test_account_errors(self) -> None:
        """Missing and malformed accounts."""
        self.assertError({}, "invalidParams", 31, "Missing field 'account'.")
        self.assertError({"account": "bad"}, "actMalformed", 35, "Account malformed.", 2)

    def test_range_errors(self) -> None:
        """min above max is lgrIdxsInvalid in v1 and invalidLgrRange in v2; spec plus range is refused in v2."""
        bad = {"account": ALICE, "ledger_index_min": 57, "ledger_index_max": 27}
        self.assertError(bad, "lgrIdxsInvalid", 57, "Ledger indexes invalid.", 1)
        self.assertError(bad, "invalidLgrRange", 79, "Ledger range is invalid.", 2)
        both = {"account": ALICE, "ledger_index": 270, "ledger_index_min": 27}
        self.assertError(both, "invalidParams", 31, "containsLedgerSpecifierAndRange", 2)
        self.assertNotIn("error", self.call(both, 1))
        self.assertError(
            {"account": ALICE, "ledger_index": 99999999}, "lgrNotFound", 21, "ledgerNotFound"
        )

    def test_field_type_errors(self) -> None:
        """v2 wants real booleans; a non-integer limit is rippled's internal error; bad markers."""
        self.assertError(
            {"account": ALICE, "binary": "true"}, "invalidParams", 31, "Invalid field 'binary'.", 2
        )
        self.assertError(
            {"account": ALICE, "forward": 1}, "invalidParams", 31, "Invalid field 'forward'.", 2
        )
        self.assertEqual(self.call({"account": ALICE, "binary": "true", "limit": 1}, 1)["limit"], 1)
        self.assertError({"account": ALICE, "limit": "x"}, "internal", 73, "Internal error.", 2)
        self.assertError(
            {"account": ALICE, "marker": "bad"}, "invalidParams", 31, TX_MARKER_MESSAGE
        )
        self.assertError(
            {"account": ALICE, "marker": {"ledger": "a", "seq": 1}},
            "invalidParams",
            31,
            TX_MARKER_MESSAGE,
        )


class PageSizeTests(HandlerCase):
    handler = account_tx.HANDLER

    def test_page_caps(self) -> None:
        """A page holds at most 200 transactions, 500 in binary, whatever the limit; the limit is echoed."""
        json_page = self.call({"account": ALICE, "limit": 1000}, 2)
        self.assertEqual((len(json_page["transactions"]), json_page["limit"]), (200, 1000))
        self.assertIn("marker", json_page)
        binary = self.call({"account": ALICE, "limit": 1000, "binary": True}, 2)
        self.assertEqual(len(binary["transactions"]), len(_history(ALICE)))
        self.assertNotIn("marker", binary)
        self.assertEqual(len(self.call({"account": ALICE}, 2)["transactions"]), 200)
