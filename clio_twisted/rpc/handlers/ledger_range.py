"""``ledger_range``: the first and last stored ledger sequences."""

from __future__ import annotations

from clio_twisted.rpc.context import Context, Handler, JsonDict, NoInput, parse_nothing

NAME = "ledger_range"


async def process(ctx: Context, inp: NoInput) -> JsonDict:
    stored = ctx.require_range()
    return {"ledger_index_min": stored.min_sequence, "ledger_index_max": stored.max_sequence}


HANDLER = Handler(NAME, parse_nothing, process)
