"""``book_changes``: the order book activity of one ledger (open, high, low, close, volumes).

The computation is shared with the ``book_changes`` stream (:mod:`clio_twisted.rpc.book_changes`).
"""

from __future__ import annotations

from attrs import frozen

from clio_twisted.protocol.codec import decode
from clio_twisted.rpc.book_changes import book_changes_message, compute_book_changes
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger

NAME = "book_changes"


@frozen
class Input:
    ledger: LedgerSpec


def parse(params: JsonDict, api_version: int) -> Input:
    return Input(parse_ledger_spec(params))


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    records = await ctx.backend.fetch_ledger_transactions(header.sequence)
    ordered = sorted(records, key=lambda r: r.transaction_index)
    changes = compute_book_changes((decode(r.transaction), decode(r.metadata)) for r in ordered)
    return book_changes_message(header.sequence, header.hash, header.close_time, changes)


HANDLER = Handler(NAME, parse, process)
