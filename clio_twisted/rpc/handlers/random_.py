"""``random``: 256 bits from the operating system's CSPRNG, as 64 upper-case hex digits.

The module is ``random_`` so it does not shadow the standard library's ``random``.
"""

from __future__ import annotations

import os

from clio_twisted.rpc.context import Context, Handler, JsonDict, NoInput, parse_nothing

NAME = "random"


async def process(ctx: Context, inp: NoInput) -> JsonDict:
    return {"random": os.urandom(32).hex().upper()}


HANDLER = Handler(NAME, parse_nothing, process, needs_ledger_range=False)
