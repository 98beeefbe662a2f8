"""``tx``: one transaction by hash or by CTID, as rippled answers it.

Request rules (rippled 3.1.1): exactly one of ``transaction`` and ``ctid``
(else ``invalidParams``); a hash that is not 64 hex digits is rippled's
``notImpl``; a malformed CTID ``invalidParams``; a CTID of another network
``wrongNetwork``. ``min_ledger``/``max_ledger`` count only together: max below
min is ``invalidLgrRange``, a span over 1000 ``excessiveLgrRange``, and a
transaction not found then says ``searched_all``: whether every ledger of
that span is stored here. ``binary`` uses rippled's JSON truthiness.
"""

from __future__ import annotations

from attrs import frozen

from clio_twisted.backend.interface import TransactionRecord
from clio_twisted.protocol.ctid import CTID, decode_ctid
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.rpc.markers import as_bool, is_integral
from clio_twisted.rpc.render_cache import ledger_hash_of
from clio_twisted.rpc.tx_json import network_id, tx_answer

NAME = "tx"
MAX_RANGE = 1000
_HEX = frozenset("0123456789abcdefABCDEF")


@frozen
class Input:
    tx_hash: bytes | None
    ctid: CTID | None
    binary: bool
    ledger_range: tuple[int, int] | None


def parse(params: JsonDict, api_version: int) -> Input:
    has_hash, has_ctid = "transaction" in params, "ctid" in params
    if has_hash == has_ctid:
        raise RPCError(RippledError.invalidParams)
    tx_hash = ctid = None
    if has_hash:
        value = params["transaction"]
        if not (isinstance(value, str) and len(value) == 64 and _HEX.issuperset(value)):
            raise RPCError(RippledError.notImpl)
        tx_hash = bytes.fromhex(value)
    else:
        ctid = decode_ctid(params["ctid"])
        if ctid is None:
            raise RPCError(RippledError.invalidParams)
    ledger_range = None
    if "min_ledger" in params and "max_ledger" in params:
        low, high = params["min_ledger"], params["max_ledger"]
        if not (_is_u32(low) and _is_u32(high)):
            raise RPCError(RippledError.invalidLgrRange)
        if high < low:
            raise RPCError(RippledError.invalidLgrRange)
        if high - low > MAX_RANGE:
            raise RPCError(RippledError.excessiveLgrRange)
        ledger_range = (low, high)
    return Input(tx_hash, ctid, as_bool(params.get("binary", False)), ledger_range)


def _is_u32(value: object) -> bool:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    return is_integral(value) and 0 <= value <= 0xFFFFFFFF  # type: ignore[operator]


async def _by_ctid(ctx: Context, ctid: CTID) -> TransactionRecord | None:
    stored = ctx.require_range()
    if ctid.ledger_sequence not in stored:
        return None
    for record in await ctx.backend.fetch_ledger_transactions(ctid.ledger_sequence):
        if record.transaction_index == ctid.transaction_index:
            return record
    return None


async def process(ctx: Context, inp: Input) -> JsonDict:
    net = network_id(ctx)
    if inp.ctid is not None and inp.ctid.network_id != net:
        raise RPCError(
            RippledError.wrongNetwork,
            f"Wrong network. You should submit this request to a node running on NetworkID: {inp.ctid.network_id}",
        )
    stored = ctx.require_range()
    if inp.ctid is not None:
        record = await _by_ctid(ctx, inp.ctid)
    else:
        assert inp.tx_hash is not None
        record = await ctx.backend.fetch_transaction(inp.tx_hash)
        if record is not None and record.ledger_sequence not in stored:
            record = None
    if record is not None and inp.ledger_range is not None:
        low, high = inp.ledger_range
        if not low <= record.ledger_sequence <= high:
            record = None
    if record is None:
        extra = {}
        if inp.ledger_range is not None:
            low, high = inp.ledger_range
            extra["searched_all"] = low >= stored.min_sequence and high <= stored.max_sequence
        raise RPCError(RippledError.txnNotFound, extra=extra)
    blob = await ctx.backend.fetch_ledger_by_sequence(record.ledger_sequence)
    ledger_hash = ledger_hash_of(blob) if blob is not None else bytes(32)
    return tx_answer(
        record, ctx.api_version, binary=inp.binary, ledger_hash=ledger_hash, network_id=net
    )


HANDLER = Handler(NAME, parse, process)
