"""The XRPL's one hash function and the prefixes that keep its uses apart.

Every hash in the ledger is SHA-512 cut to its first 256 bits ("SHA512Half"),
taken over a four-byte prefix that names what is hashed, so that a transaction
can never collide with a state object or a ledger header.
"""

from __future__ import annotations

import hashlib

# Hash prefixes, as rippled's HashPrefix.h: three ASCII letters and a zero byte.
PREFIX_TRANSACTION_ID = b"TXN\x00"
PREFIX_TX_NODE = b"SND\x00"
PREFIX_LEAF_NODE = b"MLN\x00"
PREFIX_INNER_NODE = b"MIN\x00"
PREFIX_LEDGER_MASTER = b"LWR\x00"
PREFIX_TX_SIGN = b"STX\x00"
PREFIX_TX_MULTISIGN = b"SMT\x00"
PREFIX_VALIDATION = b"VAL\x00"
PREFIX_PROPOSAL = b"PRP\x00"
PREFIX_MANIFEST = b"MAN\x00"
PREFIX_PAYMENT_CHANNEL_CLAIM = b"CLM\x00"

ZERO_HASH = bytes(32)


def sha512_half(*parts: bytes) -> bytes:
    """SHA-512 over the concatenated parts, cut to 32 bytes."""
    h = hashlib.sha512()
    for part in parts:
        h.update(part)
    return h.digest()[:32]


def transaction_id(tx_blob: bytes) -> bytes:
    """The hash that names a signed transaction."""
    return sha512_half(PREFIX_TRANSACTION_ID, tx_blob)
