"""The 118-byte ledger header: parse, serialise, hash and render as rippled does.

Layout (big-endian), as rippled's ``addRaw(LedgerInfo)``: sequence u32,
total drops u64, parent hash, transaction tree hash, state tree hash (32 bytes
each), parent close time u32, close time u32, close time resolution u8,
close flags u8. The ledger hash is SHA512Half("LWR\\0" + those bytes).
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from typing import Any

from attrs import frozen

from clio_twisted.protocol.hashing import PREFIX_LEDGER_MASTER, sha512_half

HEADER_SIZE = 118
_LAYOUT = struct.Struct(">IQ32s32s32sIIBB")

# The XRPL epoch: close times count seconds from 2000-01-01T00:00:00Z.
RIPPLE_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
RIPPLE_EPOCH_UNIX = 946684800


class HeaderError(ValueError):
    """A ledger header blob that is not 118 well-formed bytes."""


def ripple_time_to_datetime(seconds: int) -> datetime:
    return RIPPLE_EPOCH + timedelta(seconds=seconds)


def ripple_time_iso(seconds: int) -> str:
    """rippled's ``close_time_iso``: ISO 8601, second precision, ``Z`` suffix."""
    return ripple_time_to_datetime(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def ripple_time_human(seconds: int) -> str:
    """rippled's ``close_time_human``: ``2026-Nov-27 01:35:48.000000000 UTC``."""
    return ripple_time_to_datetime(seconds).strftime("%Y-%b-%d %H:%M:%S.000000000 UTC")


@frozen
class LedgerHeader:
    """One validated ledger's header, with its hash computed once."""

    sequence: int
    total_drops: int
    parent_hash: bytes
    transaction_hash: bytes
    account_hash: bytes
    parent_close_time: int
    close_time: int
    close_time_resolution: int
    close_flags: int

    @classmethod
    def from_bytes(cls, blob: bytes) -> LedgerHeader:
        if len(blob) != HEADER_SIZE:
            raise HeaderError(f"ledger header must be {HEADER_SIZE} bytes, not {len(blob)}")
        return cls(*_LAYOUT.unpack(blob))

    def to_bytes(self) -> bytes:
        return _LAYOUT.pack(
            self.sequence,
            self.total_drops,
            self.parent_hash,
            self.transaction_hash,
            self.account_hash,
            self.parent_close_time,
            self.close_time,
            self.close_time_resolution,
            self.close_flags,
        )

    @property
    def hash(self) -> bytes:
        return sha512_half(PREFIX_LEDGER_MASTER, self.to_bytes())

    def to_json(self, api_version: int = 1) -> dict[str, Any]:
        """The header as rippled's ``ledger`` answer shows it (without transactions).

        ``ledger_index`` is a string in API v1 and a number in v2; ``total_coins``
        is a string in both.
        """
        return {
            "account_hash": self.account_hash.hex().upper(),
            "close_flags": self.close_flags,
            "close_time": self.close_time,
            "close_time_human": ripple_time_human(self.close_time),
            "close_time_iso": ripple_time_iso(self.close_time),
            "close_time_resolution": self.close_time_resolution,
            "closed": True,
            "ledger_hash": self.hash.hex().upper(),
            "ledger_index": str(self.sequence) if api_version < 2 else self.sequence,
            "parent_close_time": self.parent_close_time,
            "parent_hash": self.parent_hash.hex().upper(),
            "total_coins": str(self.total_drops),
            "transaction_hash": self.transaction_hash.hex().upper(),
        }
