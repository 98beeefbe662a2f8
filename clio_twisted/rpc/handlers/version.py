"""``version``: the API versions this server answers (Clio's ``first``/``last``/``good``)."""

from __future__ import annotations

from clio_twisted.rpc.context import Context, Handler, JsonDict, NoInput, parse_nothing

NAME = "version"


async def process(ctx: Context, inp: NoInput) -> JsonDict:
    versions = ctx.api_versions
    return {"version": {"first": versions.min, "last": versions.max, "good": versions.default}}


HANDLER = Handler(NAME, parse_nothing, process, needs_ledger_range=False)
