"""``transaction_entry``: one transaction, looked up in one given ledger.

rippled answers this command's own errors (``fieldNotFoundTransaction``,
``malformedRequest``, ``transactionNotFound``) in an odd shape that clients
match on: the bare token with no code or message, beside the selected
ledger's ``ledger_hash``, ``ledger_index`` and ``validated``. So the ledger
is resolved first (its errors are the usual ones), then the hash is checked.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.tx_json import transaction_entry_answer

NAME = "transaction_entry"
_HEX = frozenset("0123456789abcdefABCDEF")


@frozen
class Input:
    ledger: LedgerSpec
    tx_hash: Any  # validated in process, after the ledger (see the module docstring)


def parse(params: JsonDict, api_version: int) -> Input:
    return Input(parse_ledger_spec(params), params.get("tx_hash"))


def _error(token: str, header: LedgerHeader, error: RippledError) -> RPCError:
    extra = {
        "ledger_hash": header.hash.hex().upper(),
        "ledger_index": header.sequence,
        "validated": True,
    }
    return RPCError(error, token=token, extra=extra, with_code=False)


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    if inp.tx_hash is None:
        raise _error("fieldNotFoundTransaction", header, RippledError.fieldNotFoundTransaction)
    value = inp.tx_hash
    if not (isinstance(value, str) and len(value) == 64 and _HEX.issuperset(value)):
        raise _error("malformedRequest", header, RippledError.malformedRequest)
    record = await ctx.backend.fetch_transaction(bytes.fromhex(value))
    if record is None or record.ledger_sequence != header.sequence:
        raise _error("transactionNotFound", header, RippledError.txnNotFound)
    return transaction_entry_answer(record, ctx.api_version, ledger_hash=header.hash)


HANDLER = Handler(NAME, parse, process)
