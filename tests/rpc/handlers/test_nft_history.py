"""nft_history (Clio): its parameter rules, shapes and a full walk of one NFT's history."""

from __future__ import annotations

from typing import Any

from clio_twisted.rpc.handlers import nft_history
from tests.rpc.corpus import corpus_backend
from tests.rpc.handlers._helpers import HandlerCase


def _busiest_nft() -> str:
    store = corpus_backend().store
    token = max(store.nft_tx, key=lambda k: len(store.nft_tx[k]))
    return token.hex().upper()


class NftHistoryTests(HandlerCase):
    handler = nft_history.HANDLER

    def _walk(self, forward: bool) -> list[str]:
        params: dict[str, Any] = {"nft_id": _busiest_nft(), "limit": 4, "forward": forward}
        hashes: list[str] = []
        for _ in range(200):
            page = self.call(params, 2)
            hashes += [t["hash"] for t in page["transactions"]]
            if "marker" not in page:
                return hashes
            params["marker"] = page["marker"]
        self.fail("walk did not end")

    def test_walks(self) -> None:
        """Both directions yield the whole history once, in opposite orders."""
        full = [
            t["hash"]
            for t in self.call({"nft_id": _busiest_nft(), "limit": 100}, 2)["transactions"]
        ]
        self.assertGreater(len(full), 4)
        self.assertEqual(self._walk(False), full)
        self.assertEqual(self._walk(True), list(reversed(full)))

    def test_shape(self) -> None:
        """The answer names the NFT and the range; limit is echoed only when given."""
        page = self.call({"nft_id": _busiest_nft()}, 1)
        self.assertEqual(page["nft_id"], _busiest_nft())
        self.assertEqual((page["ledger_index_min"], page["ledger_index_max"]), (3, 270))
        self.assertNotIn("limit", page)
        self.assertEqual(sorted(page["transactions"][0]), ["meta", "tx", "validated"])
        self.assertEqual(self.call({"nft_id": _busiest_nft(), "limit": 1000}, 1)["limit"], 100)

    def test_errors(self) -> None:
        """Clio's errors for each bad parameter."""
        nft = _busiest_nft()
        self.assertError({}, "invalidParams", 31, "Missing field 'nft_id'.")
        self.assertError({"nft_id": "zz"}, "invalidParams", 31, "nft_idMalformed")
        self.assertError({"nft_id": nft, "binary": 1}, "invalidParams", 31, "Invalid parameters.")
        self.assertError({"nft_id": nft, "limit": 0}, "invalidParams", 31, "Invalid parameters.")
        self.assertError({"nft_id": nft, "marker": 101}, "invalidParams", 31, "invalidMarker")
        self.assertError(
            {"nft_id": nft, "marker": {"ledger": 1, "seq": "x"}},
            "invalidParams",
            31,
            "Invalid parameters.",
        )
        self.assertError(
            {"nft_id": nft, "ledger_index_min": 2}, "lgrIdxMalformed", 58, "ledgerSeqMinOutOfRange"
        )
        self.assertError(
            {"nft_id": nft, "ledger_index_max": 999},
            "lgrIdxMalformed",
            58,
            "ledgerSeqMaxOutOfRange",
        )
        self.assertError(
            {"nft_id": nft, "ledger_index": 10, "ledger_index_min": 11},
            "invalidParams",
            31,
            "containsLedgerSpecifierAndRange",
        )
        self.assertError({"nft_id": nft, "ledger_index": 999}, "lgrNotFound", 21, "ledgerNotFound")
