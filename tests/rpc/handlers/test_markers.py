"""Paging parameters: rippled's marker and limit rules and their exact errors."""

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import TxCursor
from clio_twisted.rpc.errors import RPCError
from clio_twisted.rpc.markers import (
    TX_MARKER_MESSAGE,
    as_bool,
    key_before,
    parse_limit,
    parse_state_marker,
    parse_tx_marker,
    state_marker_json,
    tx_marker_json,
)


class StateMarkerTests(SynchronousTestCase):
    def test_hex_key(self) -> None:
        """64 hex digits (either case) are a key."""
        self.assertEqual(parse_state_marker("ab" * 32), b"\xab" * 32)

    def test_malformed(self) -> None:
        """Anything else is rippled's "not valid" error."""
        for bad in ("bad", "AB" * 31, "zz" * 32, 5, None, {"a": 1}):
            err = self.assertRaises(RPCError, parse_state_marker, bad)
            self.assertEqual(err.message, "Invalid field 'marker', not valid.")
            self.assertEqual(err.token, "invalidParams")

    def test_marker_is_key_before_next(self) -> None:
        """The returned marker is one less than the first key not returned (recorded @31)."""
        nxt = bytes.fromhex("108022AB0CA605636E4477B3F72ACD1AE6FA7CD4A8C463235ED94F9E9C394A23")
        self.assertEqual(
            state_marker_json(nxt),
            "108022AB0CA605636E4477B3F72ACD1AE6FA7CD4A8C463235ED94F9E9C394A22",
        )
        self.assertEqual(key_before(bytes(32)), b"\xff" * 32)
        self.assertEqual(key_before(b"\x00" * 31 + b"\x01"), bytes(32))


class LimitTests(SynchronousTestCase):
    def test_default_and_clamp(self) -> None:
        """Absent gives the default; larger values are clamped to the maximum."""
        self.assertEqual(parse_limit(None, 256, 256), 256)
        self.assertEqual(parse_limit(5, 256, 256), 5)
        self.assertEqual(parse_limit(5000, 2048, 2048), 2048)

    def test_not_integer(self) -> None:
        """Strings, floats and booleans are refused as rippled refuses them."""
        for bad in ("x", 1.5, True):
            err = self.assertRaises(RPCError, parse_limit, bad, 256, 256)
            self.assertEqual(err.message, "Invalid field 'limit', not integer.")


class TxMarkerTests(SynchronousTestCase):
    def test_round_trip(self) -> None:
        """A well-formed marker parses to a cursor and renders back."""
        cursor = parse_tx_marker({"ledger": 264, "seq": 2})
        self.assertEqual(cursor, TxCursor(264, 2))
        self.assertEqual(tx_marker_json(cursor), {"ledger": 264, "seq": 2})

    def test_malformed(self) -> None:
        """Non-objects, missing or non-integer parts get rippled's long message."""
        for bad in (
            "bad",
            {"ledger": "a", "seq": 1},
            {"ledger": 1},
            {"ledger": -1, "seq": 0},
            [1, 2],
        ):
            err = self.assertRaises(RPCError, parse_tx_marker, bad)
            self.assertEqual(err.message, TX_MARKER_MESSAGE)


class AsBoolTests(SynchronousTestCase):
    def test_json_truthiness(self) -> None:
        """Non-empty strings (even "false") are true, as in rippled's JSON library."""
        self.assertTrue(as_bool("yes"))
        self.assertTrue(as_bool("false"))
        self.assertFalse(as_bool(""))
        self.assertFalse(as_bool(0))
        self.assertTrue(as_bool(2))
        self.assertFalse(as_bool(None))
