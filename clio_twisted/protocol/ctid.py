"""Concise Transaction Identifiers (XLS-37): a transaction's place as 16 hex digits.

A CTID packs, big-endian into 64 bits: the nibble ``0xC``, the ledger sequence
(28 bits), the transaction's index in that ledger (16 bits) and the network id
(16 bits). rippled renders it as 16 upper-case hex digits and refuses to make
one when a part does not fit, so ``encode_ctid`` returns None in that case and
callers omit the field, as rippled does.
"""

from __future__ import annotations

import re

from attrs import frozen

_MAX_LEDGER = 0x0FFF_FFFF
_MAX_U16 = 0xFFFF
_HEX16 = re.compile(r"[0-9A-F]{16}")


@frozen
class CTID:
    """A decoded CTID: where the transaction is and which network it belongs to."""

    ledger_sequence: int
    transaction_index: int
    network_id: int


def encode_ctid(ledger_sequence: int, transaction_index: int, network_id: int) -> str | None:
    """The CTID string, or None when a part is out of range (rippled then omits ``ctid``)."""
    if not (0 <= ledger_sequence <= _MAX_LEDGER):
        return None
    if not (0 <= transaction_index <= _MAX_U16 and 0 <= network_id <= _MAX_U16):
        return None
    value = (0xC << 60) | (ledger_sequence << 32) | (transaction_index << 16) | network_id
    return f"{value:016X}"


def decode_ctid(text: object) -> CTID | None:
    """Parse a CTID as the ``tx`` method accepts it; None when malformed.

    Like rippled, the text must be exactly 16 hex digits whose top nibble is
    ``C``; lower-case digits are accepted (Clio upper-cases the input first).
    """
    if not isinstance(text, str):
        return None
    text = text.upper()
    if _HEX16.fullmatch(text) is None:
        return None
    value = int(text, 16)
    if value >> 60 != 0xC:
        return None
    return CTID(
        ledger_sequence=(value >> 32) & _MAX_LEDGER,
        transaction_index=(value >> 16) & _MAX_U16,
        network_id=value & _MAX_U16,
    )
