"""CTID encoding and decoding, checked against CTIDs a real rippled 3.1.1 returned."""

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.protocol.ctid import CTID, decode_ctid, encode_ctid


class EncodeTests(SynchronousTestCase):
    def test_recorded_values(self) -> None:
        """The CTIDs rippled answered for (ledger, index) pairs of the corpus."""
        self.assertEqual(encode_ctid(3, 2, 0), "C000000300020000")
        self.assertEqual(encode_ctid(11, 5, 0), "C000000B00050000")
        self.assertEqual(encode_ctid(42, 2, 0), "C000002A00020000")

    def test_network_id_in_low_bits(self) -> None:
        """The network id fills the last four hex digits."""
        self.assertEqual(encode_ctid(1, 0, 21337), "C000000100005359")

    def test_out_of_range_is_none(self) -> None:
        """Parts that do not fit make no CTID."""
        self.assertIsNone(encode_ctid(0x1000_0000, 0, 0))
        self.assertIsNone(encode_ctid(1, 0x10000, 0))
        self.assertIsNone(encode_ctid(1, 0, 0x10000))
        self.assertIsNone(encode_ctid(-1, 0, 0))

    def test_largest_values(self) -> None:
        """Each part at its maximum still encodes."""
        self.assertEqual(encode_ctid(0x0FFFFFFF, 0xFFFF, 0xFFFF), "CFFFFFFFFFFFFFFF")


class DecodeTests(SynchronousTestCase):
    def test_round_trip(self) -> None:
        """Decoding an encoded CTID gives back its parts."""
        self.assertEqual(decode_ctid("C000002700000000"), CTID(39, 0, 0))
        self.assertEqual(decode_ctid(encode_ctid(270, 7, 1)), CTID(270, 7, 1))

    def test_lower_case_accepted(self) -> None:
        """Lower-case hex is read as upper-case."""
        self.assertEqual(decode_ctid("c000000300020000"), CTID(3, 2, 0))

    def test_malformed(self) -> None:
        """Wrong length, non-hex, wrong top nibble and non-strings are refused."""
        for bad in (
            "C0000000000000",
            "C0000000000000000",
            "G000000300020000",
            "8000000300020000",
            5,
            None,
        ):
            self.assertIsNone(decode_ctid(bad), bad)
