"""Classic addresses: base58check in the XRPL alphabet over a 20-byte account id.

An address is version byte 0, the account id, and the first four bytes of
SHA-256(SHA-256(those 21 bytes)), written in base 58 with the XRPL alphabet
(so version 0 gives the leading ``r``).  The same accounts appear over and over
in every object, so both directions are cached.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

ALPHABET = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
ACCOUNT_ID_VERSION = 0x00
NODE_PUBLIC_VERSION = 0x1C


class AddressError(ValueError):
    """A string that is not a valid base58check address of the expected kind."""


def _checksum(payload: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def base58check_encode(payload: bytes) -> str:
    """Base58 of payload + checksum, leading zero bytes written as ``r``."""
    full = payload + _checksum(payload)
    n = int.from_bytes(full, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(ALPHABET[r])
    zeros = len(full) - len(full.lstrip(b"\x00"))
    return "r" * zeros + "".join(reversed(out))


def base58check_decode(text: str) -> bytes:
    """The payload (version byte included) of a base58check string; checks the checksum."""
    if not isinstance(text, str) or not text:
        raise AddressError("empty or non-string address")
    n = 0
    try:
        for c in text:
            n = n * 58 + _INDEX[c]
    except KeyError:
        raise AddressError(f"bad base58 character in {text!r}") from None
    zeros = len(text) - len(text.lstrip("r"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    full = b"\x00" * zeros + body
    if len(full) < 5:
        raise AddressError(f"address too short: {text!r}")
    payload, check = full[:-4], full[-4:]
    if _checksum(payload) != check:
        raise AddressError(f"bad checksum in {text!r}")
    return payload


@lru_cache(maxsize=65536)
def encode_account_id(account_id: bytes) -> str:
    """The classic address (``r...``) of a 20-byte account id."""
    if len(account_id) != 20:
        raise AddressError(f"account id must be 20 bytes, not {len(account_id)}")
    return base58check_encode(b"\x00" + account_id)


@lru_cache(maxsize=65536)
def decode_address(address: str) -> bytes:
    """The 20-byte account id of a classic address; raises AddressError."""
    if not isinstance(address, str) or not 25 <= len(address) <= 35 or address[0] != "r":
        raise AddressError(f"not a classic address: {address!r}")
    payload = base58check_decode(address)
    if len(payload) != 21 or payload[0] != ACCOUNT_ID_VERSION:
        raise AddressError(f"not an account address: {address!r}")
    return payload[1:]


def is_valid_address(address: str) -> bool:
    try:
        decode_address(address)
    except AddressError:
        return False
    return True


def encode_node_public(key: bytes) -> str:
    """A node (validator) public key, 33 bytes, as ``n...``."""
    if len(key) != 33:
        raise AddressError("node public key must be 33 bytes")
    return base58check_encode(bytes((NODE_PUBLIC_VERSION,)) + key)


def decode_node_public(text: str) -> bytes:
    payload = base58check_decode(text)
    if len(payload) != 34 or payload[0] != NODE_PUBLIC_VERSION:
        raise AddressError(f"not a node public key: {text!r}")
    return payload[1:]
