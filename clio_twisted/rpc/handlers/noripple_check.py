"""``noripple_check``: which rippling settings an account should change for its role, and the fixing transactions.

As rippled: ``role`` is ``gateway`` or ``user``; a gateway should have
DefaultRipple set and NoRipple cleared on its lines, a user the opposite.
With ``transactions``, each problem comes with the AccountSet/TrustSet that
fixes it, numbered from the account's Sequence, with the ledger's base fee.
``limit`` (10 to 400 for non-admin clients, default 300) counts problem lines.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.protocol.codec import decode
from clio_twisted.rpc.account_params import (
    NORIPPLE_CHECK,
    clamp_limit,
    ledger_fields,
    read_limit,
    require_account,
    require_account_root,
)
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import invalid_field, missing_field
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.markers import as_bool
from clio_twisted.rpc.owner_dir import dir_items

NAME = "noripple_check"
DEFAULT_RIPPLE = 0x00800000
LOW_NO_RIPPLE, HIGH_NO_RIPPLE = 0x00100000, 0x00200000
TF_SET_NO_RIPPLE, TF_CLEAR_NO_RIPPLE = 0x00020000, 0x00040000
NOT_GATEWAY = (
    "You appear to have set your default ripple flag even though you are not a gateway. "
    "This is not recommended unless you are experimenting"
)
SET_DEFAULT = "You should immediately set your default ripple flag"


@frozen
class Input:
    account: str
    gateway: bool
    limit: int | None
    transactions: bool
    ledger: LedgerSpec


def parse(params: JsonDict, api_version: int) -> Input:
    if "account" not in params:
        raise missing_field("account")
    if "role" not in params:
        raise missing_field("role")
    role = params["role"]
    if role not in ("gateway", "user"):
        raise invalid_field("role")
    limit = read_limit(params)
    transactions = as_bool(params.get("transactions", False))
    if (
        api_version > 1
        and "transactions" in params
        and not isinstance(params["transactions"], bool)
    ):
        raise invalid_field("transactions")
    account = params["account"]
    return Input(
        account if isinstance(account, str) else "",
        role == "gateway",
        limit,
        transactions,
        parse_ledger_spec(params),
    )


async def _base_fee(ctx: Context, seq: int) -> int:
    blob = await ctx.backend.fetch_ledger_object(keylets.fees(), seq)
    if blob is None:
        return 10
    fees = decode(blob)
    if "BaseFeeDrops" in fees:
        return int(fees["BaseFeeDrops"])
    return int(fees.get("BaseFee", "a"), 16)


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    limit = clamp_limit(ctx, inp.limit, NORIPPLE_CHECK)
    out: JsonDict = ledger_fields(header)
    account = require_account(inp.account, header)
    seq = header.sequence
    root = decode(await require_account_root(ctx, account, seq))
    fee = await _base_fee(ctx, seq)
    next_sequence = int(root["Sequence"])
    problems: list[str] = []
    transactions: list[JsonDict] = []

    def fill(tx: JsonDict) -> None:
        nonlocal next_sequence
        tx.update({"Sequence": next_sequence, "Account": inp.account, "Fee": fee})
        next_sequence += 1
        transactions.append(dict(sorted(tx.items())))

    default_ripple = bool(int(root.get("Flags", 0)) & DEFAULT_RIPPLE)
    if default_ripple and not inp.gateway:
        problems.append(NOT_GATEWAY)
    elif inp.gateway and not default_ripple:
        problems.append(SET_DEFAULT)
        fill({"TransactionType": "AccountSet", "SetFlag": 8})
    found = 0
    if limit > 0:
        async for _key, blob in dir_items(ctx, seq, keylets.owner_dir(account)):
            line = decode(blob)
            if line.get("LedgerEntryType") != "RippleState":
                continue
            low = line["LowLimit"]["issuer"] == inp.account
            no_ripple = bool(int(line.get("Flags", 0)) & (LOW_NO_RIPPLE if low else HIGH_NO_RIPPLE))
            if no_ripple == (not inp.gateway):
                continue
            peer_limit: Any = line["HighLimit" if low else "LowLimit"]
            verb = "clear" if no_ripple else "probably set"
            problems.append(
                f"You should {verb} the no ripple flag on your {peer_limit['currency']} line to {peer_limit['issuer']}"
            )
            own_limit = dict(line["LowLimit" if low else "HighLimit"])
            own_limit["issuer"] = peer_limit["issuer"]
            fill(
                {
                    "TransactionType": "TrustSet",
                    "LimitAmount": own_limit,
                    "Flags": TF_CLEAR_NO_RIPPLE if no_ripple else TF_SET_NO_RIPPLE,
                }
            )
            found += 1
            if found >= limit:
                break
    out["problems"] = problems
    if inp.transactions:
        out["transactions"] = transactions
    return out


HANDLER = Handler(NAME, parse, process)
