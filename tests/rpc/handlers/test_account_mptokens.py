"""account_mptokens over the recorded corpus: Clio's spec, errors, fields and cursor paging."""

from __future__ import annotations

from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import decode_address
from clio_twisted.rpc.errors import WarningCode
from clio_twisted.rpc.handlers import account_mptokens
from tests.rpc.corpus import LAST, call, corpus_context
from tests.rpc.handlers._helpers import ALICE, GW, HandlerCase

BOB = "ra6UF6SEGtsVr4A3giXbQvjjd8FEmNH6Q"
OSCAR = "rsndrqk7q6bxrGVVtm5fybXS1G4VJaCUJv"
UNFUNDED = "rf1BiGeXwwQoi8Z2ueFYTEXSwuJYfV2Jpn"  # Clio's test account, never funded here
M1 = "000000069D459930BAE6ACA0E6EA84777BE19979F77A7C7B"  # judy's issuance (MANIFEST object_ids.mpt)
M0 = "000000019E9DA16578870AE28756D182A9AE344092669A2A"  # a vault pseudo-account's issuance
KEY = "A" * 64

# (request, token, code, message): Clio's answers, field order included (first bad field wins).
PARSE_ERRORS: list[tuple[dict[str, Any], str, int, str]] = [
    ({"limit": 10}, "invalidParams", 31, "Required field 'account' missing"),
    ({"account": 123}, "actMalformed", 35, "Account malformed."),
    ({"account": "rf1BiGeXwwQoi8Z2ueFYTEXSwuJYfV2Jp"}, "actMalformed", 35, "Account malformed."),
    ({"account": 1, "ledger_hash": "xxx"}, "actMalformed", 35, "Account malformed."),
    ({"account": ALICE, "ledger_hash": "xxx"}, "invalidParams", 31, "ledger_hashMalformed"),
    ({"account": ALICE, "ledger_hash": 123}, "invalidParams", 31, "ledger_hashNotString"),
    (
        {"account": ALICE, "ledger_hash": "xxx", "limit": 0},
        "invalidParams",
        31,
        "ledger_hashMalformed",
    ),
    (
        {"account": ALICE, "ledger_index": "notvalidated"},
        "invalidParams",
        31,
        "ledgerIndexMalformed",
    ),
    ({"account": ALICE, "limit": "t"}, "invalidParams", 31, "Invalid parameters."),
    ({"account": ALICE, "limit": -1}, "invalidParams", 31, "Invalid parameters."),
    ({"account": ALICE, "limit": 0}, "invalidParams", 31, "Invalid parameters."),
    ({"account": ALICE, "limit": True}, "invalidParams", 31, "Invalid parameters."),
    ({"account": ALICE, "limit": 10.5}, "invalidParams", 31, "Invalid parameters."),
    ({"account": ALICE, "limit": 1 << 32}, "invalidParams", 31, "Invalid parameters."),
    ({"account": ALICE, "limit": 0, "marker": 9}, "invalidParams", 31, "Invalid parameters."),
    ({"account": ALICE, "marker": 9}, "invalidParams", 31, "markerNotString"),
    ({"account": ALICE, "marker": "123invalid"}, "invalidParams", 31, "Malformed cursor."),
    ({"account": ALICE, "marker": "ABC,0"}, "invalidParams", 31, "Malformed cursor."),
    ({"account": ALICE, "marker": KEY}, "invalidParams", 31, "Malformed cursor."),
    ({"account": ALICE, "marker": f"{KEY},x"}, "invalidParams", 31, "Malformed cursor."),
]
# Errors found once the ledger and the account are read.
PROCESS_ERRORS: list[tuple[dict[str, Any], str, int, str]] = [
    ({"account": ALICE, "ledger_hash": KEY}, "lgrNotFound", 21, "ledgerNotFound"),
    ({"account": ALICE, "ledger_index": LAST + 1}, "lgrNotFound", 21, "ledgerNotFound"),
    ({"account": ALICE, "ledger_index": "2"}, "lgrNotFound", 21, "ledgerNotFound"),
    ({"account": UNFUNDED}, "actNotFound", 19, "Account not found."),
    ({"account": ALICE, "marker": f"{KEY},0"}, "invalidParams", 31, "Invalid marker."),
    ({"account": ALICE, "marker": f"{KEY},77"}, "invalidParams", 31, "Invalid marker."),
]


def check_errors(case: HandlerCase) -> None:
    """Every error of the shared Clio spec, for v1 and v2, exactly."""
    for params, token, code, message in PARSE_ERRORS + PROCESS_ERRORS:
        for version in (1, 2):
            answer = case.assertError(params, token, code, message, version)
            case.assertNotIn("ledger_index", answer, params)


def walk(
    case: SynchronousTestCase, handler: Any, params: dict[str, Any], field: str
) -> tuple[list[Any], int]:
    """Every item over Clio's pages, and the page count; limit echoed on each, a marker until the last."""
    items: list[Any] = []
    pages = 0
    while pages < 50:
        out = call(handler, params)
        pages += 1
        case.assertEqual(out["limit"], params.get("limit", 200))
        items += out[field]
        if "marker" not in out:
            return items, pages
        params = {**params, "marker": out["marker"]}
    case.fail("no last page")
    return items, pages


def directory(address: str) -> list[tuple[str, int]]:
    """(key, page number) of every entry in the account's owner directory at the last ledger."""
    from twisted.internet.defer import ensureDeferred

    from clio_twisted.protocol.codec import decode
    from tests.rpc.corpus import corpus_backend

    backend = corpus_backend()
    root = keylets.owner_dir(decode_address(address))
    out: list[tuple[str, int]] = []
    number = 0
    while True:
        results: list[Any] = []
        ensureDeferred(backend.fetch_ledger_object(keylets.page(root, number), LAST)).addCallback(
            results.append
        )
        page = decode(results[0])
        out += [(key, number) for key in page.get("Indexes", [])]
        number = int(page.get("IndexNext", "0"), 16)
        if number == 0:
            return out


class AccountMPTokensTests(HandlerCase):
    handler = account_mptokens.HANDLER

    def test_errors(self) -> None:
        """Each bad field gets Clio's token, code and message, in Clio's field order."""
        check_errors(self)

    def test_default_answer(self) -> None:
        """alice's two MPTokens with Clio's fields; unset flags and locked_amount are absent."""
        out = self.call({"account": ALICE})
        self.assertEqual(
            list(out), ["account", "ledger_hash", "ledger_index", "validated", "limit", "mptokens"]
        )
        self.assertEqual(
            (out["account"], out["ledger_index"], out["validated"]), (ALICE, LAST, True)
        )
        self.assertEqual(out["limit"], 200)
        self.assertEqual(
            out["mptokens"],
            [
                {
                    "mpt_id": "65EAB91D5F875625F948907B8BFD469869D2698400EC9B49408A5578DF54E239",
                    "account": ALICE,
                    "mpt_issuance_id": M0,
                    "mpt_amount": 60000000,
                },
                {
                    "mpt_id": "AA02254A8979332F37E8931256D25A90CA9FE7217A021AE11C4414C2E2400D5C",
                    "account": ALICE,
                    "mpt_issuance_id": M1,
                    "mpt_amount": 4800,
                    "mpt_authorized": True,
                },
            ],
        )

    def test_amount_absent_is_zero(self) -> None:
        """An MPToken without MPTAmount (oscar's) shows mpt_amount 0, as Clio's default field."""
        (token,) = self.call({"account": OSCAR})["mptokens"]
        self.assertEqual(token["mpt_amount"], 0)
        self.assertEqual(token["mpt_issuance_id"], M0)

    def test_same_for_v1_and_v2(self) -> None:
        """The command answers alike under API v1 and v2."""
        self.assertEqual(self.call({"account": BOB}, 1), self.call({"account": BOB}, 2))

    def test_account_without_mptokens(self) -> None:
        """An account holding none gets an empty list, no marker."""
        out = self.call({"account": GW})
        self.assertEqual(out["mptokens"], [])
        self.assertNotIn("marker", out)

    def test_ledger_selection(self) -> None:
        """ledger_index (int, string, validated) and ledger_hash pick the ledger read."""
        latest = self.call({"account": ALICE})
        self.assertEqual(self.call({"account": ALICE, "ledger_index": "validated"}), latest)
        self.assertEqual(self.call({"account": ALICE, "ledger_index": str(LAST)}), latest)
        self.assertEqual(
            self.call({"account": ALICE, "ledger_hash": latest["ledger_hash"]}), latest
        )
        self.assertEqual(self.call({"account": ALICE, "ledger_index": 68})["mptokens"], [])
        (opted_in,) = self.call({"account": ALICE, "ledger_index": "69"})["mptokens"]
        self.assertEqual((opted_in["mpt_amount"], "mpt_authorized" in opted_in), (0, False))
        (locked,) = self.call({"account": ALICE, "ledger_index": 76})["mptokens"]
        self.assertEqual(
            (locked["mpt_amount"], locked["locked_amount"], locked["mpt_authorized"]),
            (4800, 100, True),
        )
        self.assertEqual(list(locked)[4], "locked_amount")  # Clio's order: amounts, then flags
        both = self.call({"account": ALICE, "ledger_index": 86})["mptokens"]
        self.assertEqual([t["mpt_issuance_id"] for t in both], [M0, M1])
        self.assertEqual(both[0]["mpt_amount"], 100000000)

    def test_locked_flag(self) -> None:
        """lsfMPTLocked shows as mpt_locked: true, beside mpt_authorized."""
        token = {"Account": ALICE, "MPTokenIssuanceID": M1, "Flags": 3, "MPTAmount": "5"}
        item = account_mptokens.mptoken_json(bytes(32), token)
        self.assertEqual((item["mpt_locked"], item["mpt_authorized"]), (True, True))
        self.assertNotIn(
            "mpt_locked", account_mptokens.mptoken_json(bytes(32), {**token, "Flags": 2})
        )

    def test_limit_clamped_for_everyone(self) -> None:
        """limit below 10 becomes 10 and above 400 becomes 400, admin or not."""
        from attrs import evolve

        admin = evolve(corpus_context(), is_admin=True)
        for given, used in ((1, 10), (9, 10), (10, 10), (399, 399), (401, 400), (1 << 31, 400)):
            self.assertEqual(self.call({"account": ALICE, "limit": given})["limit"], used)
            self.assertEqual(
                call(self.handler, {"account": ALICE, "limit": given}, ctx=admin)["limit"], used
            )

    def test_marker_names_last_entry_and_its_page(self) -> None:
        """The marker is the 10th directory entry read and the page it was found on."""
        entries = directory(ALICE)
        self.assertGreater(len(entries), 20)
        out = self.call({"account": ALICE, "limit": 10})
        key, page = entries[9]
        self.assertEqual(out["marker"], f"{key},{page}")

    def test_paging_every_token_once(self) -> None:
        """Pages of 10 (every directory entry counts) give each token once; no marker at the end."""
        for account in (ALICE, BOB, OSCAR):
            whole = self.call({"account": account})["mptokens"]
            self.assertTrue(whole)
            paged, pages = walk(self, self.handler, {"account": account, "limit": 10}, "mptokens")
            self.assertEqual(paged, whole, account)
            self.assertEqual(len({t["mpt_id"] for t in paged}), len(paged))
            self.assertEqual(pages, -(-len(directory(account)) // 10), account)

    def test_marker_on_last_entry_gives_empty_last_page(self) -> None:
        """As Clio: a marker naming the directory's last entry yields an empty page and no marker."""
        key, page = directory(ALICE)[-1]
        out = self.call({"account": ALICE, "marker": f"{key},{page}"})
        self.assertEqual(out["mptokens"], [])
        self.assertNotIn("marker", out)

    def test_marker_lowercase_and_extra_parts(self) -> None:
        """The cursor's key is read as hex in any case; text after a second comma is ignored."""
        key, page = directory(ALICE)[9]
        expected = self.call({"account": ALICE, "marker": f"{key},{page}"})
        self.assertEqual(
            self.call({"account": ALICE, "marker": f"{key.lower()},{page},zz"}), expected
        )

    def test_deprecated_ledger_field_warns(self) -> None:
        """A 'ledger' field is accepted with Clio's deprecation warning."""
        ctx = corpus_context()
        out = call(self.handler, {"account": ALICE, "ledger": 5}, ctx=ctx)
        self.assertEqual(out["ledger_index"], LAST)
        self.assertEqual(ctx.warnings, [WarningCode.DEPRECATED.to_json()])
        ctx2 = corpus_context()
        call(self.handler, {"account": ALICE}, ctx=ctx2)
        self.assertEqual(ctx2.warnings, [])

    def test_registered_clio_only(self) -> None:
        """The handler is Clio-only (never forwarded) and named account_mptokens."""
        self.assertEqual(self.handler.name, "account_mptokens")
        self.assertTrue(self.handler.clio_only)
