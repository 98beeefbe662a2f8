"""``ledger_index`` (Clio's own): the last stored ledger that closed at or before a date.

``date`` is ISO 8601 in UTC, ``YYYY-MM-DDTHH:MM:SSZ`` (anything else is
``invalidParams``); without it, the newest stored ledger. A date before the
first stored ledger closed is ``lgrNotFound`` ``ledgerNotInRange``. Close
times only grow with the sequence, so the answer is found by bisection.
"""

from __future__ import annotations

from datetime import UTC, datetime

from attrs import frozen

from clio_twisted.protocol.ledger_header import RIPPLE_EPOCH_UNIX, LedgerHeader, ripple_time_iso
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError

NAME = "ledger_index"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@frozen
class Input:
    close_time: int | None  # seconds since the XRPL epoch; None: the newest ledger


def parse(params: JsonDict, api_version: int) -> Input:
    if "date" not in params:
        return Input(None)
    value = params["date"]
    if not isinstance(value, str):
        raise RPCError(RippledError.invalidParams)
    try:
        when = datetime.strptime(value, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise RPCError(RippledError.invalidParams) from None
    return Input(int(when.timestamp()) - RIPPLE_EPOCH_UNIX)


async def _header(ctx: Context, sequence: int) -> LedgerHeader:
    blob = await ctx.backend.fetch_ledger_by_sequence(sequence)
    if blob is None:
        raise RPCError(RippledError.lgrNotFound, "ledgerNotFound")
    return LedgerHeader.from_bytes(blob)


def _answer(header: LedgerHeader) -> JsonDict:
    return {
        "ledger_index": header.sequence,
        "ledger_hash": header.hash.hex().upper(),
        "closed": ripple_time_iso(header.close_time),
        "validated": True,
    }


async def process(ctx: Context, inp: Input) -> JsonDict:
    stored = ctx.require_range()
    if inp.close_time is None:
        return _answer(await _header(ctx, stored.max_sequence))
    first = await _header(ctx, stored.min_sequence)
    if first.close_time > inp.close_time:
        raise RPCError(RippledError.lgrNotFound, "ledgerNotInRange")
    low, high = (
        stored.min_sequence,
        stored.max_sequence,
    )  # invariant: low closed at or before the date
    best = first
    while low < high:
        middle = (low + high + 1) // 2
        header = await _header(ctx, middle)
        if header.close_time <= inp.close_time:
            low, best = middle, header
        else:
            high = middle - 1
    if best.sequence != low:
        best = await _header(ctx, low)
    return _answer(best)


HANDLER = Handler(NAME, parse, process, clio_only=True)
