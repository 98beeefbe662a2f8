"""Metadata -> rows, checked on the 268 ledgers recorded from a real rippled 3.1.1."""

from __future__ import annotations

from functools import cache

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.backend.interface import LedgerObject
from clio_twisted.etl.extract import (
    account_id,
    decode_binary,
    entry_type,
    ledger_rows,
    skip_list_keys,
    state_rows,
    transaction_facts,
)
from clio_twisted.protocol import keylets
from clio_twisted.testing.chain import ChainLedger
from clio_twisted.testing.replay import load_ledgers


@cache
def corpus() -> list[ChainLedger]:
    return load_ledgers()


def rows_of(ledger: ChainLedger):  # type: ignore[no-untyped-def]
    facts = [
        transaction_facts(tx, meta, ledger.sequence, ledger.header.close_time)
        for _h, tx, meta in ledger.transactions
    ]
    return ledger_rows(facts)


class TouchedKeysTests(SynchronousTestCase):
    def test_metadata_and_skip_lists_name_every_change(self) -> None:
        """In every real ledger, metadata keys plus the skip lists are exactly the changed keys."""
        ledgers = corpus()
        for ledger in ledgers[1:]:
            rows = rows_of(ledger)
            named = rows.touched | set(skip_list_keys(ledger.sequence))
            self.assertEqual(named, set(ledger.changes), f"ledger {ledger.sequence}")
            deleted = {k for k, v in ledger.changes.items() if v is None}
            self.assertEqual(rows.deleted, deleted, f"ledger {ledger.sequence}")

    def test_long_skip_list_only_after_a_multiple_of_256(self) -> None:
        """The 65536-block skip list is named only when the parent's sequence is a multiple of 256."""
        self.assertEqual(skip_list_keys(100), [keylets.skip()])
        self.assertEqual(skip_list_keys(257), [keylets.skip(), keylets.skip_for(256)])

    def test_transaction_ids_and_order(self) -> None:
        """Records carry the real hash and TransactionIndex, sorted by index."""
        for ledger in corpus()[1:60]:
            rows = rows_of(ledger)
            self.assertEqual(
                [t.hash for t in rows.transactions], [h for h, _t, _m in ledger.transactions]
            )
            self.assertEqual(
                [t.transaction_index for t in rows.transactions],
                list(range(len(rows.transactions))),
            )


class AffectedAccountsTests(SynchronousTestCase):
    def test_payment_affects_sender_and_receiver(self) -> None:
        """A Payment's account rows name both the sender and the destination."""
        for ledger in corpus()[1:]:
            for _h, tx_blob, meta_blob in ledger.transactions:
                tx = decode_binary(tx_blob)
                if tx["TransactionType"] != "Payment" or not isinstance(tx.get("Amount"), str):
                    continue
                facts = transaction_facts(tx_blob, meta_blob, ledger.sequence, 0)
                self.assertIn(account_id(tx["Account"]), facts.accounts)
                self.assertIn(account_id(tx["Destination"]), facts.accounts)
                return
        self.fail("no XRP payment in the corpus")

    def test_trust_line_issuers_are_affected(self) -> None:
        """Creating a trust line affects the issuer named only in the line's limit."""
        for ledger in corpus()[1:]:
            for _h, tx_blob, meta_blob in ledger.transactions:
                tx = decode_binary(tx_blob)
                if tx["TransactionType"] != "TrustSet":
                    continue
                facts = transaction_facts(tx_blob, meta_blob, ledger.sequence, 0)
                self.assertIn(account_id(tx["LimitAmount"]["issuer"]), facts.accounts)
                return
        self.fail("no TrustSet in the corpus")

    def test_mpt_issuer_is_affected_by_a_holders_transaction(self) -> None:
        """An MPToken holder's transaction affects the issuer named inside MPTokenIssuanceID (as rippled)."""
        for ledger in corpus()[1:]:
            for _h, tx_blob, meta_blob in ledger.transactions:
                tx = decode_binary(tx_blob)
                if tx["TransactionType"] != "MPTokenAuthorize" or "Holder" in tx:
                    continue
                issuer = bytes.fromhex(tx["MPTokenIssuanceID"])[4:]
                self.assertNotEqual(issuer, account_id(tx["Account"]))
                facts = transaction_facts(tx_blob, meta_blob, ledger.sequence, 0)
                self.assertIn(issuer, facts.accounts)
                return
        self.fail("no holder's MPTokenAuthorize in the corpus")


class NFTTests(SynchronousTestCase):
    def test_mints_give_the_minter_or_owner_the_new_token(self) -> None:
        """Each successful NFTokenMint yields one new token owned by the page's owner."""
        mints = 0
        for ledger in corpus()[1:]:
            for _h, tx_blob, meta_blob in ledger.transactions:
                tx = decode_binary(tx_blob)
                if tx["TransactionType"] != "NFTokenMint":
                    continue
                facts = transaction_facts(tx_blob, meta_blob, ledger.sequence, 0)
                if decode_binary(meta_blob)["TransactionResult"] != "tesSUCCESS":
                    self.assertEqual(facts.nfts, ())
                    continue
                new = [n for n in facts.nfts if not n.is_burned]
                self.assertEqual(len(new), 1)
                owner = (
                    account_id(tx.get("Destination", tx["Account"])) if "Amount" not in tx else None
                )
                if owner is not None:
                    self.assertEqual(new[0].owner, owner)
                self.assertIn(new[0].token_id, facts.nft_ids)
                # the token is really in that owner's pages after the ledger
                held = {
                    bytes.fromhex(t["NFToken"]["NFTokenID"])
                    for k, v in ledger.changes.items()
                    if v and entry_type(v) == 0x50 and k[:20] == new[0].owner
                    for t in decode_binary(v)["NFTokens"]
                }
                self.assertIn(new[0].token_id, held)
                mints += 1
        self.assertGreater(mints, 0)

    def test_burns_mark_the_token_burned(self) -> None:
        """A successful NFTokenBurn yields a burned row for its token."""
        burns = 0
        for ledger in corpus()[1:]:
            for _h, tx_blob, meta_blob in ledger.transactions:
                tx = decode_binary(tx_blob)
                if tx["TransactionType"] != "NFTokenBurn":
                    continue
                if decode_binary(meta_blob)["TransactionResult"] != "tesSUCCESS":
                    continue
                facts = transaction_facts(tx_blob, meta_blob, ledger.sequence, 0)
                burned = [n for n in facts.nfts if n.is_burned]
                self.assertEqual([n.token_id for n in burned], [bytes.fromhex(tx["NFTokenID"])])
                burns += 1
        self.assertGreater(burns, 0)

    def test_accepted_offer_moves_the_token(self) -> None:
        """A successful NFTokenAcceptOffer gives the token a new owner who is not the old one."""
        accepts = 0
        for ledger in corpus()[1:]:
            for _h, tx_blob, meta_blob in ledger.transactions:
                tx = decode_binary(tx_blob)
                if tx["TransactionType"] != "NFTokenAcceptOffer":
                    continue
                if decode_binary(meta_blob)["TransactionResult"] != "tesSUCCESS":
                    continue
                facts = transaction_facts(tx_blob, meta_blob, ledger.sequence, 0)
                self.assertEqual(len(facts.nfts), 1)
                self.assertFalse(facts.nfts[0].is_burned)
                accepts += 1
        self.assertGreater(accepts, 0)

    def test_state_rows_list_tokens_of_pages(self) -> None:
        """At initial load, every token in every NFTokenPage gets a row with the page owner."""
        last = corpus()[-1]
        from clio_twisted.testing.replay import load_chain

        chain = load_chain()
        objects = []
        key = None
        while True:
            found, key = chain.page(key, last.sequence, 4096)
            objects.extend(LedgerObject(k, b, last.sequence) for k, b in found)
            if key is None:
                break
        nfts, holders = state_rows(objects, last.sequence)
        pages = [o for o in objects if entry_type(o.blob) == 0x50]
        self.assertEqual(len(nfts), sum(len(decode_binary(p.blob)["NFTokens"]) for p in pages))
        owners = {
            bytes.fromhex(t["NFToken"]["NFTokenID"]): p.key[:20]
            for p in pages
            for t in decode_binary(p.blob)["NFTokens"]
        }
        self.assertEqual({n.token_id: n.owner for n in nfts}, owners)
        mptokens = [o for o in objects if entry_type(o.blob) == 0x7F]
        self.assertEqual(len(holders), len(mptokens))
        self.assertGreater(len(holders), 0)


class TransientObjectTests(SynchronousTestCase):
    def test_created_then_deleted_in_one_ledger_is_no_change(self) -> None:
        """An object created by one transaction and deleted by a later one in the same ledger is not written."""
        from clio_twisted.backend.interface import TransactionRecord
        from clio_twisted.etl.extract import TransactionFacts

        offer, account = b"\x01" * 32, b"\x02" * 32

        def facts(index: int, touched: tuple[bytes, ...], created=(), deleted=()):  # type: ignore[no-untyped-def]
            record = TransactionRecord(bytes([index]) * 32, 5, index, 0, b"", b"")
            return TransactionFacts(
                record, touched, frozenset(deleted), frozenset(created), frozenset()
            )

        rows = ledger_rows(
            [
                facts(0, (offer, account), created=(offer,)),
                facts(1, (offer, account), deleted=(offer,)),
            ]
        )
        self.assertEqual(rows.touched, {account})
        self.assertEqual(rows.deleted, set())
        # but an object that existed before and is deleted stays a deletion
        rows = ledger_rows([facts(0, (offer,)), facts(1, (offer,), deleted=(offer,))])
        self.assertEqual(rows.deleted, {offer})
