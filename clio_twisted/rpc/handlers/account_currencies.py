"""``account_currencies``: the currencies an account could still receive, and those it could send.

From each trust line seen from the account's side: a currency is receivable
while the balance is below the account's limit, sendable while the negated
balance is below the peer's limit. Lists are sorted by the 160-bit currency
code (ISO codes before hex ones), as rippled's sets are.
"""

from __future__ import annotations

from decimal import Decimal

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import encode_account_id
from clio_twisted.rpc.account_params import account_text, ledger_fields, select_account
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import missing_field
from clio_twisted.rpc.handlers.account_lines import line_json
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec
from clio_twisted.rpc.owner_dir import counted_page

NAME = "account_currencies"
_UNLIMITED = 1 << 62


@frozen
class Input:
    account: str
    ledger: LedgerSpec


def parse(params: JsonDict, api_version: int) -> Input:
    name = "account" if "account" in params else "ident"
    if name not in params:
        raise missing_field("account")
    return Input(account_text(params, name), parse_ledger_spec(params))


async def process(ctx: Context, inp: Input) -> JsonDict:
    header, account = await select_account(ctx, inp.ledger, inp.account)
    seq = header.sequence
    address = encode_account_id(account)
    found, _ = await counted_page(
        ctx, seq, account, None, _UNLIMITED, lambda obj: obj.get("LedgerEntryType") == "RippleState"
    )
    send: set[str] = set()
    receive: set[str] = set()
    for _key, state in found:
        line = line_json(state, address)
        balance = Decimal(line["balance"])
        if balance < Decimal(line["limit"]):
            receive.add(line["currency"])
        if -balance < Decimal(line["limit_peer"]):
            send.add(line["currency"])
    return {
        **ledger_fields(header),
        "receive_currencies": sorted(receive, key=keylets.currency_code),
        "send_currencies": sorted(send, key=keylets.currency_code),
    }


HANDLER = Handler(NAME, parse, process)
