"""API rendering of transactions and ledger entries, checked against rippled 3.1.1's answers."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.protocol.addresses import encode_account_id
from clio_twisted.protocol.codec import decode, encode
from clio_twisted.protocol.render import (
    close_time_iso,
    delivered_amount,
    mpt_issuance_id,
    nft_synthetic_fields,
    render_ledger_entry,
    render_transaction,
    transaction_hash,
)
from tests.protocol._corpus import (
    api_key,
    corpus_api_transactions,
    corpus_state,
    corpus_transactions,
    diff,
)


def _blobs(t: dict[str, object]) -> tuple[bytes, bytes]:
    return bytes.fromhex(str(t["tx_blob"])), bytes.fromhex(str(t["meta"]))


class LedgerFormTests(SynchronousTestCase):
    def test_ledger_v1_field_for_field(self) -> None:
        """All 795 transactions render as the v1 ``ledger`` answer (expand) shows them."""
        problems = []
        for t in corpus_transactions():
            tx, meta = render_transaction(*_blobs(t), api_version=1, form="ledger")
            want = dict(t["v1"])
            want_meta = want.pop("metaData")
            problems += diff(tx, want, "tx") + diff(meta, want_meta, "meta")
        self.assertEqual(problems, [])

    def test_ledger_v2_field_for_field(self) -> None:
        """All 795 transactions render as the v2 ``ledger`` answer shows them, with its envelope."""
        problems = []
        for t in corpus_transactions():
            tx_blob, meta_blob = _blobs(t)
            tx, meta = render_transaction(tx_blob, meta_blob, api_version=2, form="ledger")
            v2 = t["v2"]
            problems += diff(tx, v2["tx_json"], "tx") + diff(meta, v2["meta"], "meta")
            envelope = {
                "close_time_iso": close_time_iso(t["close_time"]),
                "hash": transaction_hash(tx_blob),
                "ledger_hash": t["ledger_hash"],
                "ledger_index": t["ledger_index"],
                "meta": meta,
                "tx_json": tx,
                "validated": True,
            }
            problems += diff(envelope, v2, "envelope")
        self.assertEqual(problems, [])


class TxAndStreamFormTests(SynchronousTestCase):
    def test_tx_account_tx_and_streams(self) -> None:
        """API fields match rippled's tx/account_tx answers and transaction streams, v1 and v2."""
        by_hash = {t["v1"]["hash"]: t for t in corpus_transactions()}
        problems = []
        forms = set()
        for r in corpus_api_transactions():
            t = by_hash[r["hash"]]
            tx, meta = render_transaction(
                *_blobs(t),
                api_version=r["api_version"],
                ledger_index=t["ledger_index"],
                close_time=t["close_time"],
                network_id=0,
                form=r["form"],
            )
            mine_tx = {k: v for k, v in tx.items() if api_key(k)}
            mine_meta = {k: v for k, v in meta.items() if api_key(k)}
            want_tx = dict(r["tx_json"])
            if r["form"] == "stream":
                want_tx.pop("owner_funds", None)  # needs ledger state: the stream builder's
            problems += diff(mine_tx, want_tx, r["hash"]) + diff(mine_meta, r["meta"], r["hash"])
            forms.add((r["form"], r["api_version"]))
        self.assertEqual(problems, [])
        self.assertEqual(forms, {("tx", 1), ("tx", 2), ("stream", 1), ("stream", 2)})
        self.assertGreater(len(corpus_api_transactions()), 2000)


class RuleTests(SynchronousTestCase):
    def test_deliver_max_by_version(self) -> None:
        """Payment: v1 keeps Amount and adds DeliverMax; v2 has DeliverMax only; others untouched."""
        pay = next(t for t in corpus_transactions() if t["v1"]["TransactionType"] == "Payment")
        v1, _ = render_transaction(*_blobs(pay), api_version=1)
        v2, _ = render_transaction(*_blobs(pay), api_version=2)
        self.assertEqual(v1["DeliverMax"], v1["Amount"])
        self.assertNotIn("Amount", v2)
        self.assertEqual(v2["DeliverMax"], v1["Amount"])
        cash = next(t for t in corpus_transactions() if t["v1"]["TransactionType"] == "CheckCash")
        tx, _ = render_transaction(*_blobs(cash), api_version=2)
        self.assertNotIn("DeliverMax", tx)

    def test_delivered_amount_rules(self) -> None:
        """delivered_amount: success only; AccountDelete outside ``ledger``; old ledgers unavailable."""
        tx = {"TransactionType": "Payment", "Amount": "5"}
        ok = {"TransactionResult": "tesSUCCESS"}
        self.assertEqual(delivered_amount(tx, ok), "5")
        self.assertEqual(delivered_amount(tx, dict(ok, DeliveredAmount="3")), "3")
        self.assertIsNone(delivered_amount(tx, {"TransactionResult": "tecPATH_DRY"}))
        self.assertEqual(delivered_amount(tx, ok, ledger_index=100, close_time=1000), "unavailable")
        delete = {"TransactionType": "AccountDelete"}
        self.assertEqual(delivered_amount(delete, dict(ok, DeliveredAmount="7")), "7")
        self.assertIsNone(delivered_amount(delete, dict(ok, DeliveredAmount="7"), for_ledger=True))

    def test_ctid_only_with_network_id(self) -> None:
        """The tx form adds ctid only when a network id is given."""
        t = corpus_transactions()[0]
        with_id, _ = render_transaction(*_blobs(t), api_version=2, ledger_index=3, network_id=0)
        without, _ = render_transaction(*_blobs(t), api_version=2, ledger_index=3)
        self.assertEqual(with_id["ctid"][:8], "C0000003")
        self.assertNotIn("ctid", without)

    def test_nft_synthetic_fields_need_success(self) -> None:
        """No NFToken synthetic fields for a failed transaction."""
        meta = {"TransactionResult": "tecNO_ENTRY", "AffectedNodes": []}
        self.assertEqual(nft_synthetic_fields({"TransactionType": "NFTokenMint"}, meta), {})

    def test_mpt_issuance_id(self) -> None:
        """An MPT issuance id is the 4-byte sequence then the issuer's account id."""
        issuer = "9E9DA16578870AE28756D182A9AE344092669A2A"
        self.assertEqual(
            mpt_issuance_id(1, encode_account_id(bytes.fromhex(issuer))), "00000001" + issuer
        )


class LedgerEntryTests(SynchronousTestCase):
    def test_objects_as_rippled_shows_them(self) -> None:
        """673 objects render as ledger_data/ledger_entry/account_objects show them, index included."""
        problems = []
        mpt = 0
        for o in corpus_state()["objects"]:
            mine = render_ledger_entry(bytes.fromhex(o["data"]), o["json"]["index"])
            problems += diff(mine, o["json"], o["json"]["index"])
            mpt += "mpt_issuance_id" in mine
        self.assertEqual(problems, [])
        self.assertEqual(mpt, 8)

    def test_index_from_bytes(self) -> None:
        """The index may be given as 32 bytes; it renders upper-case."""
        index, data = corpus_state()["blobs"][0]
        obj = render_ledger_entry(bytes.fromhex(data), bytes.fromhex(index))
        self.assertEqual(obj["index"], index.upper())
        self.assertEqual(
            encode({k: v for k, v in obj.items() if k != "index"}), bytes.fromhex(data)
        )
        self.assertEqual(decode(bytes.fromhex(data))["LedgerEntryType"], obj["LedgerEntryType"])
