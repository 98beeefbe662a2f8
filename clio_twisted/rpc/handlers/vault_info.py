"""``vault_info``: a single-asset vault and the MPToken issuance of its shares.

The vault is named by ``vault_id`` or by ``owner`` and ``seq`` (never both,
never neither). As rippled: every malformed combination is
``malformedRequest`` (code 31, "Invalid parameters.") and an absent vault
``entryNotFound``, both after the ledger and with its fields.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.protocol.render import render_ledger_entry
from clio_twisted.rpc.account_params import ledger_fields, parse_account
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.markers import is_integral

NAME = "vault_info"
_HEX = frozenset("0123456789abcdefABCDEF")


@frozen
class Input:
    ledger: LedgerSpec
    params: JsonDict


def parse(params: JsonDict, api_version: int) -> Input:
    return Input(parse_ledger_spec(params), dict(params))


def vault_key(params: JsonDict) -> bytes | None:
    """The vault's key from ``vault_id`` or ``owner``+``seq``; None for any malformed combination."""
    vault_id: Any = params.get("vault_id")
    has_owner = "owner" in params or "seq" in params
    if "vault_id" in params:
        if (
            has_owner
            or not isinstance(vault_id, str)
            or len(vault_id) != 64
            or not _HEX.issuperset(vault_id)
        ):
            return None
        return bytes.fromhex(vault_id)
    owner = params.get("owner")
    seq: Any = params.get("seq")
    account = parse_account(owner) if isinstance(owner, str) else None
    if account is None or not is_integral(seq) or not 0 <= seq <= 0xFFFFFFFF:
        return None
    return keylets.vault(account, int(seq))


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    fields = ledger_fields(header)
    key = vault_key(inp.params)
    if key is None:
        raise RPCError(RippledError.invalidParams, token="malformedRequest", extra=fields)
    blob = await ctx.backend.fetch_ledger_object(key, header.sequence)
    if blob is None:
        raise RPCError(RippledError.entryNotFound, extra=fields)
    vault = render_ledger_entry(blob, key)
    shares_key = keylets.mpt_issuance(bytes.fromhex(vault["ShareMPTID"]))
    shares_blob = await ctx.backend.fetch_ledger_object(shares_key, header.sequence)
    if shares_blob is not None:
        vault["shares"] = render_ledger_entry(shares_blob, shares_key)
    return {**fields, "vault": vault}


HANDLER = Handler(NAME, parse, process)
