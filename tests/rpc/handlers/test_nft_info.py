"""Clio's own nft_info, nfts_by_issuer and mpt_holders: shapes, paging, errors."""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers.mpt_holders import HANDLER as HOLDERS
from clio_twisted.rpc.handlers.nft_info import HANDLER as INFO
from clio_twisted.rpc.handlers.nfts_by_issuer import HANDLER as BY_ISSUER
from tests.rpc.corpus import call

HENRY = "r3CJRHXodGzkCU6J7NnRn7W9TZzyr9fFsL"
TOKEN = "000909C454073A3970D5F8FEE4CAC0D5C3941041C35E59AE0245C1D100000038"
SHARES = "000000019E9DA16578870AE28756D182A9AE344092669A2A"


def _pages(handler: Any, params: dict[str, Any], field: str, most: int) -> list[Any]:
    """The items of ``field`` over the pages that follow the markers, at most ``most`` pages."""
    seen: list[Any] = []
    for _ in range(most):
        out = call(handler, params)
        seen += out[field]
        if "marker" not in out:
            break
        params = {**params, "marker": out["marker"]}
    return seen


class NftInfoTests(SynchronousTestCase):
    def test_shape(self) -> None:
        """Owner, burn state, URI hex and the id's fields."""
        out = call(INFO, {"nft_id": TOKEN})
        self.assertEqual(
            {
                k: out[k]
                for k in (
                    "owner",
                    "is_burned",
                    "flags",
                    "transfer_fee",
                    "nft_taxon",
                    "nft_serial",
                    "validated",
                )
            },
            {
                "owner": HENRY,
                "is_burned": False,
                "flags": 9,
                "transfer_fee": 2500,
                "nft_taxon": 2,
                "nft_serial": 56,
                "validated": True,
            },
        )
        self.assertEqual(bytes.fromhex(out["uri"]), b"ipfs://corpus/henry/050")

    def test_errors(self) -> None:
        """Missing, non-string, malformed and unknown ids; Clio's ledger_hash errors (a Clio-only method)."""
        self.assertEqual(call(INFO, {})["error_message"], "Required field 'nft_id' missing")
        bad_hash = call(INFO, {"nft_id": "00" * 32, "ledger_hash": "xyz"})
        self.assertEqual(bad_hash["error_message"], "ledger_hashMalformed")
        self.assertEqual(call(INFO, {"nft_id": 1})["error_message"], "nft_idNotString")
        self.assertEqual(call(INFO, {"nft_id": "zz"})["error_message"], "nft_idMalformed")
        out = call(INFO, {"nft_id": "00" * 32})
        self.assertEqual((out["error"], out["error_message"]), ("objectNotFound", "NFT not found"))


class NftsByIssuerTests(SynchronousTestCase):
    def test_paging_every_nft_once(self) -> None:
        """Pages of 7 list the same tokens as one page of 100, once each, in order."""
        whole = call(BY_ISSUER, {"issuer": HENRY, "limit": 100})["nfts"]
        seen = _pages(BY_ISSUER, {"issuer": HENRY, "limit": 7}, "nfts", 50)
        self.assertEqual(seen, whole)
        self.assertGreater(len(whole), 50)

    def test_taxon_and_errors(self) -> None:
        """nft_taxon filters and is echoed; bad fields are refused."""
        out = call(BY_ISSUER, {"issuer": HENRY, "nft_taxon": 2})
        self.assertEqual({n["nft_taxon"] for n in out["nfts"]}, {2})
        self.assertEqual(out["nft_taxon"], 2)
        self.assertEqual(call(BY_ISSUER, {"issuer": "bad"})["error"], "actMalformed")
        self.assertEqual(call(BY_ISSUER, {"issuer": 3})["error_message"], "issuerNotString")
        self.assertEqual(call(BY_ISSUER, {"issuer": HENRY, "limit": 0})["error"], "invalidParams")
        self.assertEqual(
            call(BY_ISSUER, {"issuer": HENRY, "marker": "x"})["error_message"], "markerMalformed"
        )
        self.assertEqual(call(BY_ISSUER, {"issuer": HENRY, "limit": 500})["limit"], 100)


class MptHoldersTests(SynchronousTestCase):
    def test_holders_and_paging(self) -> None:
        """Every holder with its amount; pages of one give the same holders."""
        whole = call(HOLDERS, {"mpt_issuance_id": SHARES})["mptokens"]
        self.assertEqual(len(whole), 3)
        seen = _pages(HOLDERS, {"mpt_issuance_id": SHARES, "limit": 1}, "mptokens", 10)
        self.assertEqual(seen, whole)

    def test_errors(self) -> None:
        """Malformed and unknown issuances."""
        self.assertEqual(
            call(HOLDERS, {"mpt_issuance_id": "zz"})["error_message"], "mpt_issuance_idMalformed"
        )
        self.assertEqual(call(HOLDERS, {"mpt_issuance_id": "00" * 24})["error"], "objectNotFound")
