"""``gateway_balances``: what an issuing account owes (obligations), what its hot wallets hold, what it holds.

From each non-zero trust line of the account, seen from its side: a line to a
listed ``hotwallet`` goes to ``balances``; a positive balance (the gateway
holds the peer's tokens) to ``assets``; a negative one it froze to
``frozen_balances``; any other negative one adds to ``obligations`` per
currency. Sums are STAmounts (16 significant digits). As rippled: the ledger
comes first, a malformed account is a bare ``actMalformed``, an absent account
is an empty success in API v1 and ``actNotFound`` in v2, and an unparsable
``hotwallet`` is ``invalidHotWallet`` (v1) or ``invalidParams`` (v2).
"""

from __future__ import annotations

from decimal import Decimal

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import decode_address, encode_account_id
from clio_twisted.rpc.account_params import ledger_fields, parse_account
from clio_twisted.rpc.books import amount_text, round_amount
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, missing_field
from clio_twisted.rpc.handlers.account_lines import line_json
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.owner_dir import counted_page

NAME = "gateway_balances"
_ALL = 1 << 62


@frozen
class Input:
    account: str
    ledger: LedgerSpec
    hotwallets: tuple[bytes, ...] | None  # None: unparsable


def _hotwallets(params: JsonDict) -> tuple[bytes, ...] | None:
    value = params.get("hotwallet")
    items = value if isinstance(value, list) else [] if value is None else [value]
    if not isinstance(value, (list, str)) and value is not None:
        return None
    wallets = []
    for item in items:
        account = parse_account(item) if isinstance(item, str) else None
        if account is None:
            return None
        wallets.append(account)
    return tuple(wallets)


def parse(params: JsonDict, api_version: int) -> Input:
    spec = parse_ledger_spec(params)
    name = "account" if "account" in params else "ident"
    if name not in params:
        raise missing_field("account")
    text = params[name]
    return Input(text if isinstance(text, str) else str(text), spec, _hotwallets(params))


def _entries(balances: dict[str, list[tuple[str, Decimal]]]) -> JsonDict:
    return {
        peer: [{"currency": c, "value": amount_text(v, False)} for c, v in items]
        for peer, items in sorted(balances.items(), key=lambda kv: decode_address(kv[0]))
    }


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    account = parse_account(inp.account)
    if account is None:
        raise RPCError(RippledError.actMalformed)
    seq = header.sequence
    address = encode_account_id(account)
    out: JsonDict = {**ledger_fields(header), "account": address}
    exists = await ctx.backend.fetch_ledger_object(keylets.account(account), seq) is not None
    if ctx.api_version > 1 and not exists:
        raise RPCError(RippledError.actNotFound, extra=out)
    if inp.hotwallets is None:
        error = RippledError.invalidHotWallet if ctx.api_version < 2 else RippledError.invalidParams
        raise RPCError(error, extra=out)
    hot = {encode_account_id(w) for w in inp.hotwallets}
    found, _ = await counted_page(
        ctx, seq, account, None, _ALL, lambda obj: obj.get("LedgerEntryType") == "RippleState"
    )
    sums: dict[str, Decimal] = {}
    hot_balances: dict[str, list[tuple[str, Decimal]]] = {}
    assets: dict[str, list[tuple[str, Decimal]]] = {}
    frozen_balances: dict[str, list[tuple[str, Decimal]]] = {}
    for _key, state in found:
        line = line_json(state, address)
        balance = Decimal(line["balance"])
        if balance == 0:
            continue
        peer, currency = line["account"], line["currency"]
        if peer in hot:
            hot_balances.setdefault(peer, []).append((currency, -balance))
        elif balance > 0:
            assets.setdefault(peer, []).append((currency, balance))
        elif line.get("freeze"):
            frozen_balances.setdefault(peer, []).append((currency, -balance))
        else:
            sums[currency] = round_amount(sums.get(currency, Decimal(0)) - balance, False)
    if sums:
        out["obligations"] = {
            c: amount_text(v, False)
            for c, v in sorted(sums.items(), key=lambda kv: keylets.currency_code(kv[0]))
        }
    for name, table in (
        ("balances", hot_balances),
        ("frozen_balances", frozen_balances),
        ("assets", assets),
    ):
        if table:
            out[name] = _entries(table)
    return out


HANDLER = Handler(NAME, parse, process)
