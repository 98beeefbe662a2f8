"""deposit_authorized: account checks before the ledger, DepositAuth rules, credential errors."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers.deposit_authorized import HANDLER
from tests.rpc.corpus import call

ALICE = "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"
BOB = "ra6UF6SEGtsVr4A3giXbQvjjd8FEmNH6Q"
VICTOR = "r38sXopzFMAxUpRgpiC9tDS5HtLPBdG1Tv"
DAVE = "r9Dz7apRsgf9nXnBziWJeCTVnVyHtRbG5R"
DAVE_CRED = "1B544F1223758C42AEAF09AE0602B21048C8C3E82FFD8F68C0C170DEDD4AC920"


def ask(**params: object) -> dict[str, object]:
    return call(HANDLER, {"ledger_index": 270, **params})


class DepositAuthorizedTests(SynchronousTestCase):
    def test_rules(self) -> None:
        """victor requires auth: bob is refused, self-payment and preauthorized credentials pass."""
        self.assertFalse(ask(source_account=BOB, destination_account=VICTOR)["deposit_authorized"])
        self.assertTrue(
            ask(source_account=VICTOR, destination_account=VICTOR)["deposit_authorized"]
        )
        out = ask(source_account=DAVE, destination_account=VICTOR, credentials=[DAVE_CRED])
        self.assertEqual((out["deposit_authorized"], out["credentials"]), (True, [DAVE_CRED]))
        self.assertTrue(ask(source_account=BOB, destination_account=ALICE)["deposit_authorized"])

    def test_account_errors(self) -> None:
        """Field errors come before the ledger; absent accounts carry the ledger's fields."""
        self.assertEqual(
            ask(destination_account=VICTOR)["error_message"], "Missing field 'source_account'."
        )
        self.assertEqual(
            ask(source_account=1, destination_account=VICTOR)["error_message"],
            "Invalid field 'source_account', not a string.",
        )
        self.assertEqual(
            ask(source_account="bad", destination_account=VICTOR, ledger_index=999999)["error"],
            "actMalformed",
        )
        out = ask(source_account="rs1DUUekbFymvBXw1p3bxXR1DZPiH8itwR", destination_account=VICTOR)
        self.assertEqual((out["error"], out["ledger_index"]), ("srcActNotFound", 270))
        self.assertEqual(
            ask(source_account=ALICE, destination_account="rs1DUUekbFymvBXw1p3bxXR1DZPiH8itwR")[
                "error"
            ],
            "dstActNotFound",
        )

    def test_credential_errors(self) -> None:
        """Non-arrays, bad hashes, unknown, foreign and duplicated credentials."""
        base = {"source_account": DAVE, "destination_account": VICTOR}
        self.assertIn("non-empty array", str(ask(**base, credentials=[])["error_message"]))
        self.assertEqual(
            ask(**base, credentials=["zz"])["error_message"],
            "Invalid field 'credentials', not an array of CredentialID(hash256).",
        )
        self.assertEqual(
            ask(**base, credentials=["00" * 32])["error_message"], "credentials don't exist"
        )
        self.assertEqual(
            ask(**base, credentials=[DAVE_CRED, DAVE_CRED])["error_message"],
            "duplicates in credentials",
        )
        self.assertEqual(
            ask(source_account=BOB, destination_account=VICTOR, credentials=[DAVE_CRED])[
                "error_message"
            ],
            "credentials doesn't belong to the root account",
        )
        self.assertIn("too long", str(ask(**base, credentials=[DAVE_CRED] * 9)["error_message"]))
