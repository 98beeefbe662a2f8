"""ledger_entry: selector forms, binary, Clio's include_deleted, and rippled's per-field errors."""

from __future__ import annotations

from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import decode_address
from clio_twisted.rpc.handlers import ledger_entry
from tests.rpc.handlers._helpers import ALICE, GW, HandlerCase

CHANNEL_C2 = "FB34869C00485A6863C2DF0918BE1A605011644713C71C5DDCAE3593DDACAF87"  # closed before 270


class SelectorTests(HandlerCase):
    handler = ledger_entry.HANDLER

    def test_forms_agree(self) -> None:
        """account_root, account and index name the same object; binary gives node_binary."""
        by_account = self.call({"account_root": ALICE})
        self.assertEqual(self.call({"account": ALICE}), by_account)
        self.assertEqual(self.call({"index": by_account["index"]}), by_account)
        self.assertEqual(by_account["node"]["index"], by_account["index"])
        binary = self.call({"account_root": ALICE, "binary": True})
        self.assertEqual(
            sorted(binary), ["index", "ledger_hash", "ledger_index", "node_binary", "validated"]
        )

    def test_object_or_index(self) -> None:
        """Selectors with an object form accept the key too; numeric strings work for sequences."""
        key = (
            keylets.line(decode_address(ALICE), decode_address(GW), keylets.currency_code("USD"))
            .hex()
            .upper()
        )
        by_object = self.call({"ripple_state": {"accounts": [GW, ALICE], "currency": "USD"}})
        self.assertEqual(by_object["index"], key)
        self.assertEqual(self.call({"state": key}), by_object)
        by_string_seq = self.call({"ticket": {"account": ALICE, "ticket_seq": "23"}})
        self.assertEqual(by_string_seq, self.call({"ticket": {"account": ALICE, "ticket_seq": 23}}))

    def test_include_deleted(self) -> None:
        """Clio's include_deleted answers the last version of a deleted object and when it went."""
        self.assertError({"payment_channel": CHANNEL_C2}, "entryNotFound", 98, "Entry not found.")
        answer = self.call({"payment_channel": CHANNEL_C2, "include_deleted": True})
        self.assertEqual(answer["node"]["LedgerEntryType"], "PayChannel")
        self.assertLess(answer["deleted_ledger_index"], 270)
        self.assertGreater(answer["deleted_ledger_index"], 39)
        alive = self.call({"account_root": ALICE, "include_deleted": True})
        self.assertNotIn("deleted_ledger_index", alive)

    def test_no_selector(self) -> None:
        """v1: bare unknownOption beside the ledger; v2: invalidParams."""
        answer = self.assertError({"ledger_index": 270}, "unknownOption", None, None, 1)
        self.assertEqual((answer["ledger_index"], answer["validated"]), (270, True))
        self.assertError(
            {"ledger_index": 270}, "invalidParams", 31, "No ledger_entry params provided.", 2
        )


class ErrorTests(HandlerCase):
    handler = ledger_entry.HANDLER

    def test_errors(self) -> None:
        """Per-field tokens with code 31 and rippled's messages."""
        cases = [
            (
                {"account_root": ALICE, "index": "00" * 32},
                "invalidParams",
                "Too many fields provided.",
            ),
            (
                {"account_root": "bad"},
                "malformedAddress",
                "Invalid field 'account_root', not AccountID.",
            ),
            ({"check": "zz"}, "malformedRequest", "Invalid field 'check', not hex string."),
            (
                {"escrow": 5},
                "malformedRequest",
                "Invalid field 'escrow', not hex string or object.",
            ),
            ({"escrow": {"seq": 1}}, "malformedRequest", "Missing field 'owner'."),
            (
                {"escrow": {"owner": ALICE, "seq": "x"}},
                "malformedSeq",
                "Invalid field 'seq', not number.",
            ),
            ({"offer": {"account": ALICE}}, "malformedRequest", "Missing field 'seq'."),
            (
                {"oracle": {"account": ALICE, "oracle_document_id": "x"}},
                "malformedDocumentID",
                "Invalid field 'oracle_document_id', not number.",
            ),
            (
                {"mpt_issuance": "bad"},
                "malformedMPTokenIssuance",
                "Invalid field 'mpt_issuance', not Hash192.",
            ),
            (
                {"mptoken": {"mpt_issuance_id": "00" * 24, "account": "bad"}},
                "malformedAccount",
                "Invalid field 'account', not AccountID.",
            ),
            (
                {"ripple_state": {"accounts": [ALICE], "currency": "USD"}},
                "malformedRequest",
                "Invalid field 'accounts', not length-2 array of Accounts.",
            ),
            (
                {"ripple_state": {"accounts": [ALICE, "x"], "currency": "USD"}},
                "malformedAddress",
                "Invalid field 'accounts', not array of Accounts.",
            ),
            (
                {"ripple_state": {"accounts": [ALICE, ALICE], "currency": "USD"}},
                "malformedRequest",
                "Cannot have a trustline to self.",
            ),
            (
                {"ripple_state": {"accounts": [ALICE, GW], "currency": ""}},
                "malformedCurrency",
                "Invalid field 'currency', not Currency.",
            ),
            (
                {"directory": {"owner": ALICE, "dir_root": "00" * 32}},
                "malformedRequest",
                "Must have exactly one of `owner` and `dir_root` fields.",
            ),
            (
                {"directory": {"owner": ALICE, "sub_index": "x"}},
                "malformedRequest",
                "Invalid field 'sub_index', not integer.",
            ),
            (
                {"deposit_preauth": {"owner": ALICE}},
                "malformedRequest",
                "Must have exactly one of `authorized` and `authorized_credentials`.",
            ),
            (
                {"deposit_preauth": {"owner": ALICE, "authorized_credentials": 5}},
                "malformedAuthorizedCredentials",
                "Invalid field 'authorized_credentials', not array.",
            ),
            (
                {"amm": {"asset": {"currency": "XRP"}}},
                "malformedRequest",
                "Missing field 'asset2'.",
            ),
            (
                {"amm": {"asset": {"currency": "XRP"}, "asset2": {"currency": "USD"}}},
                "malformedRequest",
                "",
            ),
            (
                {"credential": {"subject": ALICE, "issuer": GW}},
                "malformedRequest",
                "Missing field 'credential_type'.",
            ),
            ({"did": "bad"}, "malformedAddress", "Invalid field 'did', not AccountID."),
            (
                {"permissioned_domain": 5},
                "malformedRequest",
                "Invalid field 'permissioned_domain', not hex string or object.",
            ),
            ({"bridge": 7}, "malformedRequest", "Missing field 'LockingChainDoor'."),
            (
                {
                    "xchain_owned_claim_id": {
                        "LockingChainDoor": ALICE,
                        "IssuingChainDoor": GW,
                        "LockingChainIssue": {"currency": "XRP", "issuer": ALICE},
                        "IssuingChainIssue": {"currency": "XRP"},
                    }
                },
                "malformedIssue",
                "Invalid field 'LockingChainIssue', not Issue.",
            ),
        ]
        for params, token, message in cases:
            with self.subTest(params=params):
                self.assertError({**params, "ledger_index": 270}, token, 31, message)

    def test_not_found_and_wrong_type(self) -> None:
        """Absent objects are entryNotFound (98); a key of another type unexpectedLedgerType (99)."""
        self.assertError(
            {"account_root": "rs1DUUekbFymvBXw1p3bxXR1DZPiH8itwR"},
            "entryNotFound",
            98,
            "Entry not found.",
        )
        self.assertError({"index": "00" * 32}, "entryNotFound", 98, "Entry not found.")
        alice_key = self.call({"account_root": ALICE})["index"]
        self.assertError(
            {"check": alice_key}, "unexpectedLedgerType", 99, "Unexpected ledger type."
        )
        self.assertError(
            {"account_root": ALICE, "ledger_index": 99999999}, "lgrNotFound", 21, "ledgerNotFound"
        )
