"""tx: lookups by hash and CTID, ranges, binary, and rippled's exact errors."""

from __future__ import annotations

from clio_twisted.rpc.handlers import tx
from tests.rpc.handlers._helpers import HandlerCase

PAYMENT = "71D2488787BD596661A8A391D34DB2029494DD5DB6F860A9443FB961F5E73159"  # ledger 3, index 2
MISSING = "AB" * 32


class TxTests(HandlerCase):
    handler = tx.HANDLER

    def test_by_hash_and_ctid_agree(self) -> None:
        """The CTID of a transaction finds the same answer as its hash."""
        by_hash = self.call({"transaction": PAYMENT}, 2)
        self.assertEqual(by_hash["ctid"], "C000000300020000")
        self.assertEqual(self.call({"ctid": "C000000300020000"}, 2), by_hash)
        self.assertEqual(self.call({"ctid": "c000000300020000"}, 2), by_hash)
        self.assertEqual(self.call({"transaction": PAYMENT.lower()}, 2), by_hash)

    def test_shapes(self) -> None:
        """v1 is flat with meta and inLedger; v2 wraps tx_json; binary v1 tx/meta, v2 tx_blob/meta_blob."""
        v1 = self.call({"transaction": PAYMENT}, 1)
        self.assertEqual((v1["inLedger"], v1["ledger_index"], v1["hash"]), (3, 3, PAYMENT))
        self.assertIn("Amount", v1)
        self.assertIn("DeliverMax", v1)
        v2 = self.call({"transaction": PAYMENT}, 2)
        self.assertNotIn("Amount", v2["tx_json"])
        self.assertEqual(v2["tx_json"]["ledger_index"], 3)
        b1 = self.call({"transaction": PAYMENT, "binary": True}, 1)
        self.assertTrue({"tx", "meta"} <= set(b1))
        b2 = self.call({"transaction": PAYMENT, "binary": "yes"}, 2)
        self.assertTrue({"tx_blob", "meta_blob", "close_time_iso"} <= set(b2))

    def test_range(self) -> None:
        """A range excluding the transaction's ledger hides it, with searched_all."""
        self.assertEqual(
            self.call({"transaction": PAYMENT, "min_ledger": 3, "max_ledger": 5})["ledger_index"], 3
        )
        self.assertError(
            {"transaction": PAYMENT, "min_ledger": 4, "max_ledger": 5},
            "txnNotFound",
            29,
            "Transaction not found.",
        )
        answer = self.call({"transaction": MISSING, "min_ledger": 3, "max_ledger": 270})
        self.assertIs(answer["searched_all"], True)
        answer = self.call({"transaction": MISSING, "min_ledger": 1, "max_ledger": 270})
        self.assertIs(answer["searched_all"], False)
        self.assertNotIn("searched_all", self.call({"transaction": MISSING}))

    def test_errors(self) -> None:
        """Every request error rippled answers, with its exact token, code and message."""
        self.assertError({}, "invalidParams", 31, "Invalid parameters.")
        self.assertError(
            {"transaction": PAYMENT, "ctid": "C000000300020000"},
            "invalidParams",
            31,
            "Invalid parameters.",
        )
        self.assertError({"transaction": "abc"}, "notImpl", 74, "Not implemented.")
        self.assertError({"ctid": "C0000000000000"}, "invalidParams", 31, "Invalid parameters.")
        self.assertError(
            {"ctid": "C000000100000001"},
            "wrongNetwork",
            4,
            "Wrong network. You should submit this request to a node running on NetworkID: 1",
        )
        self.assertError(
            {"transaction": MISSING, "min_ledger": 270, "max_ledger": 3},
            "invalidLgrRange",
            79,
            "Ledger range is invalid.",
        )
        self.assertError(
            {"transaction": MISSING, "min_ledger": 1, "max_ledger": 5000},
            "excessiveLgrRange",
            78,
            "Ledger range exceeds 1000.",
        )
        self.assertError({"ctid": "C000000300500000"}, "txnNotFound", 29, "Transaction not found.")
