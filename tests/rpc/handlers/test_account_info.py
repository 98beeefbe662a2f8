"""account_info: parameters, errors, v1/v2 signer list placement, amendment-dependent flags."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.account_flags import account_flags
from clio_twisted.rpc.amendments import amendment_id
from clio_twisted.rpc.handlers.account_info import HANDLER
from tests.rpc.corpus import call

ALICE = "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"
BOB = "ra6UF6SEGtsVr4A3giXbQvjjd8FEmNH6Q"
UNFUNDED = "r9HXcoH8wpALu7vgAzsKchMy5NGP8Gosr6"


class ParseTests(SynchronousTestCase):
    def test_missing_account(self) -> None:
        """No account nor ident: Missing field 'account'."""
        out = call(HANDLER, {"ledger_index": 270})
        self.assertEqual(
            (out["error"], out["error_message"]), ("invalidParams", "Missing field 'account'.")
        )

    def test_account_not_string(self) -> None:
        """A non-string account is Invalid field 'account'., before the ledger is looked up."""
        out = call(HANDLER, {"account": 1, "ledger_index": 99999999})
        self.assertEqual(out["error_message"], "Invalid field 'account'.")
        self.assertNotIn("ledger_index", out)

    def test_malformed_account_carries_ledger(self) -> None:
        """actMalformed comes after the ledger and carries its fields."""
        out = call(HANDLER, {"account": "rBad", "ledger_index": 270})
        self.assertEqual(
            (out["error"], out["error_code"], out["ledger_index"]), ("actMalformed", 35, 270)
        )
        self.assertTrue(out["validated"])

    def test_ledger_first(self) -> None:
        """An unknown ledger wins over a malformed account."""
        out = call(HANDLER, {"account": "rBad", "ledger_index": 99999999})
        self.assertEqual(out["error"], "lgrNotFound")

    def test_not_found(self) -> None:
        """An absent account is actNotFound naming the account."""
        out = call(HANDLER, {"account": UNFUNDED, "ledger_index": 270})
        self.assertEqual(
            (out["error"], out["account"], out["ledger_index"]), ("actNotFound", UNFUNDED, 270)
        )

    def test_ident(self) -> None:
        """The legacy ident field is read when account is absent."""
        out = call(HANDLER, {"ident": ALICE, "ledger_index": 270})
        self.assertEqual(out["account_data"]["Account"], ALICE)

    def test_queue_on_validated_ledger(self) -> None:
        """queue is only for the open ledger: invalidParams here."""
        out = call(HANDLER, {"account": ALICE, "queue": True})
        self.assertEqual(
            (out["error"], out["error_message"]), ("invalidParams", "Invalid parameters.")
        )


class AnswerTests(SynchronousTestCase):
    def test_signer_lists_v1_inside_account_data(self) -> None:
        """v1 puts signer_lists inside account_data."""
        out = call(HANDLER, {"account": BOB, "ledger_index": 9, "signer_lists": True}, 1)
        self.assertEqual(out["account_data"]["signer_lists"][0]["SignerQuorum"], 1)
        self.assertNotIn("signer_lists", out)

    def test_signer_lists_v2_beside(self) -> None:
        """v2 puts signer_lists beside account_data."""
        out = call(HANDLER, {"account": BOB, "ledger_index": 9, "signer_lists": True}, 2)
        self.assertEqual(out["signer_lists"][0]["LedgerEntryType"], "SignerList")
        self.assertNotIn("signer_lists", out["account_data"])

    def test_no_signer_list_is_empty(self) -> None:
        """An account without a list gets an empty array."""
        out = call(HANDLER, {"account": ALICE, "signer_lists": True}, 2)
        self.assertEqual(out["signer_lists"], [])

    def test_newest_by_default(self) -> None:
        """Without a ledger, the newest stored one answers."""
        out = call(HANDLER, {"account": ALICE})
        self.assertEqual((out["ledger_index"], out["validated"]), (270, True))


class FlagTests(SynchronousTestCase):
    def test_amendment_dependent_names(self) -> None:
        """disallowIncoming*, clawback and locking names appear only with their amendments."""
        base = account_flags(0x00800000, frozenset())
        self.assertEqual(len(base), 9)
        self.assertTrue(base["defaultRipple"])
        enabled = frozenset(
            amendment_id(n).hex().upper() for n in ("DisallowIncoming", "Clawback", "TokenEscrow")
        )
        full = account_flags(0x80000000 | 0x08000000, enabled)
        self.assertEqual(len(full), 15)
        self.assertTrue(full["allowTrustLineClawback"] and full["disallowIncomingCheck"])
        self.assertFalse(full["allowTrustLineLocking"])
