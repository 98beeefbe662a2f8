"""NFToken id fields, checked against xrpl-py's independent parser."""

from __future__ import annotations

from xrpl.core.addresscodec import decode_classic_address
from xrpl.utils import parse_nftoken_id

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.nft_ids import nft_issuer, nft_sequence, nft_taxon
from tests.backend.builders import account, nft_id

# An NFToken id from the XRPL documentation (NFTokenID example).
EXAMPLE = "000B013A95F14B0044F78A264E41713C64B5F89242540EE208C3098E00000D65"


class NFTIdTests(SynchronousTestCase):
    def test_matches_xrpl_py(self) -> None:
        """Issuer, taxon and sequence agree with xrpl-py's parse_nftoken_id."""
        parsed = parse_nftoken_id(EXAMPLE)
        token = bytes.fromhex(EXAMPLE)
        self.assertEqual(nft_issuer(token), decode_classic_address(parsed["issuer"]))
        self.assertEqual(nft_taxon(token), parsed["taxon"])
        self.assertEqual(nft_sequence(token), parsed["sequence"])

    def test_builder_round_trip(self) -> None:
        """The test builder's scrambled taxon unscrambles to the taxon it was given."""
        for taxon, sequence in [(0, 0), (1, 1), (2**32 - 1, 77), (12345, 2**31)]:
            token = nft_id(account(1), taxon, sequence)
            self.assertEqual((nft_taxon(token), nft_sequence(token)), (taxon, sequence))
            self.assertEqual(nft_issuer(token), account(1))

    def test_wrong_length(self) -> None:
        """A short id is refused rather than misread."""
        self.assertRaises(ValueError, nft_taxon, bytes(31))
