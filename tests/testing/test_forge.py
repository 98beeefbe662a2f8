"""The forge: real start hashes, and 200 forged ledgers checked independently.

The checks here do not use the forge's bookkeeping: the state is rebuilt from
each ledger's ``changes`` and its tree hashed from scratch by a naive SHAMap
written below; the transaction tree likewise; and every transaction's
metadata is replayed against the object versions it claims to change.
"""

from __future__ import annotations

import hashlib
import struct
from functools import cache
from typing import Any

from xrpl.core.binarycodec import decode, encode

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.protocol import keylets
from clio_twisted.testing.chain import ChainLedger
from clio_twisted.testing.forge import Forge, load_fixture_ledger

LEDGERS = 200
TXS_PER_LEDGER = 10
SAMPLE_EVERY = 25


def _half(*parts: bytes) -> bytes:
    return hashlib.sha512(b"".join(parts)).digest()[:32]


def _vl(n: int) -> bytes:
    if n <= 192:
        return bytes([n])
    n -= 193
    return bytes([193 + (n >> 8), n & 0xFF])


def naive_root(leaves: dict[bytes, bytes], depth: int = 0) -> bytes:
    """SHAMap root from leaf hashes by key, recursing over nibbles (the definition)."""
    if not leaves:
        return bytes(32)
    groups: list[dict[bytes, bytes]] = [{} for _ in range(16)]
    for key, leaf in leaves.items():
        nibble = (key[depth // 2] >> 4) if depth % 2 == 0 else (key[depth // 2] & 0xF)
        groups[nibble][key] = leaf
    children = []
    for group in groups:
        if not group:
            children.append(bytes(32))
        elif len(group) == 1:
            children.append(next(iter(group.values())))
        else:
            children.append(naive_root(group, depth + 1))
    return _half(b"MIN\x00", *children)


def state_root(state: dict[bytes, bytes]) -> bytes:
    return naive_root({k: _half(b"MLN\x00", blob, k) for k, blob in state.items()})


def tx_root(items: tuple[tuple[bytes, bytes, bytes], ...]) -> bytes:
    return naive_root(
        {tid: _half(b"SND\x00", _vl(len(t)), t, _vl(len(m)), m, tid) for tid, t, m in items}
    )


def header_hash(ledger: ChainLedger) -> bytes:
    h = ledger.header
    raw = struct.pack(
        ">IQ32s32s32sIIBB",
        h.sequence,
        h.total_drops,
        h.parent_hash,
        h.transaction_hash,
        h.account_hash,
        h.parent_close_time,
        h.close_time,
        h.close_time_resolution,
        h.close_flags,
    )
    return _half(b"LWR\x00", raw)


@cache
def forged_chain() -> tuple[ChainLedger, tuple[ChainLedger, ...]]:
    forge = Forge(load_fixture_ledger(), seed=4, txs_per_ledger=TXS_PER_LEDGER)
    return forge.start, tuple(forge.ledgers(LEDGERS))


@cache
def decoded_chain() -> tuple[dict[bytes, dict[str, Any]], tuple[DecodedLedger, ...]]:
    """The forged chain decoded once with xrpl-py: start state, then per ledger
    (transactions as (tx, meta) JSON, changes as key -> JSON or None)."""
    start, ledgers = forged_chain()
    state = {k: decode(v.hex()) for k, v in start.changes.items() if v is not None}
    out = []
    for ledger in ledgers:
        txs = tuple((decode(t.hex()), decode(m.hex())) for _, t, m in ledger.transactions)
        changes = {
            k: (decode(v.hex()) if v is not None else None) for k, v in ledger.changes.items()
        }
        out.append((txs, changes))
    return state, tuple(out)


DecodedLedger = tuple[
    tuple[tuple[dict[str, Any], dict[str, Any]], ...], dict[bytes, dict[str, Any] | None]
]


def _is_default(value: Any) -> bool:
    return value in (0, "0", "0000000000000000", "", [])


class RealStartTests(SynchronousTestCase):
    def test_fixture_ledgers_reproduce_their_hashes(self) -> None:
        """38129 and 40000: state tree, transaction tree and header hash match mainnet."""
        expected = {
            38129: (
                "2C23D15B6B549123FB351E4B5CDE81C564318EB845449CD43C3EA7953C4DB452",
                "E6DB7365949BF981",
            ),
            40000: (None, None),
        }
        for seq in (38129, 40000):
            ledger = load_fixture_ledger(seq)
            state = {k: v for k, v in ledger.changes.items() if v is not None}
            self.assertEqual(len(state), 261)
            self.assertEqual(state_root(state), ledger.header.account_hash)
            self.assertEqual(tx_root(ledger.transactions), ledger.header.transaction_hash)
            self.assertEqual(header_hash(ledger), ledger.hash)
            account_hash, ledger_hash = expected[seq]
            if account_hash:
                self.assertEqual(ledger.header.account_hash.hex().upper(), account_hash)
                self.assertTrue(ledger.hash.hex().upper().startswith(ledger_hash))  # type: ignore[arg-type]

    def test_forge_starts_from_the_real_ledger(self) -> None:
        """Without extra accounts the forge's start is 38129 itself, and ledger 1 chains to it."""
        start, ledgers = forged_chain()
        self.assertEqual(start, load_fixture_ledger())
        self.assertEqual(ledgers[0].header.parent_hash, start.hash)
        self.assertEqual(ledgers[0].sequence, 38130)


class ForgedChainTests(SynchronousTestCase):
    def test_chain_and_hashes(self) -> None:
        """Every ledger: parent chain, tx tree, ledger hash; sampled state trees from scratch."""
        start, ledgers = forged_chain()
        _, decoded = decoded_chain()
        state = {k: v for k, v in start.changes.items() if v is not None}
        previous = start
        checked = 0
        for n, ledger in enumerate(ledgers, 1):
            self.assertEqual(ledger.sequence, previous.sequence + 1)
            self.assertEqual(ledger.header.parent_hash, header_hash(previous))
            self.assertEqual(ledger.header.parent_close_time, previous.header.close_time)
            self.assertEqual(len(ledger.transactions), TXS_PER_LEDGER)
            self.assertEqual(tx_root(ledger.transactions), ledger.header.transaction_hash)
            self.assertEqual(header_hash(ledger), ledger.hash)
            self.assertEqual(
                ledger.header.total_drops, previous.header.total_drops - 10 * TXS_PER_LEDGER
            )
            for key, blob in ledger.changes.items():
                if blob is None:
                    del state[key]
                else:
                    state[key] = blob
            if n % SAMPLE_EVERY == 0 or n == len(ledgers):
                self.assertEqual(state_root(state), ledger.header.account_hash, ledger.sequence)
                checked += 1
            previous = ledger
        self.assertEqual(checked, LEDGERS // SAMPLE_EVERY)

    def test_xrp_conserved(self) -> None:
        """XRP in accounts and escrows always equals total_drops (fees are burned)."""
        start, ledgers = forged_chain()
        state, decoded = decoded_chain()
        state = dict(state)

        def total() -> int:
            drops = 0
            for obj in state.values():
                if obj["LedgerEntryType"] == "AccountRoot":
                    drops += int(obj["Balance"])
                elif obj["LedgerEntryType"] == "Escrow":
                    drops += int(obj["Amount"])
            return drops

        self.assertEqual(total(), start.header.total_drops)
        for n, (ledger, (_, changes)) in enumerate(zip(ledgers, decoded, strict=True), 1):
            for key, obj in changes.items():
                if obj is None:
                    del state[key]
                else:
                    state[key] = obj
            if n % SAMPLE_EVERY == 0:
                self.assertEqual(total(), ledger.header.total_drops)

    def test_transactions_round_trip(self) -> None:
        """Every tx and meta blob decodes and re-encodes to the same bytes; ids and indexes agree."""
        _, ledgers = forged_chain()
        _, decoded = decoded_chain()
        for ledger, (txs, _) in zip(ledgers, decoded, strict=True):
            for index, ((tx_id, tx_blob, meta_blob), (tx, meta)) in enumerate(
                zip(ledger.transactions, txs, strict=True)
            ):
                self.assertEqual(bytes.fromhex(encode(tx)), tx_blob)
                self.assertEqual(bytes.fromhex(encode(meta)), meta_blob)
                self.assertEqual(tx_id, _half(b"TXN\x00", tx_blob))
                self.assertEqual(meta["TransactionIndex"], index)
                self.assertEqual(meta["TransactionResult"], "tesSUCCESS")
                self.assertIn("TxnSignature", tx)
                self.assertEqual(len(bytes.fromhex(tx["SigningPubKey"])), 33)
                if tx["TransactionType"] == "Payment":
                    self.assertEqual(meta["DeliveredAmount"], tx["Amount"])
                keys = [next(iter(n.values()))["LedgerIndex"] for n in meta["AffectedNodes"]]
                self.assertEqual(keys, sorted(keys))

    def test_transaction_kinds(self) -> None:
        """All required transaction kinds occur, with the objects they should create."""
        _, decoded = decoded_chain()
        kinds: set[str] = set()
        created: set[str] = set()
        for txs, _ in decoded:
            for tx, meta in txs:
                kinds.add(tx["TransactionType"])
                for node in meta["AffectedNodes"]:
                    if "CreatedNode" in node:
                        created.add(node["CreatedNode"]["LedgerEntryType"])
        required = {
            "Payment",
            "TrustSet",
            "OfferCreate",
            "OfferCancel",
            "AccountSet",
            "NFTokenMint",
            "NFTokenCreateOffer",
            "EscrowCreate",
            "CheckCreate",
            "TicketCreate",
        }
        self.assertEqual(required - kinds, set())
        objects = {
            "AccountRoot",
            "RippleState",
            "Offer",
            "DirectoryNode",
            "NFTokenPage",
            "NFTokenOffer",
        }
        self.assertEqual((objects | {"Escrow", "Check", "Ticket"}) - created, set())
        iou_payments = [
            tx
            for txs, _ in decoded
            for tx, _ in txs
            if tx["TransactionType"] == "Payment" and "issuer" in tx["Amount"]
        ]
        self.assertGreater(len(iou_payments), 10)
        issuers = {tx["Amount"]["issuer"] for tx in iou_payments}
        between_holders = [
            tx for tx in iou_payments if not {tx["Account"], tx["Destination"]} & issuers
        ]
        self.assertGreater(len(between_holders), 0)

    def test_metadata_matches_state_changes(self) -> None:
        """Replaying each tx's metadata over the previous versions gives exactly the new versions."""
        start, ledgers = forged_chain()
        state, decoded = decoded_chain()
        state = dict(state)
        for ledger, (txs, changes) in zip(ledgers, decoded, strict=True):
            work: dict[bytes, dict[str, Any] | None] = {}
            threaded: dict[bytes, tuple[str, int]] = {}
            for (tx_id, _, _), (_, meta) in zip(ledger.transactions, txs, strict=True):
                tid = tx_id.hex().upper()
                for node in meta["AffectedNodes"]:
                    ((kind, body),) = node.items()
                    key = bytes.fromhex(body["LedgerIndex"])
                    cur = work[key] if key in work else state.get(key)
                    if kind == "CreatedNode":
                        self.assertIsNone(cur, body)
                        work[key] = {
                            "LedgerEntryType": body["LedgerEntryType"],
                            **body.get("NewFields", {}),
                        }
                        threaded[key] = (tid, ledger.sequence)
                        continue
                    assert cur is not None, body
                    self.assertEqual(cur["LedgerEntryType"], body["LedgerEntryType"])
                    for field, value in body.get("PreviousFields", {}).items():
                        self.assertEqual(
                            cur.get(field, value if _is_default(value) else None), value, field
                        )
                    if kind == "DeletedNode":
                        for field, value in body["FinalFields"].items():
                            if field in cur:
                                self.assertEqual(cur[field], value, field)
                        work[key] = None
                        continue
                    new = {"LedgerEntryType": body["LedgerEntryType"], **body["FinalFields"]}
                    if "PreviousTxnID" in body:
                        before = threaded.get(key) or (
                            cur["PreviousTxnID"],
                            cur["PreviousTxnLgrSeq"],
                        )
                        self.assertEqual((body["PreviousTxnID"], body["PreviousTxnLgrSeq"]), before)
                        threaded[key] = (tid, ledger.sequence)
                    elif "PreviousTxnID" in cur:
                        new["PreviousTxnID"] = cur["PreviousTxnID"]
                        new["PreviousTxnLgrSeq"] = cur["PreviousTxnLgrSeq"]
                    work[key] = new
            # Only the skip lists change without metadata.
            for key in set(changes) - set(work):
                self.assertEqual(changes[key]["LedgerEntryType"], "LedgerHashes")  # type: ignore[index]
            transient = {k for k, v in work.items() if v is None and k not in state}
            self.assertEqual(set(work) - set(changes), transient)
            for key, expected in work.items():
                if key in transient:
                    continue
                actual = changes[key]
                if expected is None:
                    self.assertIsNone(actual)
                    continue
                assert actual is not None
                for field, value in actual.items():
                    if field in ("PreviousTxnID", "PreviousTxnLgrSeq") and key in threaded:
                        tid, seq = threaded[key]
                        self.assertEqual(value, tid if field == "PreviousTxnID" else seq)
                    elif field in expected:
                        self.assertEqual(expected[field], value, (field, actual))
                    else:
                        # Indexes never appear in metadata; defaults are left out of NewFields.
                        self.assertTrue(field == "Indexes" or _is_default(value), (field, actual))
                for field in expected:
                    self.assertIn(field, actual)
            for key, obj in changes.items():
                if obj is None:
                    del state[key]
                else:
                    state[key] = obj

    def test_skip_lists(self) -> None:
        """The short list ends with the parent hash; the long list gains each 256th ledger."""
        start, ledgers = forged_chain()
        _, decoded = decoded_chain()
        by_seq = {ledger.sequence: ledger for ledger in (start, *ledgers)}
        long_updates = 0
        for ledger, (_, changes) in zip(ledgers, decoded, strict=True):
            short = changes[keylets.skip()]
            assert short is not None
            self.assertEqual(short["Hashes"][-1], ledger.header.parent_hash.hex().upper())
            self.assertEqual(short["LastLedgerSequence"], ledger.sequence - 1)
            self.assertLessEqual(len(short["Hashes"]), 256)
            prev = ledger.sequence - 1
            long_key = keylets.skip_for(prev)
            if prev % 256 == 0:
                long_list = changes[long_key]
                assert long_list is not None
                self.assertEqual(long_list["Hashes"][-1], by_seq[prev].hash.hex().upper())
                long_updates += 1
            else:
                self.assertNotIn(long_key, changes)
        self.assertGreaterEqual(long_updates, 1)

    def test_offers_rest_in_their_book(self) -> None:
        """Each resting offer is listed in the book directory whose key encodes its quality."""
        start, _ = forged_chain()
        state, decoded = decoded_chain()
        state = dict(state)
        for _, changes in decoded:
            for key, obj in changes.items():
                if obj is None:
                    state.pop(key, None)
                else:
                    state[key] = obj
        offers = 0
        for key, obj in state.items():
            if obj["LedgerEntryType"] != "Offer" or int(obj["PreviousTxnLgrSeq"]) <= start.sequence:
                continue
            offers += 1
            book = bytes.fromhex(obj["BookDirectory"])
            quality = keylets.offer_quality(obj["TakerPays"]["value"], int(obj["TakerGets"]))
            self.assertEqual(keylets.key_quality(book), quality)
            self.assertIn(key.hex().upper(), _entries(state, book))
            self.assertEqual(int(state[book]["ExchangeRate"], 16), quality)
            self.assertIn(
                key.hex().upper(), _entries(state, keylets.owner_dir(_account(obj["Account"])))
            )
        self.assertGreater(offers, 0)

    def test_deterministic(self) -> None:
        """The same seed forges the same ledgers; another seed does not."""
        hashes = [
            [
                ledger.hash
                for ledger in Forge(load_fixture_ledger(), seed=s, txs_per_ledger=5).ledgers(3)
            ]
            for s in (7, 7, 8)
        ]
        self.assertEqual(hashes[0], hashes[1])
        self.assertNotEqual(hashes[0], hashes[2])


def _entries(state: dict[bytes, dict[str, Any]], root: bytes) -> list[str]:
    """Every entry of a directory, following its pages."""
    out: list[str] = []
    page = 0
    while True:
        node = state[keylets.page(root, page)]
        out += node["Indexes"]
        page = int(node.get("IndexNext", "0"), 16)
        if page == 0:
            return out


def _account(address: str) -> bytes:
    from xrpl.core.addresscodec import decode_classic_address

    return bytes(decode_classic_address(address))


class ScaleTests(SynchronousTestCase):
    def test_extra_accounts(self) -> None:
        """Extra accounts make a synthetic start whose state hashes from scratch, and forging continues."""
        forge = Forge(load_fixture_ledger(), seed=9, accounts=1500, txs_per_ledger=30)
        start = forge.start
        real = load_fixture_ledger()
        self.assertEqual(start.sequence, real.sequence)
        self.assertEqual(start.header.total_drops, real.header.total_drops)
        self.assertEqual(start.header.parent_hash, real.header.parent_hash)
        state = {k: v for k, v in start.changes.items() if v is not None}
        self.assertEqual(len(state), 261 + 1500)
        self.assertEqual(state_root(state), start.header.account_hash)
        self.assertEqual(forge.state_size, 1761)
        for ledger in forge.ledgers(3):
            for key, blob in ledger.changes.items():
                if blob is None:
                    del state[key]
                else:
                    state[key] = blob
            self.assertEqual(state_root(state), ledger.header.account_hash)
        extra = {
            decode(b.hex())["Account"]
            for b in state.values()
            if decode(b.hex())["LedgerEntryType"] == "AccountRoot"
        }
        self.assertGreater(len(extra), 1500)
