"""``ledger``: a stored ledger's header, optionally with its transactions and (Clio's ``diff``) changed objects.

Flags are read with rippled's JSON truthiness (``"yes"`` is true). ``full``
and ``accounts`` are admin dumps Clio refuses with ``notSupported``; ``queue``
needs the open ledger, so for a validated ledger it is rippled's own
``invalidParams`` answer. Transactions are listed in hash order, as rippled
walks the ledger's transaction tree. ``owner_funds`` adds, to each expanded OfferCreate
whose account is not the issuer of what it sells, that account's spendable
balance of ``TakerGets`` in this ledger.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.markers import as_bool
from clio_twisted.rpc.render_cache import header_json
from clio_twisted.rpc.tx_json import ledger_item

NAME = "ledger"


@frozen
class Input:
    ledger: LedgerSpec
    transactions: bool = False
    expand: bool = False
    binary: bool = False
    owner_funds: bool = False
    diff: bool = False


def _flag(params: JsonDict, name: str) -> bool:
    return as_bool(params.get(name, False))


def parse(params: JsonDict, api_version: int) -> Input:
    for admin in ("full", "accounts"):
        if admin in params and _flag(params, admin):
            raise RPCError(
                RippledError.notSupported,
                f"Not supported field '{admin}'s value '{_json_text(params[admin])}'",
            )
    spec = parse_ledger_spec(params)
    if _flag(params, "queue"):
        raise RPCError(RippledError.invalidParams)
    return Input(
        ledger=spec,
        transactions=_flag(params, "transactions"),
        expand=_flag(params, "expand"),
        binary=_flag(params, "binary"),
        owner_funds=_flag(params, "owner_funds"),
        diff=_flag(params, "diff"),
    )


def _json_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    ledger_hash, header_fields = header_json(header, ctx.api_version)
    if inp.binary:
        ledger: JsonDict = {"closed": True, "ledger_data": header.to_bytes().hex().upper()}
    else:
        ledger = dict(header_fields)  # shared: transactions and diff are added below
    if inp.transactions:
        ledger["transactions"] = await _transactions(ctx, inp, header)
    if inp.diff:
        ledger["diff"] = await _diff(ctx, inp, header)
    return {
        "ledger": ledger,
        "ledger_hash": ledger_hash.hex().upper(),
        "ledger_index": header.sequence,
        "validated": True,
    }


async def _transactions(ctx: Context, inp: Input, header: LedgerHeader) -> list[Any]:
    if not inp.expand:
        hashes = await ctx.backend.fetch_ledger_transaction_hashes(header.sequence)
        return [h.hex().upper() for h in sorted(hashes)]
    # rippled walks the ledger's transaction tree: in hash order, not TransactionIndex order
    records = sorted(
        await ctx.backend.fetch_ledger_transactions(header.sequence), key=lambda r: r.hash
    )
    items = [
        ledger_item(r, ctx.api_version, binary=inp.binary, ledger_hash=header.hash) for r in records
    ]
    if inp.owner_funds and not inp.binary:
        from clio_twisted.rpc.owner_funds import add_owner_funds

        await add_owner_funds(ctx, header.sequence, items)
    return items


async def _diff(ctx: Context, inp: Input, header: LedgerHeader) -> list[JsonDict]:
    from clio_twisted.protocol.codec import decode

    out: list[JsonDict] = []
    for obj in await ctx.backend.fetch_ledger_diff(header.sequence):
        if not obj.blob:
            value: Any = ""
        elif inp.binary:
            value = obj.blob.hex().upper()
        else:
            value = decode(obj.blob)
        out.append({"object_id": obj.key.hex().upper(), "object": value})
    return out


HANDLER = Handler(NAME, parse, process)
