"""``book_offers``: one order book's offers, best quality first, with what each can actually deliver.

Validation follows rippled field by field (``taker_pays`` before ``taker_gets``,
currency before issuer, then ``taker``, ``domain``, the same-asset check and
``limit``), with rippled's specific errors (``srcCurMalformed``,
``dstAmtMalformed``, ``srcIsrMalformed``, ``dstIsrMalformed``, ``badMarket``,
``domainMalformed``); all come after the ledger is chosen. rippled answers no
marker for books: a page is the first ``limit`` offers (default 60; 0 to 100
for non-admin clients).
"""

from __future__ import annotations

from typing import Any

from clio_twisted.protocol import keylets
from clio_twisted.rpc.account_params import (
    BOOK_OFFERS,
    clamp_limit,
    ledger_fields,
    parse_account,
    read_limit,
)
from clio_twisted.rpc.books import Issue, book_offers
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, invalid_field, missing_field
from clio_twisted.rpc.ledger_spec import (
    LedgerThenParams,
    parse_ledger_then_params,
    select_ledger,
)

NAME = "book_offers"
_ISO = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789?!@#$%^&*<>(){}[]|")
_HEX = frozenset("0123456789abcdefABCDEF")
_NO_ACCOUNT = bytes(19) + b"\x01"


Input = LedgerThenParams
parse = parse_ledger_then_params


def parse_currency(text: str) -> bytes | None:
    """rippled's ``to_currency``: "" or "XRP", three ISO characters, or 40 hex digits."""
    if text in ("", "XRP"):
        return keylets.XRP_CURRENCY
    if len(text) == 3 and _ISO.issuperset(text):
        return keylets.currency_code(text)
    if len(text) == 40 and _HEX.issuperset(text):
        return bytes.fromhex(text)
    return None


def parse_issuer(text: str) -> bytes | None:
    """rippled's ``to_issuer``: 40 hex digits or a classic address."""
    if len(text) == 40 and _HEX.issuperset(text):
        return bytes.fromhex(text)
    return parse_account(text)


def _error(error: RippledError, message: str) -> RPCError:
    return RPCError(error, message)


def _side(obj: Any, name: str, cur_error: RippledError, isr_error: RippledError) -> Issue:
    currency = parse_currency(obj["currency"])
    if currency is None:
        raise _error(cur_error, f"Invalid field '{name}.currency', bad currency.")
    issuer = keylets.XRP_ISSUER
    if "issuer" in obj:
        if not isinstance(obj["issuer"], str):
            raise invalid_field(f"{name}.issuer", "not string")
        parsed = parse_issuer(obj["issuer"])
        if parsed is None:
            raise _error(isr_error, f"Invalid field '{name}.issuer', bad issuer.")
        if parsed == _NO_ACCOUNT:
            raise _error(isr_error, f"Invalid field '{name}.issuer', bad issuer account one.")
        issuer = parsed
    xrp_currency = currency == keylets.XRP_CURRENCY
    xrp_issuer = issuer == keylets.XRP_ISSUER
    if xrp_currency and not xrp_issuer:
        raise _error(isr_error, f"Unneeded field '{name}.issuer' for XRP currency specification.")
    if not xrp_currency and xrp_issuer:
        raise _error(isr_error, f"Invalid field '{name}.issuer', expected non-XRP issuer.")
    return Issue(currency, issuer)


def _validate(params: JsonDict) -> tuple[Issue, Issue, bytes | None, bytes | None]:
    for name in ("taker_pays", "taker_gets"):
        if name not in params:
            raise missing_field(name)
    pays_obj, gets_obj = params["taker_pays"], params["taker_gets"]
    for name, obj in (("taker_pays", pays_obj), ("taker_gets", gets_obj)):
        if obj is not None and not isinstance(obj, dict):
            raise invalid_field(name, "not object")
    pays_obj, gets_obj = pays_obj or {}, gets_obj or {}
    for name, obj in (("taker_pays", pays_obj), ("taker_gets", gets_obj)):
        if "currency" not in obj:
            raise missing_field(f"{name}.currency")
        if not isinstance(obj["currency"], str):
            raise invalid_field(f"{name}.currency", "not string")
    pays_currency = parse_currency(pays_obj["currency"])
    if pays_currency is None:
        raise _error(
            RippledError.srcCurMalformed, "Invalid field 'taker_pays.currency', bad currency."
        )
    if parse_currency(gets_obj["currency"]) is None:
        raise _error(
            RippledError.dstAmtMalformed, "Invalid field 'taker_gets.currency', bad currency."
        )
    pays = _side(pays_obj, "taker_pays", RippledError.srcCurMalformed, RippledError.srcIsrMalformed)
    gets = _side(gets_obj, "taker_gets", RippledError.dstAmtMalformed, RippledError.dstIsrMalformed)
    taker = None
    if "taker" in params:
        if not isinstance(params["taker"], str):
            raise invalid_field("taker", "not string")
        taker = parse_account(params["taker"])
        if taker is None:
            raise invalid_field("taker")
    domain = None
    if "domain" in params:
        value = params["domain"]
        if not isinstance(value, str) or len(value) != 64 or not _HEX.issuperset(value):
            raise _error(RippledError.domainMalformed, "Unable to parse domain.")
        domain = bytes.fromhex(value)
    if pays == gets:
        raise RPCError(RippledError.badMarket)
    return pays, gets, taker, domain


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    pays, gets, taker, domain = _validate(inp.params)
    limit = clamp_limit(ctx, read_limit(inp.params), BOOK_OFFERS)
    offers = await book_offers(ctx, header.sequence, pays, gets, taker, limit, domain)
    return {**ledger_fields(header), "offers": offers}


HANDLER = Handler(NAME, parse, process)
