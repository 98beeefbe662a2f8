"""``ping``: an empty success, to check the server answers (and, over WS, keep the connection alive)."""

from __future__ import annotations

from clio_twisted.rpc.context import Context, Handler, JsonDict, NoInput, parse_nothing

NAME = "ping"


async def process(ctx: Context, inp: NoInput) -> JsonDict:
    return {}


HANDLER = Handler(NAME, parse_nothing, process, needs_ledger_range=False)
