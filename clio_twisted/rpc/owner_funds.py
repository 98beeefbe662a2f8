"""``owner_funds`` in an expanded ``ledger``: what an OfferCreate's account could spend of its TakerGets.

As rippled's ``accountFunds`` with freezes ignored, read in the ledger itself:
for XRP the balance above the account's reserve (none for AMM accounts), for
a token the holder's side of the trust line with the issuer, never below zero.
Offers whose account issues what it sells get no ``owner_funds``. In API v1 the
field sits in the flattened transaction; in v2 beside ``tx_json``.
"""

from __future__ import annotations

from typing import Any

from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import decode_address
from clio_twisted.protocol.codec import decode
from clio_twisted.rpc.context import Context, JsonDict


async def _reserve(ctx: Context, sequence: int, owner_count: int) -> int:
    blob = await ctx.backend.fetch_ledger_object(keylets.fees(), sequence)
    if blob is None:
        return 0
    fees = decode(blob)
    base = int(fees.get("ReserveBaseDrops", fees.get("ReserveBase", 0)))
    inc = int(fees.get("ReserveIncrementDrops", fees.get("ReserveIncrement", 0)))
    return base + owner_count * inc


async def account_funds(ctx: Context, sequence: int, account: str, taker_gets: Any) -> str:
    """The text of the spendable amount, as rippled's ``STAmount::getText``."""
    account_id = decode_address(account)
    if isinstance(taker_gets, str):
        blob = await ctx.backend.fetch_ledger_object(keylets.account(account_id), sequence)
        if blob is None:
            return "0"
        root = decode(blob)
        balance = int(root["Balance"])
        reserve = (
            0 if "AMMID" in root else await _reserve(ctx, sequence, int(root.get("OwnerCount", 0)))
        )
        return str(max(0, balance - reserve))
    issuer = decode_address(taker_gets["issuer"])
    key = keylets.line(account_id, issuer, keylets.currency_code(taker_gets["currency"]))
    blob = await ctx.backend.fetch_ledger_object(key, sequence)
    if blob is None:
        return "0"
    value: str = decode(blob)["Balance"]["value"]
    if account_id > issuer:  # the balance is kept from the low account's side
        value = value[1:] if value.startswith("-") else ("-" + value if value != "0" else value)
    return "0" if value.startswith("-") else value


async def add_owner_funds(ctx: Context, sequence: int, items: list[JsonDict]) -> None:
    """Add ``owner_funds`` to the expanded OfferCreate entries of a ``ledger`` answer, in place."""
    for item in items:
        tx = item.get("tx_json", item)
        if tx.get("TransactionType") != "OfferCreate":
            continue
        gets = tx.get("TakerGets")
        if isinstance(gets, dict) and gets.get("issuer") == tx.get("Account"):
            continue
        if not isinstance(gets, (str, dict)) or (isinstance(gets, dict) and "issuer" not in gets):
            continue
        item["owner_funds"] = await account_funds(ctx, sequence, tx["Account"], gets)
