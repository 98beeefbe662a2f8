"""Keylets recomputed from real objects must give the keys rippled stored them under.

Samples: every ledger object type a real rippled 3.1.1 wrote in the recorded corpus
(first version of each object, with the transaction that created it), plus the
2013 mainnet state of ledger 38129.
"""

from __future__ import annotations

import gzip
import json
from importlib import resources
from typing import Any

from xrpl.core.addresscodec import decode_classic_address

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.protocol import keylets as k


def _load(name: str) -> Any:
    data = resources.files("clio_twisted.testing") / "data" / name
    return json.loads(gzip.decompress(data.read_bytes()))


_CORPUS = _load("keylet-samples.json.gz")
SAMPLES: list[dict[str, Any]] = _CORPUS["objects"]
TICK_SIZES: dict[str, int] = _CORPUS["tick_sizes"]
STATE_38129: list[dict[str, Any]] = _load("mainnet-38129-full.json.gz")["accountState"]


def acct(address: str) -> bytes:
    return bytes(decode_classic_address(address))


def issue(amount: Any) -> k.Asset:
    if isinstance(amount, str):
        return (k.XRP_CURRENCY, k.XRP_ISSUER)
    if "mpt_issuance_id" in amount:
        return bytes.fromhex(amount["mpt_issuance_id"])
    if amount["currency"] == "XRP":
        return (k.XRP_CURRENCY, k.XRP_ISSUER)
    return (k.currency_code(amount["currency"]), acct(amount["issuer"]))


def amount_value(amount: Any) -> k.Amount:
    if isinstance(amount, str):
        return int(amount)
    return str(amount["value"])


def created_seq(sample: dict[str, Any]) -> int:
    tx = sample["created_by"]
    return int(tx.get("TicketSequence") or tx["Sequence"])


def of_type(entry_type: str) -> list[dict[str, Any]]:
    return [s for s in SAMPLES if s["object"]["LedgerEntryType"] == entry_type]


class KeyletTests(SynchronousTestCase):
    def check_all(self, entry_type: str, compute: Any, minimum: int = 1) -> None:
        samples = of_type(entry_type)
        self.assertGreaterEqual(len(samples), minimum, entry_type)
        for s in samples:
            self.assertEqual(compute(s).hex().upper(), s["index"], (entry_type, s["object"]))

    def test_account_root(self) -> None:
        """account(id) is the AccountRoot key, in 2026 and in 2013 state."""
        self.check_all("AccountRoot", lambda s: k.account(acct(s["object"]["Account"])), 10)
        for o in STATE_38129:
            if o["LedgerEntryType"] == "AccountRoot":
                self.assertEqual(k.account(acct(o["Account"])).hex().upper(), o["index"])

    def test_singletons(self) -> None:
        """Amendments and FeeSettings live at their fixed keys."""
        self.check_all("Amendments", lambda s: k.amendments())
        self.check_all("FeeSettings", lambda s: k.fees())

    def test_negative_unl_key(self) -> None:
        """The NegativeUNL key is the well-known constant."""
        self.assertEqual(
            k.negative_unl().hex().upper(),
            "2E8A59AA9D3B5B186B0B9E0F62E6C02587CA74A4D778938E957B6357D364B244",
        )

    def test_skip_lists(self) -> None:
        """LedgerHashes objects sit at skip() or skip_for(seq) of their last ledger."""
        samples = of_type("LedgerHashes") + [
            {"object": o, "index": o["index"]}
            for o in STATE_38129
            if o["LedgerEntryType"] == "LedgerHashes"
        ]
        found_short = found_long = False
        for s in samples:
            key = s["index"]
            if key == k.skip().hex().upper():
                found_short = True
            else:
                self.assertEqual(k.skip_for(s["object"]["LastLedgerSequence"]).hex().upper(), key)
                found_long = True
        self.assertTrue(found_short and found_long)

    def test_trust_line(self) -> None:
        """line(a, b, currency) is the RippleState key whichever side comes first."""

        def compute(s: dict[str, Any]) -> bytes:
            o = s["object"]
            low, high = acct(o["LowLimit"]["issuer"]), acct(o["HighLimit"]["issuer"])
            cur = k.currency_code(o["Balance"]["currency"])
            self.assertEqual(k.line(low, high, cur), k.line(high, low, cur))
            return k.line(high, low, cur)

        self.check_all("RippleState", compute, 5)
        for o in STATE_38129:
            if o["LedgerEntryType"] == "RippleState":
                s = {"object": o}
                self.assertEqual(compute(s).hex().upper(), o["index"])

    def test_offer_and_book_directory(self) -> None:
        """offer(account, seq) is the Offer key and its BookDirectory encodes the creating quality."""
        samples = of_type("Offer")
        self.assertGreater(len(samples), 20)
        for s in samples:
            o, tx = s["object"], s["created_by"]
            self.assertEqual(k.offer(acct(o["Account"]), created_seq(s)).hex().upper(), s["index"])
            quality = k.offer_quality(amount_value(tx["TakerPays"]), amount_value(tx["TakerGets"]))
            ticks = [
                TICK_SIZES.get(a["issuer"], 16)
                for a in (tx["TakerPays"], tx["TakerGets"])
                if "issuer" in a
            ]
            quality = k.round_quality(quality, min(ticks, default=16))
            domain = bytes.fromhex(o["DomainID"]) if "DomainID" in o else None
            book = k.book_directory(issue(o["TakerPays"]), issue(o["TakerGets"]), quality, domain)
            self.assertEqual(book.hex().upper(), o["BookDirectory"], tx)
            self.assertEqual(k.key_quality(book), quality)

    def test_offer_2013(self) -> None:
        """The 2013 offers' keys and book directories reproduce too."""
        offers = [o for o in STATE_38129 if o["LedgerEntryType"] == "Offer"]
        self.assertEqual(len(offers), 4)
        for o in offers:
            self.assertEqual(k.offer(acct(o["Account"]), o["Sequence"]).hex().upper(), o["index"])
            base = k.book_base(issue(o["TakerPays"]), issue(o["TakerGets"]))
            self.assertEqual(base[:24].hex().upper(), o["BookDirectory"][:48])

    def test_quality_encoding(self) -> None:
        """offer_quality is (exponent+100)<<56 | mantissa of TakerPays/TakerGets."""
        self.assertEqual(k.offer_quality(60_000_000, "50"), 0x5B044364C5BB0000)
        self.assertEqual(k.offer_quality(1, 1), (100 - 15) << 56 | 10**15)
        self.assertEqual(k.offer_quality(0, 5), 0)
        self.assertLess(k.offer_quality(1, 2), k.offer_quality(2, 3))

    def test_round_quality(self) -> None:
        """TickSize rounds the mantissa up to that many digits, keeping the exponent."""
        q = k.offer_quality(3_500_000, "3")
        self.assertEqual(q, 0x5B042513C03CEAAA)
        self.assertEqual(k.round_quality(q, 5), 0x5B04251B830F3800)
        self.assertEqual(k.round_quality(q, 16), q)
        self.assertEqual(k.round_quality(0x5B04251B830F3800, 5), 0x5B04251B830F3800)

    def test_directories(self) -> None:
        """Owner, book and NFToken offer directories: root and page keys."""
        roots = {
            s["index"]: s["object"]
            for s in of_type("DirectoryNode")
            if s["index"] == s["object"]["RootIndex"]
        }
        kinds: set[str] = set()
        for s in of_type("DirectoryNode"):
            o = s["object"]
            root = bytes.fromhex(o["RootIndex"])
            if "Owner" in o:
                kinds.add("owner")
                self.assertEqual(k.owner_dir(acct(o["Owner"])), root)
            elif "TakerPaysCurrency" in o:
                kinds.add("book")
                pays = (bytes.fromhex(o["TakerPaysCurrency"]), bytes.fromhex(o["TakerPaysIssuer"]))
                gets = (bytes.fromhex(o["TakerGetsCurrency"]), bytes.fromhex(o["TakerGetsIssuer"]))
                domain = bytes.fromhex(o["DomainID"]) if "DomainID" in o else None
                quality = int(o["ExchangeRate"], 16)
                self.assertEqual(k.book_directory(pays, gets, quality, domain), root)
            elif "NFTokenID" in o:
                kinds.add("nft")
                token = bytes.fromhex(o["NFTokenID"])
                self.assertIn(root, (k.nft_buy_offers(token), k.nft_sell_offers(token)))
            if s["index"] != o["RootIndex"]:
                kinds.add("page")
                pages = [k.page(root, n).hex().upper() for n in range(1, 64)]
                self.assertIn(s["index"], pages)
        self.assertEqual(kinds, {"owner", "book", "nft", "page"})
        self.assertTrue(roots)
        self.assertEqual(k.page(b"\x01" * 32, 0), b"\x01" * 32)

    def test_sequence_objects(self) -> None:
        """Ticket, Escrow, Check, PayChannel, NFTokenOffer keys from the account and sequence."""
        self.check_all(
            "Ticket",
            lambda s: k.ticket(acct(s["object"]["Account"]), s["object"]["TicketSequence"]),
        )
        self.check_all("Escrow", lambda s: k.escrow(acct(s["object"]["Account"]), created_seq(s)))
        self.check_all("Check", lambda s: k.check(acct(s["object"]["Account"]), created_seq(s)))
        self.check_all(
            "PayChannel",
            lambda s: k.payment_channel(
                acct(s["object"]["Account"]), acct(s["object"]["Destination"]), created_seq(s)
            ),
        )
        self.check_all(
            "NFTokenOffer", lambda s: k.nftoken_offer(acct(s["object"]["Owner"]), created_seq(s))
        )

    def test_owned_by_sequence(self) -> None:
        """Vault, PermissionedDomain, LoanBroker, Oracle keys."""
        self.check_all(
            "Vault", lambda s: k.vault(acct(s["object"]["Owner"]), s["object"]["Sequence"])
        )
        self.check_all(
            "PermissionedDomain",
            lambda s: k.permissioned_domain(acct(s["object"]["Owner"]), s["object"]["Sequence"]),
        )
        self.check_all(
            "LoanBroker",
            lambda s: k.loan_broker(acct(s["object"]["Owner"]), s["object"]["Sequence"]),
        )
        self.check_all(
            "Oracle",
            lambda s: k.oracle(acct(s["object"]["Owner"]), s["object"]["OracleDocumentID"]),
        )

    def test_identity_objects(self) -> None:
        """SignerList, DID, Credential, DepositPreauth (account and credential forms)."""
        self.check_all("SignerList", lambda s: k.signer_list(acct(s["object"]["Owner"])))
        self.check_all("DID", lambda s: k.did(acct(s["object"]["Account"])))
        self.check_all(
            "Credential",
            lambda s: k.credential(
                acct(s["object"]["Subject"]),
                acct(s["object"]["Issuer"]),
                bytes.fromhex(s["object"]["CredentialType"]),
            ),
        )

        def preauth(s: dict[str, Any]) -> bytes:
            o = s["object"]
            if "Authorize" in o:
                return k.deposit_preauth(acct(o["Account"]), acct(o["Authorize"]))
            creds = [
                (acct(c["Credential"]["Issuer"]), bytes.fromhex(c["Credential"]["CredentialType"]))
                for c in o["AuthorizeCredentials"]
            ]
            return k.deposit_preauth_credentials(acct(o["Account"]), creds)

        self.check_all("DepositPreauth", preauth, 2)
        self.assertTrue(
            any("AuthorizeCredentials" in s["object"] for s in of_type("DepositPreauth"))
        )

    def test_mpt(self) -> None:
        """MPTokenIssuance from (sequence, issuer) and MPToken from (issuance id, holder)."""
        self.check_all(
            "MPTokenIssuance",
            lambda s: k.mpt_issuance(
                k.mpt_issuance_id(s["object"]["Sequence"], acct(s["object"]["Issuer"]))
            ),
        )
        self.check_all(
            "MPToken",
            lambda s: k.mptoken(
                bytes.fromhex(s["object"]["MPTokenIssuanceID"]), acct(s["object"]["Account"])
            ),
        )

    def test_amm(self) -> None:
        """amm(asset1, asset2) is the AMM key in either order."""

        def compute(s: dict[str, Any]) -> bytes:
            a, b = issue(s["object"]["Asset"]), issue(s["object"]["Asset2"])
            self.assertEqual(k.amm(a, b), k.amm(b, a))
            return k.amm(b, a)

        self.check_all("AMM", compute)

    def test_nftoken_pages(self) -> None:
        """Page keys are owner + low 96 bits, bounded by the min/max keys, tokens below the key."""
        for s in of_type("NFTokenPage"):
            key = bytes.fromhex(s["index"])
            owner = key[:20]
            self.assertTrue(k.nftoken_page_min(owner) <= key <= k.nftoken_page_max(owner))
            for t in s["object"]["NFTokens"]:
                token = bytes.fromhex(t["NFToken"]["NFTokenID"])
                self.assertLessEqual(k.nftoken_page(owner, token), k.nftoken_page_max(owner))
                self.assertLessEqual(token[20:], key[20:])
        maxed = [s for s in of_type("NFTokenPage") if s["index"].endswith("F" * 24)]
        self.assertTrue(maxed)
        for s in maxed:
            owner = bytes.fromhex(s["index"])[:20]
            self.assertEqual(k.nftoken_page_max(owner).hex().upper(), s["index"])

    def test_bridges(self) -> None:
        """Bridge (door + currency) and XChainOwnedClaimID keys."""

        def bridge_key(s: dict[str, Any]) -> bytes:
            o, b = s["object"], s["object"]["XChainBridge"]
            side = "Locking" if o["Account"] == b["LockingChainDoor"] else "Issuing"
            chain_issue = issue(b[f"{side}ChainIssue"])
            assert isinstance(chain_issue, tuple)
            return k.bridge(acct(o["Account"]), chain_issue[0])

        self.check_all("Bridge", bridge_key)

        def claim(s: dict[str, Any]) -> bytes:
            b = s["object"]["XChainBridge"]
            return k.xchain_claim_id(
                acct(b["LockingChainDoor"]),
                issue(b["LockingChainIssue"]),  # type: ignore[arg-type]
                acct(b["IssuingChainDoor"]),
                issue(b["IssuingChainIssue"]),  # type: ignore[arg-type]
                int(s["object"]["XChainClaimID"], 16),
            )

        self.check_all("XChainOwnedClaimID", claim)

    def test_delegate(self) -> None:
        """delegate(account, authorized) reproduces a real Delegate key (xrpl-dev-portal example, MIT)."""
        key = k.delegate(
            acct("rG8uoRH9uA6AJ6NRj8P4cJG1HNfYcnMPrt"), acct("r9GAKojMTyexqvy8DXFWYq63Mod5k5wnkT")
        )
        self.assertEqual(
            key.hex().upper(), "749D3DCDF9F032DDDB8AC49641BACBFDD398C4B6C231C4AB325B7755962329A2"
        )
        self.assertNotEqual(
            key,
            k.delegate(
                acct("r9GAKojMTyexqvy8DXFWYq63Mod5k5wnkT"),
                acct("rG8uoRH9uA6AJ6NRj8P4cJG1HNfYcnMPrt"),
            ),
        )

    def test_currency_code(self) -> None:
        """Three-letter codes sit at bytes 12-14; XRP is zero; hex passes through."""
        self.assertEqual(k.currency_code("USD").hex(), "0000000000000000000000005553440000000000")
        self.assertEqual(k.currency_code("XRP"), bytes(20))
        self.assertEqual(
            k.currency_code("03930D02208264E2E40EC1B0C09E4DB96EE197B1").hex()[:4], "0393"
        )
        self.assertRaises(ValueError, k.currency_code, "ABCD")
