"""Classic addresses and node keys in base58check (XRPL alphabet)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.protocol.addresses import (
    AddressError,
    decode_address,
    decode_node_public,
    encode_account_id,
    encode_node_public,
    is_valid_address,
)


class AddressTests(SynchronousTestCase):
    def test_known_addresses(self) -> None:
        """Well-known account ids encode to their published addresses."""
        self.assertEqual(encode_account_id(bytes(20)), "rrrrrrrrrrrrrrrrrrrrrhoLvTp")
        self.assertEqual(encode_account_id(bytes(19) + b"\x01"), "rrrrrrrrrrrrrrrrrrrrBZbvji")
        genesis = bytes.fromhex("B5F762798A53D543A014CAF8B297CFF8F2F937E8")
        self.assertEqual(encode_account_id(genesis), "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh")
        self.assertEqual(decode_address("rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"), genesis)

    def test_bad_addresses(self) -> None:
        """Bad checksum, bad characters, wrong length and wrong prefix raise AddressError."""
        for bad in [
            "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTi",
            "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyT0",
            "r",
            "",
            "xHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh",
            "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyThrHb9CJAW",
        ]:
            self.assertRaises(AddressError, decode_address, bad)
            self.assertFalse(is_valid_address(bad))
        self.assertRaises(AddressError, encode_account_id, b"\x01")
        self.assertTrue(issubclass(AddressError, ValueError))

    @given(st.binary(min_size=20, max_size=20))
    def test_round_trip(self, account_id: bytes) -> None:
        """Any 20 bytes survive encode then decode."""
        self.assertEqual(decode_address(encode_account_id(account_id)), account_id)

    def test_node_public(self) -> None:
        """Node public keys round-trip with the ``n`` prefix and reject account addresses."""
        key = bytes.fromhex("03" + "AB" * 32)
        text = encode_node_public(key)
        self.assertTrue(text.startswith("n"))
        self.assertEqual(decode_node_public(text), key)
        self.assertRaises(AddressError, decode_node_public, "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh")
