"""transaction_entry: the transaction in the named ledger, and rippled's code-less errors."""

from __future__ import annotations

from clio_twisted.rpc.handlers import transaction_entry
from tests.rpc.handlers._helpers import HandlerCase

PAYMENT = "71D2488787BD596661A8A391D34DB2029494DD5DB6F860A9443FB961F5E73159"  # ledger 3


class TransactionEntryTests(HandlerCase):
    handler = transaction_entry.HANDLER

    def test_shapes(self) -> None:
        """v1: tx_json with hash and metadata; v2: tx_json, meta, hash and close_time_iso; no delivered_amount."""
        v1 = self.call({"tx_hash": PAYMENT, "ledger_index": 3}, 1)
        self.assertEqual(v1["tx_json"]["hash"], PAYMENT)
        self.assertNotIn("delivered_amount", v1["metadata"])
        v2 = self.call({"tx_hash": PAYMENT, "ledger_index": 3}, 2)
        self.assertEqual(v2["hash"], PAYMENT)
        self.assertIn("close_time_iso", v2)
        self.assertNotIn("hash", v2["tx_json"])

    def test_errors_beside_the_ledger(self) -> None:
        """Missing, malformed and absent hashes: bare tokens next to the ledger's hash and index."""
        for params, token in (
            ({"ledger_index": 3}, "fieldNotFoundTransaction"),
            ({"tx_hash": "zz", "ledger_index": 3}, "malformedRequest"),
            ({"tx_hash": PAYMENT, "ledger_index": 4}, "transactionNotFound"),
        ):
            answer = self.assertError(params, token, None, None)
            self.assertEqual(answer["ledger_index"], params["ledger_index"])
            self.assertEqual(len(answer["ledger_hash"]), 64)
            self.assertIs(answer["validated"], True)
        self.assertError(
            {"tx_hash": PAYMENT, "ledger_index": 999}, "lgrNotFound", 21, "ledgerNotFound"
        )
