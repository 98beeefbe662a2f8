"""noripple_check: roles, problems, fixing transactions with sequences and fee, limits, errors."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.rpc.handlers.noripple_check import HANDLER, SET_DEFAULT
from tests.rpc.corpus import call
from tests.rpc.handlers._paging import admin

ALICE = "rKRund6F5oRxLkwLkHx49EN1X42yyAH4gq"
GW = "rRtJMZbVx3PM4iXvnH7pR1KYmnyzQXcfm"


class NorippleCheckTests(SynchronousTestCase):
    def test_gateway_transactions(self) -> None:
        """A gateway without DefaultRipple gets an AccountSet then TrustSets numbered from its Sequence."""
        out = call(HANDLER, {"account": ALICE, "role": "gateway", "transactions": True})
        self.assertEqual(out["problems"][0], SET_DEFAULT)
        txs = out["transactions"]
        self.assertEqual(len(txs), len(out["problems"]))
        self.assertEqual(
            txs[0],
            {
                "Account": ALICE,
                "Fee": 10,
                "Sequence": 226,
                "SetFlag": 8,
                "TransactionType": "AccountSet",
            },
        )
        self.assertEqual([t["Sequence"] for t in txs], list(range(226, 226 + len(txs))))
        self.assertEqual({t["Flags"] for t in txs[1:]}, {0x00040000})

    def test_limit_counts_problem_lines(self) -> None:
        """limit caps the line problems (admin: exactly; public: at least 10)."""
        full = call(HANDLER, {"account": GW, "role": "user"}, ctx=admin())["problems"]
        self.assertGreater(len(full), 3)
        short = call(HANDLER, {"account": GW, "role": "user", "limit": 2}, ctx=admin())["problems"]
        self.assertEqual(short, full[:3])
        self.assertNotIn("transactions", call(HANDLER, {"account": GW, "role": "user"}))

    def test_errors(self) -> None:
        """Missing account or role, bad role, bad limit, v2's strict transactions, bad accounts."""
        self.assertEqual(
            call(HANDLER, {"role": "user"})["error_message"], "Missing field 'account'."
        )
        self.assertEqual(call(HANDLER, {"account": GW})["error_message"], "Missing field 'role'.")
        self.assertEqual(
            call(HANDLER, {"account": GW, "role": "admin"})["error_message"],
            "Invalid field 'role'.",
        )
        self.assertEqual(
            call(HANDLER, {"account": GW, "role": "user", "limit": "x"})["error_message"],
            "Invalid field 'limit', not unsigned integer.",
        )
        self.assertEqual(
            call(HANDLER, {"account": GW, "role": "user", "transactions": "yes"}, 2)[
                "error_message"
            ],
            "Invalid field 'transactions'.",
        )
        self.assertIn(
            "transactions", call(HANDLER, {"account": GW, "role": "user", "transactions": "yes"}, 1)
        )
        self.assertEqual(call(HANDLER, {"account": "bad", "role": "user"})["error"], "actMalformed")
        self.assertEqual(
            call(HANDLER, {"account": "rs1DUUekbFymvBXw1p3bxXR1DZPiH8itwR", "role": "user"})[
                "error"
            ],
            "actNotFound",
        )
