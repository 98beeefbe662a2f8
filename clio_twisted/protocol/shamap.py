"""The SHAMap: the radix-16 Merkle tree whose root hash names a ledger's state or transactions.

Keys are 256-bit; the tree branches on the key's nibbles, most significant
first. A leaf sits at the shallowest depth where no other key shares its path
so far, and an inner node's hash is SHA512Half("MIN\\0" + its 16 child hashes,
zero for an empty branch). The root of an empty map hashes to zero. Leaf
hashes depend on what the tree holds: a state object is SHA512Half("MLN\\0" +
blob + key), a transaction with its metadata SHA512Half("SND\\0" + VL(tx) +
VL(meta) + tx id).

This implementation keeps only each leaf's hash (not its blob), so a state of
100,000 objects costs a few tens of megabytes, and caches every inner node's
hash: a change marks only the path to its leaf dirty, and the next
``root_hash()`` rehashes just those nodes. The ETL keeps one per server to check
the account_hash of each ingested ledger.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from clio_twisted.protocol.hashing import (
    PREFIX_INNER_NODE,
    PREFIX_LEAF_NODE,
    PREFIX_TX_NODE,
    ZERO_HASH,
)

__all__ = [
    "SHAMap",
    "state_leaf_hash",
    "transaction_leaf_hash",
    "transaction_tree_hash",
    "vl_prefix",
]

_sha512 = hashlib.sha512

# An inner node is a 17-slot list: 16 children and, last, its cached hash
# (None when dirty). A child is None, a leaf, or another inner list. A leaf is
# one 64-byte ``bytes``: key then leaf hash (one object, ~100 bytes a leaf, so
# millions of leaves stay affordable).
_HASH = 16
_Node = list[Any]


def vl_prefix(length: int) -> bytes:
    """The variable-length prefix the XRPL binary format puts before a blob."""
    if length <= 192:
        return bytes((length,))
    if length <= 12480:
        length -= 193
        return bytes((193 + (length >> 8), length & 0xFF))
    if length <= 918744:
        length -= 12481
        return bytes((241 + (length >> 16), (length >> 8) & 0xFF, length & 0xFF))
    raise ValueError(f"blob of {length} bytes is too long for a VL prefix")


def state_leaf_hash(key: bytes, blob: bytes) -> bytes:
    """The hash of a state-tree leaf holding ``blob`` under ``key``."""
    return _sha512(PREFIX_LEAF_NODE + blob + key).digest()[:32]


def transaction_leaf_hash(tx_id: bytes, tx_blob: bytes, meta_blob: bytes) -> bytes:
    """The hash of a transaction-tree leaf (transaction with metadata)."""
    return _sha512(
        PREFIX_TX_NODE
        + vl_prefix(len(tx_blob))
        + tx_blob
        + vl_prefix(len(meta_blob))
        + meta_blob
        + tx_id
    ).digest()[:32]


def _nibble(key: bytes, depth: int) -> int:
    byte = key[depth >> 1]
    return (byte & 0x0F) if depth & 1 else (byte >> 4)


def _new_inner() -> _Node:
    return [None] * 17


class SHAMap:
    """A SHAMap of leaf hashes with incremental updates and a cached root hash."""

    __slots__ = ("_root", "_count")

    def __init__(self, items: Iterable[tuple[bytes, bytes]] = ()) -> None:
        """Build a state map from ``(key, blob)`` pairs."""
        self._root: _Node = _new_inner()
        self._count = 0
        for key, blob in items:
            self.set(key, blob)

    def __len__(self) -> int:
        return self._count

    def __contains__(self, key: object) -> bool:
        return isinstance(key, bytes) and self.leaf_hash(key) is not None

    def set(self, key: bytes, blob: bytes) -> None:
        """Put a state object (``blob``) under ``key``, replacing any old version."""
        self.set_leaf_hash(key, state_leaf_hash(key, blob))

    def set_leaf_hash(self, key: bytes, leaf_hash: bytes) -> None:
        """Put a leaf whose hash the caller computed (e.g. a transaction leaf)."""
        if len(key) != 32:
            raise ValueError(f"SHAMap keys are 32 bytes, not {len(key)}")
        node = self._root
        depth = 0
        while True:
            node[_HASH] = None
            branch = _nibble(key, depth)
            child = node[branch]
            if child is None:
                node[branch] = key + leaf_hash
                self._count += 1
                return
            if type(child) is list:
                node = child
                depth += 1
                continue
            if child.startswith(key):
                node[branch] = key + leaf_hash
                return
            # Two leaves share this path: push the old one down until they part.
            other = child
            depth += 1
            inner = _new_inner()
            node[branch] = inner
            while _nibble(key, depth) == _nibble(other, depth):
                deeper = _new_inner()
                inner[_nibble(key, depth)] = deeper
                inner = deeper
                depth += 1
            inner[_nibble(other, depth)] = other
            inner[_nibble(key, depth)] = key + leaf_hash
            self._count += 1
            return

    def delete(self, key: bytes) -> bool:
        """Remove ``key``; returns whether it was there.

        An inner node left holding a single leaf and nothing else is replaced
        by that leaf, as rippled does, so the shape (and the hash) only ever
        depends on the set of keys.
        """
        path: list[tuple[_Node, int]] = []
        node = self._root
        depth = 0
        while True:
            branch = _nibble(key, depth)
            child = node[branch]
            if child is None:
                return False
            path.append((node, branch))
            if type(child) is list:
                node = child
                depth += 1
                continue
            if not child.startswith(key):
                return False
            break
        for inner, _ in path:
            inner[_HASH] = None
        last, branch = path.pop()
        last[branch] = None
        self._count -= 1
        # Collapse upward: a non-root inner node with one leaf child and no
        # other children becomes that leaf.
        node = last
        while path:
            only = None
            count = 0
            for i in range(16):
                c = node[i]
                if c is not None:
                    count += 1
                    if count > 1 or type(c) is list:
                        only = None
                        break
                    only = c
            parent, pbranch = path.pop()
            if count == 0:
                parent[pbranch] = None
            elif only is not None and count == 1:
                parent[pbranch] = only
            else:
                break
            node = parent
        return True

    def leaf_hash(self, key: bytes) -> bytes | None:
        """The hash of the leaf under ``key``, or None if absent."""
        node = self._root
        depth = 0
        while True:
            child = node[_nibble(key, depth)]
            if child is None:
                return None
            if type(child) is list:
                node = child
                depth += 1
                continue
            return child[32:] if child.startswith(key) else None

    def keys(self) -> Iterator[bytes]:
        """Every key, in ascending order (branch order is key order)."""
        return _walk(self._root)

    def root_hash(self) -> bytes:
        """The root hash; only nodes changed since the last call are rehashed."""
        if self._count == 0:
            return ZERO_HASH
        return _hash_inner(self._root)


def _walk(node: _Node) -> Iterator[bytes]:
    for i in range(16):
        c = node[i]
        if c is None:
            continue
        if type(c) is list:
            yield from _walk(c)
        else:
            yield c[:32]


def _hash_inner(node: _Node) -> bytes:
    cached = node[_HASH]
    if cached is not None:
        return cached
    parts = [PREFIX_INNER_NODE]
    append = parts.append
    for i in range(16):
        c = node[i]
        if c is None:
            append(ZERO_HASH)
        elif type(c) is list:
            append(_hash_inner(c))
        else:
            append(c[32:])
    digest = _sha512(b"".join(parts)).digest()[:32]
    node[_HASH] = digest
    return digest


def transaction_tree_hash(items: Iterable[tuple[bytes, bytes, bytes]]) -> bytes:
    """The transaction_hash of a ledger from its ``(tx id, tx blob, meta blob)`` items."""
    tree = SHAMap()
    for tx_id, tx_blob, meta_blob in items:
        tree.set_leaf_hash(tx_id, transaction_leaf_hash(tx_id, tx_blob, meta_blob))
    return tree.root_hash()
