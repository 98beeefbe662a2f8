"""Order books: walking a book's offers in quality order and working out how much of each is funded.

As rippled's ``getBookPage``: quality directories are visited from the book's
base key upward (best quality first), each directory's pages in order; every
offer is shown with ``quality`` (its directory's rate) and, on the first offer
of each owner, ``owner_funds`` (what the owner can spend of the asset it sells:
XRP above its reserve, or its trust line balance, zero when the line or the
issuer is frozen). An owner's later offers are funded from what its earlier
ones left. When an offer is not fully funded, ``taker_gets_funded`` and
``taker_pays_funded`` say what it can deliver; an issuer's transfer fee is
charged to owners other than the issuer unless the taker is the issuer.

Arithmetic follows rippled's STAmount ``divide`` (integer mantissa
arithmetic with its +5 bias) and ``multiply`` (a 19-digit ``Number``
product), each result canonicalised to an amount of 16 digits (tokens) or
whole drops (XRP), rounding to nearest.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from decimal import Context as DecimalContext
from typing import Any

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import decode_address, encode_account_id
from clio_twisted.protocol.amounts import decimal_text
from clio_twisted.protocol.codec import decode
from clio_twisted.protocol.render import render_ledger_entry
from clio_twisted.rpc.context import Context, JsonDict
from clio_twisted.rpc.owner_funds import account_funds

_AMOUNT = DecimalContext(prec=16, rounding=ROUND_HALF_EVEN)
PARITY = 1_000_000_000
_GLOBAL_FREEZE = 0x00400000
_LOW_FREEZE, _HIGH_FREEZE = 0x00400000, 0x00800000


@frozen
class Issue:
    """A book side: (currency, issuer) as 20-byte codes; XRP is all zeros for both."""

    currency: bytes
    issuer: bytes

    @property
    def is_xrp(self) -> bool:
        return self.currency == keylets.XRP_CURRENCY

    def key(self) -> tuple[bytes, bytes]:
        return (self.currency, self.issuer)


def to_decimal(amount: Any) -> Decimal:
    """An amount's JSON (drops string or token object) as a Decimal (drops for XRP)."""
    if isinstance(amount, str):
        return Decimal(amount)
    return Decimal(amount["value"])


_MIN_MANTISSA = 10**15
_NUMBER = DecimalContext(prec=19, rounding=ROUND_HALF_EVEN)


def _parts(value: Decimal, xrp: bool) -> tuple[int, int]:
    """An amount as rippled's (mantissa, exponent): drops for XRP, else a 16-digit mantissa."""
    if value == 0:
        return 0, 0
    sign, digits, exp = abs(value).normalize().as_tuple()
    mantissa, exponent = int("".join(map(str, digits))), int(exp)
    if xrp and exponent > 0:
        mantissa, exponent = mantissa * 10**exponent, 0
    while mantissa < _MIN_MANTISSA:
        mantissa *= 10
        exponent -= 1
    while mantissa >= 10 * _MIN_MANTISSA:
        mantissa //= 10
        exponent += 1
    return mantissa, exponent


def divide(num: Decimal, den: Decimal, xrp_result: bool) -> Decimal:
    """rippled's ``divide``: ``muldiv(num, 10**17, den) + 5``, then canonicalised."""
    if num == 0:
        return Decimal(0)
    nm, ne = _parts(num, False)
    dm, de = _parts(den, False)
    value = Decimal(nm * 10**17 // dm + 5).scaleb(ne - de - 17)
    if (num < 0) != (den < 0):
        value = -value
    return round_amount(value, xrp_result)


def multiply(a: Decimal, b: Decimal, xrp_result: bool) -> Decimal:
    """rippled's ``multiply`` once fixUniversalNumber is on: a ``Number`` product, canonicalised."""
    return round_amount(_NUMBER.multiply(a, b), xrp_result)


def round_amount(value: Decimal, xrp: bool) -> Decimal:
    """A Number result as the STAmount rippled stores: whole drops, or 16 significant digits."""
    if xrp:
        return value.to_integral_value(rounding=ROUND_HALF_EVEN)
    return _AMOUNT.plus(value)


def amount_text(value: Decimal, xrp: bool) -> str:
    """rippled's ``STAmount::getText``."""
    if xrp:
        return str(int(value))
    if value == 0:
        return "0"
    sign, digits, exponent = value.normalize(_AMOUNT).as_tuple()
    mantissa = int("".join(map(str, digits)))
    exp = int(exponent)
    while mantissa < 10**15:
        mantissa *= 10
        exp -= 1
    return decimal_text(bool(sign), mantissa, exp)


def amount_json(value: Decimal, issue: Issue) -> Any:
    if issue.is_xrp:
        return amount_text(value, True)
    return {
        "currency": _currency_json(issue.currency),
        "issuer": encode_account_id(issue.issuer),
        "value": amount_text(value, False),
    }


def _currency_json(code: bytes) -> str:
    if code[:12] == bytes(12) and code[15:] == bytes(5):
        return code[12:15].decode("ascii")
    return code.hex().upper()


def quality_amount(quality: int) -> Decimal:
    """A directory's quality (rippled's ``amountFromQuality``) as a number."""
    mantissa = quality & ((1 << 56) - 1)
    exponent = (quality >> 56) - 100
    return Decimal(mantissa).scaleb(exponent)


def quality_text(quality: int) -> str:
    mantissa = quality & ((1 << 56) - 1)
    return decimal_text(False, mantissa, (quality >> 56) - 100)


async def _root(ctx: Context, seq: int, account: bytes) -> JsonDict | None:
    blob = await ctx.backend.fetch_ledger_object(keylets.account(account), seq)
    return None if blob is None else decode(blob)


async def line_frozen(ctx: Context, seq: int, owner: bytes, issue: Issue) -> bool:
    """Whether the issuer froze ``owner``'s trust line for ``issue``."""
    blob = await ctx.backend.fetch_ledger_object(
        keylets.line(owner, issue.issuer, issue.currency), seq
    )
    if blob is None:
        return False
    flags = int(decode(blob).get("Flags", 0))
    return bool(flags & (_HIGH_FREEZE if issue.issuer > owner else _LOW_FREEZE))


async def owner_holds(ctx: Context, seq: int, owner: bytes, issue: Issue) -> Decimal:
    """What ``owner`` can spend of ``issue`` (rippled's ``accountHolds``, zero if frozen)."""
    if issue.is_xrp:
        return Decimal(await account_funds(ctx, seq, encode_account_id(owner), "0"))
    if await line_frozen(ctx, seq, owner, issue):
        return Decimal(0)
    gets = {"currency": _currency_json(issue.currency), "issuer": encode_account_id(issue.issuer)}
    return Decimal(await account_funds(ctx, seq, encode_account_id(owner), gets))


async def book_offers(
    ctx: Context,
    seq: int,
    pays: Issue,
    gets: Issue,
    taker: bytes | None,
    limit: int,
    domain: bytes | None = None,
) -> list[JsonDict]:
    """Up to ``limit`` offers of the book where takers pay ``pays`` and get ``gets``, best first."""
    backend = ctx.backend
    base = keylets.book_base(pays.key(), gets.key(), domain)
    end = keylets.quality_key(base, (1 << 64) - 1)
    frozen_books = False
    rate = PARITY
    for issue in (gets, pays):
        if issue.is_xrp:
            continue
        root = await _root(ctx, seq, issue.issuer)
        if root is not None and int(root.get("Flags", 0)) & _GLOBAL_FREEZE:
            frozen_books = True
    if not gets.is_xrp:
        root = await _root(ctx, seq, gets.issuer)
        if root is not None:
            rate = int(root.get("TransferRate", PARITY)) or PARITY
    balances: dict[bytes, Decimal] = {}
    offers: list[JsonDict] = []
    tip = base
    while len(offers) < limit:
        tip_next = await backend.fetch_successor_key(tip, seq)
        if tip_next is None or tip_next >= end or tip_next[:24] != base[:24]:
            break
        tip = tip_next
        dir_rate = quality_amount(keylets.key_quality(tip))
        dir_text = quality_text(keylets.key_quality(tip))
        page_key: bytes | None = tip
        while page_key is not None and len(offers) < limit:
            blob = await backend.fetch_ledger_object(page_key, seq)
            if blob is None:
                break
            page = decode(blob)
            keys = [bytes.fromhex(k) for k in page.get("Indexes", [])]
            keys = keys[: limit - len(offers)]
            blobs = await backend.fetch_ledger_objects(keys, seq)
            for key, offer_blob in zip(keys, blobs, strict=True):
                if offer_blob is None:
                    continue
                offers.append(
                    await _offer(
                        ctx,
                        seq,
                        key,
                        offer_blob,
                        gets,
                        taker,
                        rate,
                        dir_rate,
                        dir_text,
                        frozen_books,
                        balances,
                    )
                )
            following = int(page.get("IndexNext", "0"), 16)
            page_key = keylets.page(tip, following) if following else None
    return offers


async def _offer(
    ctx: Context,
    seq: int,
    key: bytes,
    blob: bytes,
    gets: Issue,
    taker: bytes | None,
    rate: int,
    dir_rate: Decimal,
    dir_text: str,
    frozen_books: bool,
    balances: dict[bytes, Decimal],
) -> JsonDict:
    offer = render_ledger_entry(blob, key)
    owner = decode_address(offer["Account"])
    taker_gets = to_decimal(offer["TakerGets"])
    taker_pays = to_decimal(offer["TakerPays"])
    pays_xrp = isinstance(offer["TakerPays"], str)
    first = True
    if gets.issuer == owner and not gets.is_xrp:
        funds = taker_gets
    elif frozen_books:
        funds = Decimal(0)
    elif owner in balances:
        funds = balances[owner]
        first = False
    else:
        funds = max(Decimal(0), await owner_holds(ctx, seq, owner, gets))
    offer_rate = PARITY
    limit_funds = funds
    if rate != PARITY and taker != gets.issuer and gets.issuer != owner:
        offer_rate = rate
        limit_funds = divide(funds, Decimal(rate).scaleb(-9), gets.is_xrp)
    if limit_funds >= taker_gets:
        funded = taker_gets
    else:
        funded = limit_funds
        offer["taker_gets_funded"] = amount_json(funded, gets)
        pays_funded = multiply(funded, dir_rate, pays_xrp)
        pays_value = min(taker_pays, pays_funded)
        if pays_xrp:
            offer["taker_pays_funded"] = amount_text(pays_value, True)
        else:
            pays_json = dict(offer["TakerPays"])
            pays_json["value"] = amount_text(pays_value, False)
            offer["taker_pays_funded"] = pays_json
    if offer_rate == PARITY:
        owner_pays = funded
    else:
        charged = multiply(funded, Decimal(offer_rate).scaleb(-9), gets.is_xrp)
        owner_pays = min(funds, charged)
    balances[owner] = funds - owner_pays
    offer["quality"] = dir_text
    if first:
        offer["owner_funds"] = amount_text(funds, gets.is_xrp)
    return offer


async def is_frozen(ctx: Context, seq: int, holder: bytes, issue: Issue) -> bool:
    """rippled's ``isFrozen``: the issuer froze everything (global freeze) or this holder's line."""
    if issue.is_xrp:
        return False
    root = await _root(ctx, seq, issue.issuer)
    if root is not None and int(root.get("Flags", 0)) & _GLOBAL_FREEZE:
        return True
    return await line_frozen(ctx, seq, holder, issue)
