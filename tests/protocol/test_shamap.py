"""SHAMap: real mainnet hashes, and incremental updates agreeing with a from-scratch build."""

from __future__ import annotations

import gzip
import json
from importlib import resources
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from xrpl.core.binarycodec import encode

from twisted.trial.unittest import SynchronousTestCase

from clio_twisted.protocol.hashing import (
    PREFIX_INNER_NODE,
    PREFIX_LEAF_NODE,
    ZERO_HASH,
    sha512_half,
    transaction_id,
)
from clio_twisted.protocol.shamap import SHAMap, transaction_tree_hash, vl_prefix


def _ledger(seq: int) -> dict[str, Any]:
    data = resources.files("clio_twisted.testing") / "data" / f"mainnet-{seq}-full.json.gz"
    ledger: dict[str, Any] = json.loads(gzip.decompress(data.read_bytes()))
    return ledger


def _state(ledger: dict[str, Any]) -> dict[bytes, bytes]:
    out = {}
    for obj in ledger["accountState"]:
        obj = dict(obj)
        key = bytes.fromhex(obj.pop("index"))
        out[key] = bytes.fromhex(encode(obj))
    return out


def reference_root(items: dict[bytes, bytes], depth: int = 0) -> bytes:
    """A naive recursive SHAMap root, written from the definition alone."""
    if not items:
        return ZERO_HASH
    children = []
    for nib in range(16):
        sub = {
            k: v
            for k, v in items.items()
            if (k[depth // 2] >> (0 if depth % 2 else 4)) & 0xF == nib
        }
        if not sub:
            children.append(ZERO_HASH)
        elif len(sub) == 1:
            ((key, blob),) = sub.items()
            children.append(sha512_half(PREFIX_LEAF_NODE, blob, key))
        else:
            children.append(reference_root(sub, depth + 1))
    return sha512_half(PREFIX_INNER_NODE, *children)


class RealLedgerTests(SynchronousTestCase):
    def test_account_hash_38129_and_40000(self) -> None:
        """The state trees of mainnet 38129 and 40000 hash to their real account_hash."""
        for seq in (38129, 40000):
            ledger = _ledger(seq)
            tree = SHAMap(_state(ledger).items())
            self.assertEqual(len(tree), 261)
            self.assertEqual(tree.root_hash().hex().upper(), ledger["account_hash"])

    def test_transaction_hash_38129(self) -> None:
        """The transaction tree of 38129 hashes to its real transaction_hash."""
        ledger = _ledger(38129)
        items = []
        for tx in ledger["transactions"]:
            tx = dict(tx)
            meta = tx.pop("metaData")
            tx_hash = tx.pop("hash")
            blob = bytes.fromhex(encode(tx))
            self.assertEqual(transaction_id(blob).hex().upper(), tx_hash)
            items.append((transaction_id(blob), blob, bytes.fromhex(encode(meta))))
        self.assertEqual(transaction_tree_hash(items).hex().upper(), ledger["transaction_hash"])

    def test_incremental_38129_to_40000(self) -> None:
        """Applying the 38129->40000 difference to one tree yields 40000's account_hash."""
        before, after = _state(_ledger(38129)), _state(_ledger(40000))
        tree = SHAMap(before.items())
        tree.root_hash()
        for key in before.keys() - after.keys():
            self.assertTrue(tree.delete(key))
        for key, blob in after.items():
            if before.get(key) != blob:
                tree.set(key, blob)
        self.assertEqual(tree.root_hash().hex().upper(), _ledger(40000)["account_hash"])
        self.assertEqual(list(tree.keys()), sorted(after))


KEYS = st.binary(min_size=32, max_size=32)
# Keys that share long prefixes, so deep paths and collapses happen.
CLUSTERED = st.builds(
    lambda tail, head: bytes([0xAB, 0xCD, head]) + tail,
    st.binary(min_size=29, max_size=29),
    st.integers(0, 3),
)


class IncrementalTests(SynchronousTestCase):
    def test_empty(self) -> None:
        """An empty map hashes to zero, and deleting the last key brings it back to zero."""
        tree = SHAMap()
        self.assertEqual(tree.root_hash(), ZERO_HASH)
        tree.set(b"\x11" * 32, b"x")
        self.assertNotEqual(tree.root_hash(), ZERO_HASH)
        self.assertTrue(tree.delete(b"\x11" * 32))
        self.assertFalse(tree.delete(b"\x11" * 32))
        self.assertEqual(tree.root_hash(), ZERO_HASH)
        self.assertEqual(len(tree), 0)

    def test_rejects_short_key(self) -> None:
        """Keys must be 32 bytes."""
        self.assertRaises(ValueError, SHAMap().set, b"abc", b"x")

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(st.tuples(st.one_of(KEYS, CLUSTERED), st.binary(max_size=8)), max_size=60),
        st.lists(st.integers(0, 200), max_size=40),
    )
    def test_matches_reference_after_sets_and_deletes(
        self, writes: list[tuple[bytes, bytes]], deletes: list[int]
    ) -> None:
        """Any mix of sets, overwrites and deletes gives the from-scratch root hash."""
        tree = SHAMap()
        model: dict[bytes, bytes] = {}
        for key, blob in writes:
            tree.set(key, blob)
            model[key] = blob
        tree.root_hash()
        keys = sorted(model)
        for i in deletes:
            if keys:
                key = keys[i % len(keys)]
                self.assertEqual(tree.delete(key), key in model)
                model.pop(key, None)
        self.assertEqual(tree.root_hash(), reference_root(model))
        self.assertEqual(len(tree), len(model))
        self.assertEqual(list(tree.keys()), sorted(model))
        for key, blob in model.items():
            self.assertEqual(tree.leaf_hash(key), sha512_half(PREFIX_LEAF_NODE, blob, key))
            self.assertIn(key, tree)

    def test_vl_prefix(self) -> None:
        """VL prefixes use one, two and three bytes at rippled's boundaries."""
        self.assertEqual(vl_prefix(192), b"\xc0")
        self.assertEqual(vl_prefix(193), b"\xc1\x00")
        self.assertEqual(vl_prefix(12480), b"\xf0\xff")
        self.assertEqual(vl_prefix(12481), b"\xf1\x00\x00")
        self.assertRaises(ValueError, vl_prefix, 918745)
