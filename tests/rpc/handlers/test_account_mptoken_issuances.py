"""account_mptoken_issuances over the recorded corpus: Clio's spec, errors, fields and paging."""

from __future__ import annotations

from clio_twisted.rpc.handlers import account_mptoken_issuances
from tests.rpc.corpus import LAST, call
from tests.rpc.handlers._helpers import ALICE, HandlerCase
from tests.rpc.handlers.test_account_mptokens import check_errors, directory, walk

JUDY = "rEL2Tu99BS7vzw8bZDFfWLGWAtbGFywQQC"
VAULT = "rETgbC2jsTXYZDeMXA4iq8QMzxvwQZTZ2R"  # the vault pseudo-account issuing its shares
METADATA = (
    "7B227469636B6572223A2022435250222C20226E616D65223A2022436F7270757320546F6B656E222C20"
    "2261737365745F636C617373223A20226F74686572227D"
)
ALL_CAN = {
    "mpt_can_lock": True,
    "mpt_require_auth": True,
    "mpt_can_escrow": True,
    "mpt_can_trade": True,
    "mpt_can_transfer": True,
    "mpt_can_clawback": True,
}
M1_KEY = "D59FF28E81F86C5DC985DBEF5384CD8A3AF405D13475D7DC8C06F6D453AAC533"
M2_KEY = "B4B1FC88B8CBB646C52BCF56ED5A2E6AB5BAC7C149C11D2EEEA72B12CACA94FF"


class AccountMPTokenIssuancesTests(HandlerCase):
    handler = account_mptoken_issuances.HANDLER

    def test_errors(self) -> None:
        """Each bad field gets Clio's token, code and message (the spec account_mptokens has)."""
        check_errors(self)

    def test_default_answer(self) -> None:
        """judy's issuance with every optional field it has; the id is the ledger key, as Clio."""
        out = self.call({"account": JUDY})
        self.assertEqual(
            list(out),
            ["account", "ledger_hash", "ledger_index", "validated", "limit", "mpt_issuances"],
        )
        self.assertEqual((out["account"], out["ledger_index"], out["limit"]), (JUDY, LAST, 200))
        expected = {
            "mpt_issuance_id": M1_KEY,
            "issuer": JUDY,
            "sequence": 6,
            "transfer_fee": 100,
            "asset_scale": 2,
            "maximum_amount": 100000000,
            "outstanding_amount": 7950,
            "mptoken_metadata": METADATA,
            **ALL_CAN,
        }
        self.assertEqual(out["mpt_issuances"], [expected])
        self.assertEqual(list(out["mpt_issuances"][0]), list(expected))

    def test_pseudo_account_issuer(self) -> None:
        """A vault's share issuance: only the flags set appear, no absent amounts."""
        (item,) = self.call({"account": VAULT})["mpt_issuances"]
        self.assertEqual(
            item,
            {
                "mpt_issuance_id": "AEACE689507572F6B191ECFCCF574ED0510F0799EE8351D6839900927C5CB009",
                "issuer": VAULT,
                "sequence": 1,
                "outstanding_amount": 110000000,
                "mpt_can_escrow": True,
                "mpt_can_trade": True,
                "mpt_can_transfer": True,
            },
        )

    def test_history(self) -> None:
        """Older ledgers: a second issuance, then locked amounts and the global lock flag."""
        self.assertEqual(self.call({"account": JUDY, "ledger_index": 67})["mpt_issuances"], [])
        two = self.call({"account": JUDY, "ledger_index": 68})["mpt_issuances"]
        self.assertEqual([i["mpt_issuance_id"] for i in two], [M2_KEY, M1_KEY])
        self.assertEqual(
            two[0],
            {
                "mpt_issuance_id": M2_KEY,
                "issuer": JUDY,
                "sequence": 7,
                "outstanding_amount": 0,
                "mpt_can_transfer": True,
            },
        )
        (locked,) = self.call({"account": JUDY, "ledger_index": "77"})["mpt_issuances"]
        self.assertEqual((locked["locked_amount"], locked["mpt_locked"]), (100, True))
        self.assertLess(list(locked).index("locked_amount"), list(locked).index("mpt_locked"))
        (unlocked,) = self.call({"account": JUDY, "ledger_index": 78})["mpt_issuances"]
        self.assertNotIn("mpt_locked", unlocked)

    def test_not_an_issuer(self) -> None:
        """An account that issued nothing gets an empty list; v1 and v2 agree."""
        out = self.call({"account": ALICE}, 1)
        self.assertEqual(out["mpt_issuances"], [])
        self.assertEqual(out, self.call({"account": ALICE}, 2))
        self.assertEqual(self.call({"account": JUDY}, 1), self.call({"account": JUDY}, 2))

    def test_mutable_flags(self) -> None:
        """Each MutableFlags bit appears as its mpt_can_mutate_* name, after the flags."""
        issuance = {"Issuer": JUDY, "Sequence": 9, "Flags": 0x20, "MutableFlags": 0x3007E}
        item = account_mptoken_issuances.issuance_json(bytes(32), issuance)
        names = [name for name, _ in account_mptoken_issuances.MUTABLE_FLAGS]
        self.assertEqual(list(item)[3:], ["mpt_can_transfer", *names])
        item = account_mptoken_issuances.issuance_json(bytes(32), {**issuance, "MutableFlags": 2})
        self.assertEqual(list(item)[4:], ["mpt_can_mutate_can_lock"])

    def test_domain_id(self) -> None:
        """A DomainID is shown as domain_id, before the flags."""
        domain = "E6" * 32
        issuance = {"Issuer": JUDY, "Sequence": 2, "Flags": 1, "DomainID": domain}
        item = account_mptoken_issuances.issuance_json(bytes(32), issuance)
        self.assertEqual(list(item.items())[3:], [("domain_id", domain), ("mpt_locked", True)])

    def test_paging_every_issuance_once(self) -> None:
        """Paging judy's directory 10 entries at a time, against an empty-directory account."""
        whole = self.call({"account": JUDY})["mpt_issuances"]
        paged, pages = walk(self, self.handler, {"account": JUDY, "limit": 10}, "mpt_issuances")
        self.assertEqual((paged, pages), (whole, 1))
        out = self.call({"account": ALICE, "limit": 10})
        self.assertEqual(out["marker"], "{},{}".format(*directory(ALICE)[9]))
        rest, pages = walk(self, self.handler, {"account": ALICE, "limit": 10}, "mpt_issuances")
        self.assertEqual((rest, pages), ([], -(-len(directory(ALICE)) // 10)))

    def test_process_helpers_shared(self) -> None:
        """The command's marker walk is account_mptokens' one: same marker for the same limit."""
        from clio_twisted.rpc.handlers import account_mptokens

        params = {"account": ALICE, "limit": 15}
        self.assertEqual(
            call(self.handler, params)["marker"], call(account_mptokens.HANDLER, params)["marker"]
        )
