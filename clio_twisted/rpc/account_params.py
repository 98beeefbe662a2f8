"""Request fields the account commands share, read as rippled reads them.

rippled validates an account command in a fixed order: the ``account`` field's
presence and type (``Missing field 'account'.`` / ``Invalid field 'account'.``)
before anything else, then the ledger, and only then whether the string is an
address. Errors found after the ledger was chosen carry that ledger's
``ledger_hash``/``ledger_index``/``validated`` (:func:`ledger_fields`); errors
found before do not. ``limit`` is read by :func:`read_limit` and clamped to a
command's range (:class:`Tuning`) only for non-admin clients, as rippled does.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import AddressError, decode_address
from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.rpc.context import Context, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, invalid_field, missing_field
from clio_twisted.rpc.ledger_spec import LedgerSpec, select_ledger
from clio_twisted.rpc.markers import is_integral


@frozen
class Tuning:
    """A paged command's limit range (rippled's ``RPC::Tuning``): minimum, default, maximum."""

    minimum: int
    default: int
    maximum: int


ACCOUNT_LINES = Tuning(10, 200, 400)
ACCOUNT_CHANNELS = Tuning(10, 200, 400)
ACCOUNT_OBJECTS = Tuning(10, 200, 400)
ACCOUNT_OFFERS = Tuning(10, 200, 400)
ACCOUNT_NFTS = Tuning(20, 100, 400)
BOOK_OFFERS = Tuning(0, 60, 100)
NORIPPLE_CHECK = Tuning(10, 300, 400)
NFT_OFFERS = Tuning(50, 250, 500)


def ledger_fields(header: LedgerHeader) -> JsonDict:
    """The fields rippled puts in every answer (and late error) about a chosen ledger."""
    return {
        "ledger_hash": header.hash.hex().upper(),
        "ledger_index": header.sequence,
        "validated": True,
    }


def lenient_account_text(params: JsonDict) -> str:
    """The ``account`` string, ``""`` when it is not a string (so ``actMalformed`` after the ledger).

    Absent is ``Missing field 'account'.``, as with :func:`account_text`.
    """
    if "account" not in params:
        raise missing_field("account")
    account = params["account"]
    return account if isinstance(account, str) else ""


def account_text(params: JsonDict, name: str = "account") -> str:
    """The raw ``account`` string; rippled's errors for a missing or non-string field."""
    if name not in params:
        raise missing_field(name)
    value = params[name]
    if not isinstance(value, str):
        raise invalid_field(name)
    return value


def parse_account(text: str) -> bytes | None:
    """The 20-byte id of a classic address, or None when ``text`` is not one."""
    try:
        return decode_address(text)
    except AddressError:
        return None


def require_account(text: str, header: LedgerHeader | None = None) -> bytes:
    """The account id of ``text``, else ``actMalformed`` (with the ledger's fields if one was chosen)."""
    account = parse_account(text)
    if account is None:
        extra = ledger_fields(header) if header is not None else None
        raise RPCError(RippledError.actMalformed, extra=extra)
    return account


async def require_account_root(ctx: Context, account: bytes, sequence: int) -> bytes:
    """The AccountRoot blob of ``account`` in ledger ``sequence``; a bare ``actNotFound`` when it has none."""
    blob = await ctx.backend.fetch_ledger_object(keylets.account(account), sequence)
    if blob is None:
        raise RPCError(RippledError.actNotFound)
    return blob


async def select_account(ctx: Context, spec: LedgerSpec, text: str) -> tuple[LedgerHeader, bytes]:
    """The chosen ledger and the account of ``text`` in it, checked in rippled's order.

    Ledger first; then ``actMalformed`` (with the ledger's fields) for a string
    that is not an address, and a bare ``actNotFound`` when it has no AccountRoot.
    """
    header = await select_ledger(ctx, spec)
    account = require_account(text, header)
    await require_account_root(ctx, account, header.sequence)
    return header, account


def read_limit(params: JsonDict) -> int | None:
    """``limit`` as given (None if absent); else ``Invalid field 'limit', not unsigned integer.``"""
    if "limit" not in params:
        return None
    value: Any = params["limit"]
    if not is_integral(value) or value < 0 or value > 0xFFFFFFFF:
        raise invalid_field("limit", "not unsigned integer")
    return int(value)


def clamp_limit(ctx: Context, limit: int | None, tuning: Tuning) -> int:
    """The limit a request gets: the default when absent, clamped for non-admin clients."""
    if limit is None:
        return tuning.default
    if ctx.is_admin:
        return limit
    return max(tuning.minimum, min(tuning.maximum, limit))


def clamp_nonzero_limit(ctx: Context, limit: int | None, tuning: Tuning) -> int:
    """:func:`clamp_limit` for the owner-directory commands, where a limit of 0 is ``invalidParams``."""
    limit = clamp_limit(ctx, limit, tuning)
    if limit == 0:
        raise RPCError(RippledError.invalidParams)
    return limit
