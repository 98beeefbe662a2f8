"""``account_info``: an account's AccountRoot, its flags by name and (on request) its signer list.

As rippled: ``account`` (or the legacy ``ident``) is required and must be a
string before the ledger is chosen; a malformed address is ``actMalformed``
and an absent account ``actNotFound`` (with ``account``), both with the
ledger's fields. ``signer_lists`` go inside ``account_data`` in API v1 and
beside it in v2. ``queue`` only makes sense for rippled's open ledger, so
asking it of a validated ledger is ``invalidParams`` (the forwarder relays
``ledger_index: "current"`` requests before this handler runs).
"""

from __future__ import annotations

import functools

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.rpc.account_flags import account_flags
from clio_twisted.rpc.account_params import account_text, ledger_fields, require_account
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, missing_field
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.markers import as_bool
from clio_twisted.rpc.render_cache import amendment_ids, rendered_entry

NAME = "account_info"
GRAVATAR = "http://www.gravatar.com/avatar/"


@frozen
class Input:
    account: str
    ledger: LedgerSpec
    signer_lists: bool = False
    queue: bool = False


def parse(params: JsonDict, api_version: int) -> Input:
    name = "account" if "account" in params else "ident"
    if name not in params:
        raise missing_field("account")
    text = account_text(params, name)
    return Input(
        account=text,
        ledger=parse_ledger_spec(params),
        signer_lists=as_bool(params.get("signer_lists", False)),
        queue=as_bool(params.get("queue", False)),
    )


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    fields = ledger_fields(header)
    account = require_account(inp.account, header)
    key = keylets.account(account)
    blob = await ctx.backend.fetch_ledger_object(key, header.sequence)
    if blob is None:
        raise RPCError(RippledError.actNotFound, extra={"account": inp.account, **fields})
    if inp.queue:
        raise RPCError(RippledError.invalidParams, extra=fields)
    data = dict(rendered_entry(blob, key))  # shared: the fields below are added to a copy
    if "EmailHash" in data:  # rippled's injectSLE adds the avatar address
        data["urlgravatar"] = GRAVATAR + data["EmailHash"].lower()
    amendments = await ctx.backend.fetch_ledger_object(keylets.amendments(), header.sequence)
    enabled = amendment_ids(amendments) if amendments is not None else frozenset()
    out: JsonDict = {
        "account_data": data,
        "account_flags": _flags(int(data.get("Flags", 0)), enabled),
    }
    if inp.signer_lists:
        signers_key = keylets.signer_list(account)
        signers = await ctx.backend.fetch_ledger_object(signers_key, header.sequence)
        lists = [] if signers is None else [rendered_entry(signers, signers_key)]
        if ctx.api_version == 1:
            data["signer_lists"] = lists
        else:
            out["signer_lists"] = lists
    out.update(fields)
    return out


@functools.lru_cache(maxsize=256)
def _flags(flags: int, enabled: frozenset[str]) -> JsonDict:
    """``account_flags`` for one (Flags, enabled amendments) pair, kept: few pairs recur."""
    return account_flags(flags, enabled)


HANDLER = Handler(NAME, parse, process)
