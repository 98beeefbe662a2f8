"""Paging parameters as rippled reads them: limits, state-key markers and transaction markers.

Each parser takes the raw request value and returns the typed value or raises
rippled's own error for it (token and message as recorded from rippled 3.1.1).

Marker meanings (rippled's, which clients depend on):

- ``ledger_data``: a 64-hex state key; the page starts at the first key
  strictly after it, and the returned marker is the key just *before* the
  first object not returned (so the next page starts exactly there).
- ``account_tx`` / ``nft_history``: ``{"ledger": n, "seq": m}``, the position
  of the first transaction not returned; the next page starts there, inclusive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clio_twisted.backend.interface import TxCursor
from clio_twisted.rpc.errors import RippledError, RPCError, invalid_field

TX_MARKER_MESSAGE = "invalid marker. Provide ledger index via ledger field, and transaction sequence number via seq field"
_U32_MAX = 0xFFFF_FFFF


def is_integral(value: object) -> bool:
    """An int in JSON (not a bool, not a float)."""
    return isinstance(value, int) and not isinstance(value, bool)


def clio_limit(
    params: Mapping[str, Any], default: int = 50, minimum: int = 1, maximum: int = 100
) -> int:
    """``limit`` as Clio's own methods read it (``mpt_holders``, ``nfts_by_issuer``, ``nft_history``).

    Absent is ``default``; not an integer or below ``minimum`` is a bare
    ``invalidParams``; above ``maximum`` it is clamped, for every client.
    """
    if "limit" not in params:
        return default
    value = params["limit"]
    if not is_integral(value) or value < minimum:
        raise RPCError(RippledError.invalidParams)
    return min(int(value), maximum)


def as_bool(value: object) -> bool:
    """rippled's ``Json::Value::asBool``: non-zero numbers and non-empty strings are true."""
    if isinstance(value, str):
        return value != ""
    if isinstance(value, (list, dict)):
        return bool(value)
    return bool(value)


def parse_state_marker(value: object) -> bytes:
    """A ``ledger_data`` marker: 64 hex digits, else rippled's ``Invalid field 'marker', not valid.``"""
    if isinstance(value, str) and len(value) == 64:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    raise invalid_field("marker", "not valid")


def key_before(key: bytes) -> bytes:
    """The 256-bit key one less than ``key`` (rippled's ``--k``, wrapping at zero)."""
    value = (int.from_bytes(key, "big") - 1) % (1 << 256)
    return value.to_bytes(32, "big")


def state_marker_json(next_key: bytes) -> str:
    """The marker rippled answers when ``next_key`` is the first object not returned."""
    return key_before(next_key).hex().upper()


def parse_limit(value: object, default: int, maximum: int) -> int:
    """``ledger_data``'s limit: an integer, clamped to ``maximum``; else ``Invalid field 'limit', not integer.``"""
    if value is None:
        return default
    if not is_integral(value):
        raise invalid_field("limit", "not integer")
    assert isinstance(value, int)
    return max(0, min(value, maximum))


def parse_tx_marker(value: object) -> TxCursor:
    """An ``account_tx``/``nft_history`` marker ``{"ledger": u32, "seq": u32}``; else rippled's invalidParams."""
    if isinstance(value, dict):
        ledger, seq = value.get("ledger"), value.get("seq")
        if _is_u32(ledger) and _is_u32(seq):
            assert isinstance(ledger, int) and isinstance(seq, int)
            return TxCursor(ledger, seq)
    raise RPCError(RippledError.invalidParams, TX_MARKER_MESSAGE)


def tx_marker_json(cursor: TxCursor) -> dict[str, Any]:
    return {"ledger": cursor.ledger_sequence, "seq": cursor.transaction_index}


def _is_u32(value: object) -> bool:
    return is_integral(value) and 0 <= value <= _U32_MAX  # type: ignore[operator]
