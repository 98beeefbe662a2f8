"""``vault_info``: a single-asset vault and the MPToken issuance of its shares.

The vault is named by ``vault_id`` or by ``owner`` and ``seq`` (never both,
never neither). As rippled: every malformed combination is
``malformedRequest`` (code 31, "Invalid parameters."), except an ``owner``
that is no address (with ``seq``, no ``vault_id``): ``malformedRequest`` with
actMalformed's code 35 and "Account malformed." (rippled's ``parseVault``
injects that error, then renames it); an absent vault is ``entryNotFound``;
all after the ledger and with its fields.
"""

from __future__ import annotations

from typing import Any

from clio_twisted.protocol import keylets
from clio_twisted.protocol.render import render_ledger_entry
from clio_twisted.rpc.account_params import ledger_fields, parse_account
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.rpc.ledger_spec import (
    LedgerThenParams,
    parse_ledger_then_params,
    select_ledger,
)
from clio_twisted.rpc.markers import is_integral

NAME = "vault_info"
_HEX = frozenset("0123456789abcdefABCDEF")


Input = LedgerThenParams
parse = parse_ledger_then_params


def vault_key(params: JsonDict) -> bytes | RippledError:
    """The vault's key from ``vault_id`` or ``owner``+``seq``; else the error rippled injects."""
    has_id, has_owner, has_seq = ("vault_id" in params, "owner" in params, "seq" in params)
    if has_id and not has_owner and not has_seq:
        vault_id: Any = params["vault_id"]
        if not isinstance(vault_id, str) or len(vault_id) != 64 or not _HEX.issuperset(vault_id):
            return RippledError.invalidParams
        return bytes.fromhex(vault_id)
    if not has_id and has_owner and has_seq:
        owner: Any = params["owner"]
        account = parse_account(owner) if isinstance(owner, str) else None
        if account is None:
            return RippledError.actMalformed
        seq: Any = params["seq"]
        if not is_integral(seq) or not 0 < seq <= 0xFFFFFFFF:
            return RippledError.invalidParams
        return keylets.vault(account, int(seq))
    return RippledError.invalidParams


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    fields = ledger_fields(header)
    key = vault_key(inp.params)
    if isinstance(key, RippledError):
        raise RPCError(key, token="malformedRequest", extra=fields)
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
