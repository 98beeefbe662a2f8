"""``nfts_by_issuer`` (Clio's own): the NFTokens one account minted, optionally of one taxon, paged.

As Clio: ``issuer`` is required (``issuerNotString`` / ``actMalformed``
``issuerMalformed``), ``nft_taxon`` an unsigned integer, ``limit`` 1-100
(default 50, larger clamped), ``marker`` the hex token id to continue after.
Each NFT is shown as ``nft_info`` shows it.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.protocol.addresses import encode_account_id
from clio_twisted.rpc.account_params import parse_account
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, invalid_params
from clio_twisted.rpc.handlers.nft_info import nft_json
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.markers import clio_limit, is_integral

NAME = "nfts_by_issuer"
_HEX = frozenset("0123456789abcdefABCDEF")


@frozen
class Input:
    issuer: bytes
    taxon: int | None
    limit: int
    marker: bytes | None
    ledger: LedgerSpec


def parse(params: JsonDict, api_version: int) -> Input:
    if "issuer" not in params:
        raise invalid_params("Required field 'issuer' missing")
    value: Any = params["issuer"]
    if not isinstance(value, str):
        raise invalid_params("issuerNotString")
    issuer = parse_account(value)
    if issuer is None:
        raise RPCError(RippledError.actMalformed, "issuerMalformed")
    taxon = params.get("nft_taxon")
    if taxon is not None and (not is_integral(taxon) or not 0 <= taxon <= 0xFFFFFFFF):
        raise RPCError(RippledError.invalidParams)
    limit = clio_limit(params)
    marker = params.get("marker")
    if marker is not None and (
        not isinstance(marker, str) or len(marker) != 64 or not _HEX.issuperset(marker)
    ):
        raise invalid_params("markerMalformed")
    return Input(
        issuer,
        taxon,
        limit,
        bytes.fromhex(marker) if marker else None,
        parse_ledger_spec(params, as_clio=True),
    )


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    page = await ctx.backend.fetch_nfts_by_issuer(
        inp.issuer, inp.taxon, inp.limit, inp.marker, header.sequence
    )
    out: JsonDict = {
        "issuer": encode_account_id(inp.issuer),
        "limit": inp.limit,
        "ledger_index": header.sequence,
        "nfts": [nft_json(nft) for nft in page.nfts],
        "validated": True,
    }
    if page.cursor is not None:
        out["marker"] = page.cursor.hex().upper()
    if inp.taxon is not None:
        out["nft_taxon"] = inp.taxon
    return out


HANDLER = Handler(NAME, parse, process, clio_only=True)
