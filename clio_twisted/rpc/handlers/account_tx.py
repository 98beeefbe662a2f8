"""``account_tx``: an account's transaction history, newest first (or oldest first with ``forward``).

Range, marker and limit rules are rippled's (see :mod:`clio_twisted.rpc.history`).
``tx_type`` is Clio's extension: only transactions of that type (case-insensitive)
are kept, filtered after the page is read, so a page may hold fewer than
``limit`` transactions and still carry a marker.
"""

from __future__ import annotations

from attrs import frozen

from clio_twisted.protocol.addresses import AddressError, decode_address
from clio_twisted.protocol.codec import transaction_type
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, invalid_field, missing_field
from clio_twisted.rpc.history import HistoryInput, history_page, parse_history

NAME = "account_tx"


@frozen
class Input:
    account: str
    account_id: bytes
    history: HistoryInput
    tx_type: str | None


def _known_tx_types() -> dict[str, str]:
    from clio_twisted.protocol.definitions import default_definitions

    names = default_definitions().transaction_types
    return {name.lower(): name for name in names if not name.startswith("Invalid")}


def parse(params: JsonDict, api_version: int) -> Input:
    if "account" not in params:
        raise missing_field("account")
    account = params["account"]
    try:
        if not isinstance(account, str):
            raise AddressError(account)
        account_id = decode_address(account)
    except AddressError:
        raise RPCError(RippledError.actMalformed) from None
    history = parse_history(params, api_version)
    tx_type = None
    if "tx_type" in params:
        value = params["tx_type"]
        tx_type = _known_tx_types().get(value.lower()) if isinstance(value, str) else None
        if tx_type is None:
            raise invalid_field("tx_type")
    return Input(account, account_id, history, tx_type)


async def process(ctx: Context, inp: Input) -> JsonDict:
    async def fetch(limit, forward, cursor, low, high):  # type: ignore[no-untyped-def]
        # the bounds are stored ledgers (history.resolve_range): the page never changes,
        # so the API's backend (backend/immutable_reads.py) may keep it
        return await ctx.backend.fetch_account_transactions(
            inp.account_id, limit, forward, cursor, low, high
        )

    page = await history_page(ctx, inp.history, fetch)
    if inp.tx_type is not None:
        page["transactions"] = [t for t in page["transactions"] if _type_of(t) == inp.tx_type]
    return {"account": inp.account, **page}


def _type_of(item: JsonDict) -> str | None:
    tx = item.get("tx") or item.get("tx_json")
    if isinstance(tx, dict):
        value = tx.get("TransactionType")
        return value if isinstance(value, str) else None
    blob = item.get("tx_blob")
    return transaction_type(bytes.fromhex(blob)) if isinstance(blob, str) else None


HANDLER = Handler(NAME, parse, process)
