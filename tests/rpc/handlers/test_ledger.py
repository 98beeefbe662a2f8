"""ledger: header shapes per version, transactions, binary, Clio's diff and refusals."""

from __future__ import annotations

from clio_twisted.rpc.handlers import ledger
from tests.rpc.corpus import corpus_backend
from tests.rpc.handlers._helpers import HandlerCase


class LedgerTests(HandlerCase):
    handler = ledger.HANDLER

    def test_header_versions(self) -> None:
        """The header's ledger_index is a string in v1 and a number in v2; the wrapper's is a number."""
        v1, v2 = self.call({"ledger_index": 31}, 1), self.call({"ledger_index": 31}, 2)
        self.assertEqual(v1["ledger"]["ledger_index"], "31")
        self.assertEqual(v2["ledger"]["ledger_index"], 31)
        self.assertEqual((v1["ledger_index"], v1["validated"]), (31, True))
        self.assertNotIn("transactions", v1["ledger"])

    def test_default_is_newest(self) -> None:
        """Without a selector, the newest stored ledger; "validated" means the same."""
        self.assertEqual(self.call({})["ledger_index"], 270)
        self.assertEqual(self.call({"ledger_index": "validated"})["ledger_index"], 270)
        self.assertEqual(self.call({"ledger_index": "31"})["ledger_index"], 31)

    def test_hash_wins_over_index(self) -> None:
        """ledger_hash selects the ledger even beside a different ledger_index."""
        h = self.call({"ledger_index": 57})["ledger_hash"]
        self.assertEqual(self.call({"ledger_hash": h, "ledger_index": 3})["ledger_index"], 57)

    def test_transactions_hash_order(self) -> None:
        """Transaction hashes come in hash order (the tree's), with rippled's truthiness for flags."""
        hashes = self.call({"ledger_index": 4, "transactions": "yes"})["ledger"]["transactions"]
        self.assertEqual(hashes, sorted(hashes))
        self.assertEqual(len(hashes), 6)

    def test_expanded_and_binary_shapes(self) -> None:
        """Expanded v1 items are flat with metaData; v2 wrap tx_json; binary holds blobs."""
        (v1,) = self.call({"ledger_index": 31, "transactions": True, "expand": True}, 1)["ledger"][
            "transactions"
        ]
        self.assertIn("metaData", v1)
        self.assertIn("hash", v1)
        (v2,) = self.call({"ledger_index": 31, "transactions": True, "expand": True}, 2)["ledger"][
            "transactions"
        ]
        self.assertEqual(sorted(v2)[:3], ["close_time_iso", "hash", "ledger_hash"])
        binary = self.call(
            {"ledger_index": 31, "transactions": True, "expand": True, "binary": True}, 1
        )
        self.assertEqual(sorted(binary["ledger"]), ["closed", "ledger_data", "transactions"])
        self.assertEqual(sorted(binary["ledger"]["transactions"][0]), ["meta", "tx_blob"])

    def test_diff(self) -> None:
        """Clio's diff lists every object the ledger changed; deleted ones as an empty string."""
        answer = self.call({"ledger_index": 270, "diff": True})
        expected = corpus_backend().store.diffs[270]
        self.assertEqual(
            {d["object_id"] for d in answer["ledger"]["diff"]}, {k.hex().upper() for k in expected}
        )
        for entry in answer["ledger"]["diff"]:
            blob = expected[bytes.fromhex(entry["object_id"])]
            self.assertEqual(entry["object"] == "", blob == b"")
        binary = self.call({"ledger_index": 270, "diff": True, "binary": True})
        self.assertTrue(all(isinstance(d["object"], str) for d in binary["ledger"]["diff"]))

    def test_owner_funds_only_offers(self) -> None:
        """owner_funds is added to OfferCreate transactions only (v2: beside tx_json)."""
        items = self.call(
            {"ledger_index": 27, "transactions": True, "expand": True, "owner_funds": True}, 2
        )
        for item in items["ledger"]["transactions"]:
            self.assertEqual(
                "owner_funds" in item, item["tx_json"]["TransactionType"] == "OfferCreate"
            )

    def test_refusals(self) -> None:
        """full and accounts are Clio's notSupported; queue on a validated ledger rippled's invalidParams."""
        self.assertError(
            {"full": True}, "notSupported", 75, "Not supported field 'full's value 'true'"
        )
        self.assertError(
            {"accounts": 1}, "notSupported", 75, "Not supported field 'accounts's value '1'"
        )
        self.assertError({"queue": True}, "invalidParams", 31, "Invalid parameters.")
        self.assertNotIn("error", self.call({"full": False}))

    def test_selection_errors(self) -> None:
        """Bad and unknown ledgers."""
        self.assertError({"ledger_index": "bogus"}, "invalidParams", 31, "ledgerIndexMalformed")
        self.assertError({"ledger_index": 99999999}, "lgrNotFound", 21, "ledgerNotFound")
        self.assertError({"ledger_index": 2}, "lgrNotFound", 21, "ledgerNotFound")
        self.assertError({"ledger_hash": "11" * 32}, "lgrNotFound", 21, "ledgerNotFound")
