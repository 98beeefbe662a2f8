"""``account_nfts``: the NFTokens an account holds, in NFToken page order.

As rippled 3.1.1: ``limit`` (20 to 400 for non-admin clients, default 100;
an admin's 0 means no limit) and a marker that is the id of the last token
returned; a marker that names none of the account's tokens is ``Invalid field
'marker'.`` A page that reaches the limit carries ``limit`` and ``marker``
(even when no token follows) and, as rippled answers it, no ``account``.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.protocol.codec import decode
from clio_twisted.rpc.account_params import (
    ACCOUNT_NFTS,
    clamp_limit,
    ledger_fields,
    lenient_account_text,
    parse_account,
    read_limit,
    require_account_root,
)
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, invalid_field
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.nft_fields import nft_id_fields

NAME = "account_nfts"
_HEX = frozenset("0123456789abcdefABCDEF")


@frozen
class Input:
    account: str
    ledger: LedgerSpec
    params: JsonDict  # limit and marker: read after the account, as rippled


def _marker(value: Any) -> bytes:
    if not isinstance(value, str):
        raise invalid_field("marker", "not string")
    if len(value) != 64 or not _HEX.issuperset(value):
        raise invalid_field("marker")
    return bytes.fromhex(value)


def parse(params: JsonDict, api_version: int) -> Input:
    return Input(
        account=lenient_account_text(params),
        ledger=parse_ledger_spec(params),
        params=dict(params),
    )


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    fields = ledger_fields(header)
    account = parse_account(inp.account)
    if account is None:
        raise RPCError(RippledError.actMalformed)
    seq = header.sequence
    await require_account_root(ctx, account, seq)
    backend = ctx.backend
    limit = clamp_limit(ctx, read_limit(inp.params), ACCOUNT_NFTS)
    marker_in = _marker(inp.params["marker"]) if "marker" in inp.params else None
    nfts: list[JsonDict] = []
    past_marker = marker_in is None
    key = await backend.fetch_successor_key(keylets.nftoken_page_min(account), seq)
    last = keylets.nftoken_page_max(account)
    page_key: bytes | None = key if key is not None and key <= last else None
    while page_key is not None:
        blob = await backend.fetch_ledger_object(page_key, seq)
        if blob is None:
            break
        page = decode(blob)
        for wrapper in page.get("NFTokens", []):
            token = wrapper["NFToken"]
            token_id = bytes.fromhex(token["NFTokenID"])
            if not past_marker:
                past_marker = token_id == marker_in
                continue
            nfts.append({**token, **nft_id_fields(token_id)})
            if len(nfts) == limit:
                return {
                    **fields,
                    "account_nfts": nfts,
                    "limit": limit,
                    "marker": token["NFTokenID"],
                }
        following = page.get("NextPageMin")
        page_key = bytes.fromhex(following) if following else None
    if not past_marker:
        raise invalid_field("marker")
    return {"account": inp.account, **fields, "account_nfts": nfts}


HANDLER = Handler(NAME, parse, process)
