"""The codec's rendering rules (where rippled's JSON is not xrpl-py's) and its handling of bad input."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.protocol.codec import (
    CodecError,
    decode,
    decode_hex,
    encode,
    encode_hex,
    ledger_entry_type,
    transaction_type,
    vl_prefix,
)
from tests.protocol._corpus import corpus_state, corpus_transactions

ALICE = "rRtJMZbVx3PM4iXvnH7pR1KYmnyzQXcfm"
BOB = "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"


def _round(obj: dict[str, object]) -> dict[str, object]:
    return decode(encode(obj))


class UInt64RuleTests(SynchronousTestCase):
    def test_uint64_lower_hex_no_leading_zeros(self) -> None:
        """UInt64 renders as rippled's lower-case hex without leading zeros (xrpl-py: 16 upper digits)."""
        blob = encode({"OwnerNode": "2E9", "BookNode": "0", "ExchangeRate": "5B04251B830F3800"})
        self.assertIn(b"\x34" + struct.pack(">Q", 0x2E9), blob)
        self.assertEqual(
            decode(blob), {"BookNode": "0", "OwnerNode": "2e9", "ExchangeRate": "5b04251b830f3800"}
        )

    def test_uint64_base_ten_fields(self) -> None:
        """MPTAmount, OutstandingAmount, MaximumAmount and LockedAmount render in base ten."""
        obj = {
            "MaximumAmount": "9223372036854775807",
            "OutstandingAmount": "100",
            "MPTAmount": "0",
            "LockedAmount": "12",
        }
        blob = encode(obj)
        self.assertIn(struct.pack(">Q", 100), blob)
        self.assertEqual(decode(blob), obj)


class AmountRuleTests(SynchronousTestCase):
    def test_iou_value_formats(self) -> None:
        """IOU values print plain for exponents -25..-5 and as raw mantissa+e otherwise."""
        for text, want in [
            ("1", "1"),
            ("1.01", "1.01"),
            ("-2006.88", "-2006.88"),
            ("0", "0"),
            ("1e-81", "1000000000000000e-96"),
            ("123e20", "1230000000000000e7"),
            ("0.0000000001", "0.0000000001"),
            ("1828.626208967519", "1828.626208967519"),
            ("9999999999999999e80", "9999999999999999e80"),
        ]:
            amount = {"currency": "USD", "issuer": ALICE, "value": text}
            self.assertEqual(_round({"Amount": amount})["Amount"]["value"], want, text)

    def test_negative_xrp_drops(self) -> None:
        """XRP drops may be negative in real metadata (DeliveredAmount "-1")."""
        blob = encode({"DeliveredAmount": "-1"})
        self.assertEqual(blob, b"\x60\x12" + struct.pack(">Q", 1))
        self.assertEqual(decode(blob), {"DeliveredAmount": "-1"})

    def test_mpt_amount(self) -> None:
        """MPT amounts are {mpt_issuance_id, value} with a decimal value."""
        amt = {"mpt_issuance_id": "000000019E9DA16578870AE28756D182A9AE344092669A2A", "value": "42"}
        blob = encode({"Amount": amt})
        self.assertEqual(len(blob), 34)
        self.assertEqual(decode(blob), {"Amount": amt})

    def test_currency_codes(self) -> None:
        """Three-letter codes stay letters; XRP-in-ISO-form and non-standard codes print as hex."""
        hex_code = "03930D02208264E2E40EC1B0C09E4DB96EE197B1"
        xrp_iso = "0000000000000000000000005852500000000000"
        for cur, want in [("USD", "USD"), (hex_code, hex_code), (xrp_iso, xrp_iso)]:
            amount = {"currency": cur, "issuer": BOB, "value": "5"}
            self.assertEqual(_round({"Amount": amount})["Amount"]["currency"], want)

    def test_number_text_rules(self) -> None:
        """Number prints plain for exponents -28..-8 (19-digit mantissa), else stripped scientific."""
        for mantissa, exponent, want in [
            (5 * 10**18, -12, "5000000"),
            (10**18, 2, "1e20"),
            (-15 * 10**17, -18, "-1.5"),
            (1234567890123456789, -28, "0.0000000001234567890123456789"),
            (10**18, -29, "1e-11"),
            (0, -(2**31), "0"),
            # above 2**63 - 1 the mantissa is stored divided by ten
            (999999999999999900, 78, "9999999999999999e80"),
        ]:
            blob = b"\x91" + struct.pack(">qi", mantissa, exponent)
            self.assertEqual(decode(blob), {"Number": want}, (mantissa, exponent))
            self.assertEqual(encode({"Number": want}), blob)

    def test_number_nineteen_digit_mantissa(self) -> None:
        """rippled 3.1's Number serialises a 19-digit mantissa; JSON is plain decimal."""
        blob = encode({"AssetsTotal": "5000000"})
        self.assertEqual(blob[-12:], struct.pack(">qi", 5 * 10**18, -12))
        self.assertEqual(decode(blob), {"AssetsTotal": "5000000"})


class EnumAndStructureTests(SynchronousTestCase):
    def test_names_for_enum_fields(self) -> None:
        """TransactionType, LedgerEntryType and TransactionResult render as names."""
        obj = {"TransactionType": "Payment", "LedgerEntryType": "AccountRoot"}
        self.assertEqual(_round(obj), obj)
        self.assertEqual(
            _round({"TransactionResult": "tecPATH_DRY"}), {"TransactionResult": "tecPATH_DRY"}
        )
        self.assertEqual(decode(encode({"TransactionType": 0})), {"TransactionType": "Payment"})

    def test_canonical_order(self) -> None:
        """Encoding sorts fields by type code then field code, whatever the JSON order."""
        a = encode({"Account": ALICE, "Fee": "10", "Sequence": 1, "TransactionType": "Payment"})
        b = encode({"TransactionType": "Payment", "Sequence": 1, "Fee": "10", "Account": ALICE})
        self.assertEqual(a, b)
        self.assertEqual(list(decode(a)), ["TransactionType", "Sequence", "Fee", "Account"])

    def test_paths_issue_bridge_vector(self) -> None:
        """PathSet, Issue (XRP, IOU, MPT), XChainBridge and Vector256 round-trip."""
        obj = {
            "Paths": [
                [{"currency": "USD", "issuer": ALICE, "type": 48}],
                [{"account": BOB, "type": 1}, {"currency": "XRP", "type": 16}],
            ],
            "Asset": {"currency": "XRP"},
            "Asset2": {"mpt_issuance_id": "000000019E9DA16578870AE28756D182A9AE344092669A2A"},
            "XChainBridge": {
                "IssuingChainDoor": BOB,
                "IssuingChainIssue": {"currency": "XRP"},
                "LockingChainDoor": ALICE,
                "LockingChainIssue": {"currency": "USD", "issuer": ALICE},
            },
            "Hashes": ["AB" * 32, "00" * 32],
        }
        self.assertEqual(_round(obj), obj)

    def test_vl_lengths(self) -> None:
        """Blob length prefixes use one, two and three bytes at rippled's boundaries."""
        for n, size in [(0, 1), (192, 1), (193, 2), (12480, 2), (12481, 3), (918744, 3)]:
            self.assertEqual(len(vl_prefix(n)), size)
            obj = {"Domain": "AB" * n}
            self.assertEqual(_round(obj), obj)
        self.assertRaises(CodecError, vl_prefix, 918745)

    def test_nested_objects_and_arrays(self) -> None:
        """STArray of STObjects and nested STObjects round-trip."""
        obj = {
            "Memos": [
                {"Memo": {"MemoData": "AA", "MemoType": "BB"}},
                {"Memo": {"MemoFormat": "CC"}},
            ],
            "FinalFields": {"Balance": "1", "Account": ALICE},
        }
        self.assertEqual(decode(encode(obj)), obj)

    def test_peek_types(self) -> None:
        """ledger_entry_type/transaction_type read the type without a full decode."""
        t = corpus_transactions()[0]
        self.assertEqual(transaction_type(bytes.fromhex(t["tx_blob"])), t["v1"]["TransactionType"])
        index, data = corpus_state()["blobs"][0]
        self.assertEqual(
            ledger_entry_type(bytes.fromhex(data)), decode_hex(data)["LedgerEntryType"]
        )
        self.assertIsNone(ledger_entry_type(b"\x12\x00\x00"))
        self.assertIsNone(transaction_type(b""))

    def test_hex_helpers(self) -> None:
        """decode_hex/encode_hex are the hex forms of decode/encode."""
        t = corpus_transactions()[1]
        self.assertEqual(encode_hex(decode_hex(t["tx_blob"])), t["tx_blob"].upper())
        self.assertRaises(CodecError, decode_hex, "zz")


class BadInputTests(SynchronousTestCase):
    def test_every_truncation_raises(self) -> None:
        """Every proper prefix of real tx, meta and object blobs raises CodecError (or is a shorter valid object)."""
        samples = [bytes.fromhex(corpus_transactions()[i]["meta"]) for i in (0, 5)]
        samples.append(bytes.fromhex(corpus_transactions()[3]["tx_blob"]))
        samples.append(bytes.fromhex(corpus_state()["blobs"][0][1]))
        for blob in samples:
            for n in range(1, len(blob)):
                try:
                    again = encode(decode(blob[:n]))
                except CodecError:
                    continue
                # A cut exactly between top-level fields is itself a valid object.
                self.assertEqual(again, blob[:n])

    def test_unknown_field_code(self) -> None:
        """An unknown field code raises CodecError."""
        self.assertRaises(CodecError, decode, b"\x20\x2f\x00\x00\x00\x00")  # UInt32 47: reserved
        self.assertRaises(CodecError, decode, b"\x00\x63\x01")  # type 99

    def test_bad_length_prefix(self) -> None:
        """Length prefix 0xFF and lengths past the end raise CodecError promptly."""
        self.assertRaises(CodecError, decode, b"\x77\xff")
        self.assertRaises(CodecError, decode, b"\x77\xfe\xff\xff" + b"\x00" * 10)
        self.assertRaises(CodecError, decode, b"\x77\x05\x00")

    def test_misplaced_markers_and_nesting(self) -> None:
        """End markers out of place, unterminated objects and deep nesting raise CodecError."""
        self.assertRaises(CodecError, decode, b"\xe1")
        self.assertRaises(CodecError, decode, b"\xf1")
        self.assertRaises(CodecError, decode, b"\xe7\x24\x00\x00\x00\x01")
        self.assertRaises(CodecError, decode, b"\xe7" * 200 + b"\xe1" * 200)
        self.assertRaises(CodecError, decode, b"\xf9\x24\x00\x00\x00\x01\xe1\xf1")
        self.assertRaises(CodecError, decode, b"\x24\x00\x00\x00\x01\x24\x00\x00\x00\x02")

    def test_bad_json_raises(self) -> None:
        """Unknown fields, bad values and bad addresses raise CodecError when encoding."""
        for obj in [
            {"NotAField": 1},
            {"Sequence": "x"},
            {"Sequence": 2**32},
            {"Account": "rNotAnAddress"},
            {"Amount": {"currency": "USD", "value": "1"}},
            {"Amount": "1.5"},
            {"LedgerHash": "AB"},
            {"TransactionType": "NoSuchType"},
            {"Memos": [{"Account": ALICE}]},
        ]:
            self.assertRaises(CodecError, encode, obj)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def test_fuzz_bit_flips(self, data: st.DataObject) -> None:
        """Random bit flips and cuts of real blobs decode or raise CodecError, nothing else."""
        t = data.draw(st.sampled_from(corpus_transactions()[:60]))
        blob = bytearray(bytes.fromhex(data.draw(st.sampled_from([t["tx_blob"], t["meta"]]))))
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(blob) - 1))
            blob[i] ^= 1 << data.draw(st.integers(0, 7))
        cut = data.draw(st.integers(1, len(blob)))
        try:
            decode(bytes(blob[:cut]))
        except CodecError:
            pass

    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=200))
    def test_fuzz_random_bytes(self, blob: bytes) -> None:
        """Arbitrary bytes decode or raise CodecError, nothing else."""
        try:
            decode(blob)
        except CodecError:
            pass


_accounts = st.sampled_from([ALICE, BOB, "rrrrrrrrrrrrrrrrrrrrrhoLvTp"])
_hex = st.binary(max_size=300).map(lambda b: b.hex().upper())
_iou = st.builds(
    lambda m, e, neg, cur, iss: {
        "currency": cur,
        "issuer": iss,
        "value": ("-" if neg else "") + f"{m}e{e}",
    },
    st.integers(10**15, 10**16 - 1),
    st.integers(-96, 80),
    st.booleans(),
    st.sampled_from(["USD", "EUR", "03930D02208264E2E40EC1B0C09E4DB96EE197B1"]),
    _accounts,
)
_amount = st.one_of(st.integers(0, 10**17).map(str), _iou)
_fields = st.fixed_dictionaries(
    {},
    optional={
        "Flags": st.integers(0, 2**32 - 1),
        "Sequence": st.integers(0, 2**32 - 1),
        "TransferFee": st.integers(0, 2**16 - 1),
        "TickSize": st.integers(0, 255),
        "OwnerNode": st.integers(0, 2**64 - 1).map(lambda n: format(n, "x")),
        "MPTAmount": st.integers(0, 2**63 - 1).map(str),
        "LedgerHash": st.binary(min_size=32, max_size=32).map(lambda b: b.hex().upper()),
        "Amount": _amount,
        "Fee": _amount,
        "Domain": _hex,
        "Account": _accounts,
        "Destination": _accounts,
        "Hashes": st.lists(
            st.binary(min_size=32, max_size=32).map(lambda b: b.hex().upper()), max_size=3
        ),
        "LoanScale": st.integers(-(2**31), 2**31 - 1),
    },
)


class GeneratedObjectTests(SynchronousTestCase):
    @settings(max_examples=200, deadline=None)
    @given(_fields, st.lists(_fields, max_size=3))
    def test_generated_objects_round_trip(
        self, obj: dict[str, object], memos: list[dict[str, object]]
    ) -> None:
        """Generated objects encode, decode and encode again to the same bytes."""
        if memos:
            obj = dict(obj, Signers=[{"Signer": m} for m in memos])
        blob = encode(obj)
        self.assertEqual(encode(decode(blob)), blob)


class NewerTypeRuleTests(SynchronousTestCase):
    def test_mpt_issue_sequence_is_little_endian(self) -> None:
        """An MPT Issue stores the issuance sequence little-endian, as rippled writes it."""
        from tests.protocol._corpus import other_blobs

        marker = "43ABF2D7B13CE9EA5F6D2D87DCBFE078E2454C24" + "00" * 19 + "01" + "55050000"
        blob = next(h for h in other_blobs() if marker in h)
        self.assertEqual(
            decode_hex(blob)["Asset"],
            {"mpt_issuance_id": "0000055543ABF2D7B13CE9EA5F6D2D87DCBFE078E2454C24"},
        )
        self.assertEqual(encode_hex(decode_hex(blob)), blob)

    def test_permission_value_names(self) -> None:
        """PermissionValue renders as a transaction type (code + 1) or granular permission name."""
        for name, value in [("Payment", 1), ("TrustSet", 21), ("PaymentMint", 65545)]:
            blob = encode({"PermissionValue": name})
            self.assertEqual(blob[-4:], struct.pack(">I", value))
            self.assertEqual(decode(blob), {"PermissionValue": name})
        self.assertEqual(decode(encode({"PermissionValue": 99999})), {"PermissionValue": 99999})


class AccountRuleTests(SynchronousTestCase):
    def test_empty_account_renders_empty(self) -> None:
        """A zero-length AccountID is rippled's unset account: "" (xrpl-py: rrrrrrrrrrrrrrrrrrrrrhoLvTp)."""
        blob = b"\x81\x00"
        self.assertEqual(decode(blob), {"Account": ""})
        self.assertEqual(encode({"Account": ""}), blob)
        self.assertEqual(
            decode(encode({"Account": "rrrrrrrrrrrrrrrrrrrrrhoLvTp"})),
            {"Account": "rrrrrrrrrrrrrrrrrrrrrhoLvTp"},
        )


_json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=50), st.floats()
)
_json = st.recursive(
    _json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)
_field_names = st.sampled_from(
    [
        "Account",
        "Amount",
        "Fee",
        "Flags",
        "OwnerNode",
        "MPTAmount",
        "Domain",
        "Paths",
        "Memos",
        "FinalFields",
        "Asset",
        "XChainBridge",
        "Hashes",
        "AssetsTotal",
        "TransactionType",
        "LedgerHash",
        "BaseAsset",
        "LoanScale",
        "PermissionValue",
    ]
)


class BadJsonFuzzTests(SynchronousTestCase):
    @settings(max_examples=200, deadline=None)
    @given(st.dictionaries(_field_names, _json, max_size=4))
    def test_random_json_encodes_or_raises_codec_error(self, obj: dict[str, object]) -> None:
        """Arbitrary JSON values in real field names encode or raise CodecError, nothing else."""
        try:
            blob = encode(obj)
        except CodecError:
            return
        self.assertEqual(encode(decode(blob)), blob)
