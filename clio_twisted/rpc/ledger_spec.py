"""The ledger selection most commands share: ``ledger_hash`` / ``ledger_index``, as rippled parses them.

Parsing (pure, in a handler's ``parse``):

- ``ledger_hash``: a string of 64 hex digits, else ``invalidParams``
  ``ledgerHashNotString`` / ``ledgerHashMalformed`` (rippled's lookupLedger
  and its recorded 3.1.1 answer; Clio says ``ledger_hashNotString`` /
  ``ledger_hashMalformed``); null is no hash, as in rippled; it wins over
  ``ledger_index``.
- ``ledger_index``: a non-negative integer, a string of decimal digits (an
  unsigned 32-bit number), or ``"validated"`` (the newest stored ledger); else
  ``invalidParams`` ``ledgerIndexMalformed`` (a negative integer too, as rippled
  answers; Clio casts it and answers ``lgrNotFound``).
- ``as_clio=True`` keeps Clio's two differences above, for Clio's own methods
  (docs/conformance.md: rippled's answer for rippled's methods, Clio's for Clio's).
- ``"current"`` and ``"closed"`` are rippled's open
  ledgers: the forwarder relays such requests before any handler runs; without
  one they are answered ``notSupported``.
- neither: the newest stored ledger.

Resolving (in ``process``): a hash not stored, or a sequence outside the stored
range, is ``lgrNotFound`` with the message ``ledgerNotFound``.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.rpc.context import Context, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, invalid_params

OPEN_LEDGER_NAMES = ("current", "closed")
_HEX = frozenset("0123456789abcdefABCDEF")
_U32_MAX = 0xFFFFFFFF


@frozen
class LedgerSpec:
    """Which ledger a request asks for: by hash, by sequence, or (both None) the newest stored."""

    ledger_hash: bytes | None = None
    sequence: int | None = None


def parse_hash256(value: Any, key: str) -> bytes:
    """A 64-hex-digit field as 32 bytes, with Clio's ``<key>NotString`` / ``<key>Malformed`` errors."""
    if not isinstance(value, str):
        raise invalid_params(f"{key}NotString")
    if len(value) != 64 or not _HEX.issuperset(value):
        raise invalid_params(f"{key}Malformed")
    return bytes.fromhex(value)


def parse_ledger_index(value: Any, as_clio: bool = False) -> int | None:
    """``ledger_index`` as a sequence, or None for ``"validated"``."""
    if isinstance(value, bool):
        raise invalid_params("ledgerIndexMalformed")
    if isinstance(value, int):
        if value < 0 and not as_clio:
            raise invalid_params("ledgerIndexMalformed")
        # Huge values are simply not found (Clio casts negatives too: not found).
        return value
    if isinstance(value, str):
        if value == "validated":
            return None
        if value in OPEN_LEDGER_NAMES:
            raise RPCError(
                RippledError.notSupported,
                f"ledger_index '{value}' needs rippled, which is not configured for forwarding",
            )
        if value.isascii() and value.isdigit() and int(value) <= _U32_MAX:
            return int(value)
    raise invalid_params("ledgerIndexMalformed")


def parse_ledger_hash(value: Any, as_clio: bool = False) -> bytes:
    """``ledger_hash`` with rippled's messages (``ledgerHashNotString``/``ledgerHashMalformed``) or Clio's."""
    if as_clio:
        return parse_hash256(value, "ledger_hash")
    if not isinstance(value, str):
        raise invalid_params("ledgerHashNotString")
    if len(value) != 64 or not _HEX.issuperset(value):
        raise invalid_params("ledgerHashMalformed")
    return bytes.fromhex(value)


def parse_ledger_spec(params: JsonDict, as_clio: bool = False) -> LedgerSpec:
    """Read ``ledger_hash`` and ``ledger_index`` from a request's parameters (rippled's errors, or Clio's)."""
    ledger_hash = None
    if "ledger_hash" in params and (as_clio or params["ledger_hash"] is not None):
        ledger_hash = parse_ledger_hash(params["ledger_hash"], as_clio)
    sequence = None
    if "ledger_index" in params:
        sequence = parse_ledger_index(params["ledger_index"], as_clio)
    if ledger_hash is not None:
        return LedgerSpec(ledger_hash=ledger_hash)
    return LedgerSpec(sequence=sequence)


@frozen
class LedgerThenParams:
    """The input of a command whose fields are all checked after its ledger is chosen.

    rippled's ``amm_info``, ``book_offers`` and ``vault_info`` read the ledger
    first and every other field later, so their errors carry the ledger's
    fields: ``parse`` only reads the ledger and keeps the rest for ``process``.
    """

    ledger: LedgerSpec
    params: JsonDict


def parse_ledger_then_params(params: JsonDict, api_version: int) -> LedgerThenParams:
    """A handler's ``parse`` for :class:`LedgerThenParams`: the ledger now, a copy of the fields for later."""
    return LedgerThenParams(parse_ledger_spec(params), dict(params))


def _not_found() -> RPCError:
    return RPCError(RippledError.lgrNotFound, "ledgerNotFound")


async def select_ledger(ctx: Context, spec: LedgerSpec) -> LedgerHeader:
    """The header of the selected stored ledger, read through the backend; ``lgrNotFound`` if absent."""
    stored = ctx.require_range()
    if spec.ledger_hash is not None:
        blob = await ctx.backend.fetch_ledger_by_hash(spec.ledger_hash)
        if blob is None:
            raise _not_found()
        header = LedgerHeader.from_bytes(blob)
        if header.sequence not in stored:
            raise _not_found()
        return header
    sequence = stored.max_sequence if spec.sequence is None else spec.sequence
    if sequence not in stored:
        raise _not_found()
    blob = await ctx.backend.fetch_ledger_by_sequence(sequence)
    if blob is None:
        raise _not_found()
    return LedgerHeader.from_bytes(blob)
