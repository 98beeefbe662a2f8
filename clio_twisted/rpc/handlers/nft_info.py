"""``nft_info`` (Clio's own): one NFToken's owner, burn state, URI and id fields as of a ledger.

As Clio: ``nft_id`` is required and 64 hex digits (``nft_idNotString`` /
``nft_idMalformed``); an NFT the store never saw is ``objectNotFound``
"NFT not found". ``uri`` is the hex of the URI ("" when none or burned);
``ledger_index`` is the ledger of the NFT's last change, as Clio answers.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.backend.interface import NFT
from clio_twisted.protocol.addresses import encode_account_id
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, invalid_params
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.nft_fields import nft_id_fields

NAME = "nft_info"
_HEX = frozenset("0123456789abcdefABCDEF")


@frozen
class Input:
    nft_id: bytes
    ledger: LedgerSpec


def parse_hex_id(params: JsonDict, name: str, size: int) -> bytes:
    """A required hex id field with Clio's ``Required field`` / ``<name>NotString`` / ``<name>Malformed``."""
    if name not in params:
        raise invalid_params(f"Required field '{name}' missing")
    value: Any = params[name]
    if not isinstance(value, str):
        raise invalid_params(f"{name}NotString")
    if len(value) != 2 * size or not _HEX.issuperset(value):
        raise invalid_params(f"{name}Malformed")
    return bytes.fromhex(value)


def parse(params: JsonDict, api_version: int) -> Input:
    return Input(parse_hex_id(params, "nft_id", 32), parse_ledger_spec(params, as_clio=True))


def nft_json(nft: NFT) -> JsonDict:
    """One NFT as Clio's ``nft_info`` and ``nfts_by_issuer`` show it."""
    fields = nft_id_fields(nft.token_id)
    return {
        "nft_id": nft.token_id.hex().upper(),
        "ledger_index": nft.ledger_sequence,
        "owner": encode_account_id(nft.owner),
        "is_burned": nft.is_burned,
        "flags": fields["Flags"],
        "transfer_fee": fields.get("TransferFee", 0),
        "issuer": fields["Issuer"],
        "nft_taxon": fields["NFTokenTaxon"],
        "nft_serial": fields["nft_serial"],
        "uri": (nft.uri or b"").hex().upper(),
    }


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    nft = await ctx.backend.fetch_nft(inp.nft_id, header.sequence)
    if nft is None:
        raise RPCError(RippledError.objectNotFound, "NFT not found")
    return {**nft_json(nft), "validated": True}


HANDLER = Handler(NAME, parse, process, clio_only=True)
