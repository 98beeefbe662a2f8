"""``mpt_holders`` (Clio's own): the accounts holding one MPToken issuance, paged by holder.

As Clio: ``mpt_issuance_id`` is required, 48 hex digits; ``limit`` 1-100
(default 50, larger clamped); the marker is the backend's cursor in hex. An
issuance absent from the ledger is ``objectNotFound``. Each holder shows its
account, MPToken flags, ``mpt_amount`` (base ten), ``mptoken_index`` and
``locked_amount`` when set.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.protocol.codec import decode
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, invalid_params
from clio_twisted.rpc.handlers.nft_info import parse_hex_id
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.markers import clio_limit

NAME = "mpt_holders"
_HEX = frozenset("0123456789abcdefABCDEF")


@frozen
class Input:
    issuance_id: bytes
    limit: int
    marker: bytes | None
    ledger: LedgerSpec


def parse(params: JsonDict, api_version: int) -> Input:
    issuance = parse_hex_id(params, "mpt_issuance_id", 24)
    limit = clio_limit(params)
    marker: Any = params.get("marker")
    if marker is not None and (
        not isinstance(marker, str) or not marker or len(marker) % 2 or not _HEX.issuperset(marker)
    ):
        raise invalid_params("markerMalformed")
    return Input(
        issuance,
        limit,
        bytes.fromhex(marker) if marker else None,
        parse_ledger_spec(params, as_clio=True),
    )


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    seq = header.sequence
    if await ctx.backend.fetch_ledger_object(keylets.mpt_issuance(inp.issuance_id), seq) is None:
        raise RPCError(RippledError.objectNotFound)
    keys, cursor = await ctx.backend.fetch_mpt_holders(inp.issuance_id, inp.limit, inp.marker, seq)
    blobs = await ctx.backend.fetch_ledger_objects(keys, seq)
    holders = []
    for key, blob in zip(keys, blobs, strict=True):
        if blob is None:
            continue
        token = decode(blob)
        item: JsonDict = {
            "account": token["Account"],
            "flags": int(token.get("Flags", 0)),
            "mpt_amount": str(token.get("MPTAmount", "0")),
            "mptoken_index": key.hex().upper(),
        }
        if "LockedAmount" in token:
            item["locked_amount"] = str(token["LockedAmount"])
        holders.append(item)
    out: JsonDict = {
        "mpt_issuance_id": inp.issuance_id.hex().upper(),
        "limit": inp.limit,
        "ledger_index": seq,
        "mptokens": holders,
        "validated": True,
    }
    if cursor is not None:
        out["marker"] = cursor.hex().upper()
    return out


HANDLER = Handler(NAME, parse, process, clio_only=True)
