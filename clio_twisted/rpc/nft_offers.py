"""``nft_buy_offers`` / ``nft_sell_offers``: one NFToken's offers of one kind, from its offer directory.

As rippled: ``nft_id`` must be 64 hex digits (``Invalid field 'nft_id'.``);
an NFT with no such directory is ``objectNotFound``; ``limit`` is 50 to 500
for non-admin clients (default 250). The marker is the index of the first
offer *not* returned: the next page starts with that offer, which must be an
offer for this NFT (``invalidParams`` otherwise). The answer carries no ledger
fields, as rippled's does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.protocol.codec import decode
from clio_twisted.rpc.account_params import NFT_OFFERS, clamp_limit, read_limit
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, invalid_field, missing_field
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.owner_dir import dir_items

_HEX = frozenset("0123456789abcdefABCDEF")


@frozen
class Input:
    nft_id: bytes
    ledger: LedgerSpec
    limit: int | None
    has_marker: bool
    marker: Any


def parse(params: JsonDict, api_version: int) -> Input:
    if "nft_id" not in params:
        raise missing_field("nft_id")
    value = params["nft_id"]
    if not isinstance(value, str) or len(value) != 64 or not _HEX.issuperset(value):
        raise invalid_field("nft_id")
    return Input(
        bytes.fromhex(value),
        parse_ledger_spec(params),
        read_limit(params),
        "marker" in params,
        params.get("marker"),
    )


def offer_json(key: bytes, offer: JsonDict) -> JsonDict:
    out: JsonDict = {
        "amount": offer["Amount"],
        "flags": int(offer.get("Flags", 0)),
        "nft_offer_index": key.hex().upper(),
        "owner": offer["Owner"],
    }
    for field, name in (("Destination", "destination"), ("Expiration", "expiration")):
        if field in offer:
            out[name] = offer[field]
    return out


def _bad_marker() -> RPCError:
    return RPCError(RippledError.invalidParams)


def make_process(directory: Callable[[bytes], bytes]) -> Callable[[Context, Input], Any]:
    async def process(ctx: Context, inp: Input) -> JsonDict:
        header = await select_ledger(ctx, inp.ledger)
        seq = header.sequence
        limit = clamp_limit(ctx, inp.limit, NFT_OFFERS)
        root = directory(inp.nft_id)
        if await ctx.backend.fetch_ledger_object(root, seq) is None:
            raise RPCError(RippledError.objectNotFound)
        offers: list[tuple[bytes, JsonDict]] = []
        after, hint, wanted = None, 0, limit + 1
        if inp.has_marker:
            if not isinstance(inp.marker, str):
                raise invalid_field("marker", "not string")
            if len(inp.marker) != 64 or not _HEX.issuperset(inp.marker):
                raise _bad_marker()
            after = bytes.fromhex(inp.marker)
            blob = await ctx.backend.fetch_ledger_object(after, seq)
            first = decode(blob) if blob is not None else {}
            if (
                first.get("LedgerEntryType") != "NFTokenOffer"
                or first.get("NFTokenID") != inp.nft_id.hex().upper()
            ):
                raise _bad_marker()
            hint = int(first.get("NFTokenOfferNode", "0"), 16)
            offers.append((after, first))
            wanted = limit
        collected: list[tuple[bytes, JsonDict]] = []
        if wanted > 0:
            async for key, blob in dir_items(ctx, seq, root, after, hint):
                obj = decode(blob)
                if obj.get("LedgerEntryType") != "NFTokenOffer":
                    continue
                collected.append((key, obj))
                if len(collected) == wanted:
                    break
        out: JsonDict = {"nft_id": inp.nft_id.hex().upper()}
        if len(collected) == wanted:
            out["limit"] = limit
            out["marker"] = collected[-1][0].hex().upper()
            collected.pop()
        out["offers"] = [offer_json(key, obj) for key, obj in offers + collected]
        return out

    return process


def make_handler(name: str, directory: Callable[[bytes], bytes]) -> Handler[Input]:
    return Handler(name, parse, make_process(directory))


BUY = make_handler("nft_buy_offers", keylets.nft_buy_offers)
SELL = make_handler("nft_sell_offers", keylets.nft_sell_offers)
