"""``ledger_data``: a ledger's state objects, one page at a time, in key order.

Paging follows rippled: ``limit`` (an integer) defaults to and is capped at 256
objects for JSON and 2048 for binary; the page holds the objects with keys
strictly after ``marker``; the ``type`` filter is applied after the limit (a
page may hold fewer objects, or none, and still carry a marker); the answer's
marker is the key just before the first object not returned. The first page
(no marker) also carries the ledger header.
"""

from __future__ import annotations

from attrs import frozen

from clio_twisted.protocol.render import render_ledger_entry
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.entry_types import EntryType, blob_type_code, parse_type_filter
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.markers import as_bool, parse_limit, parse_state_marker, state_marker_json

NAME = "ledger_data"
JSON_PAGE = 256
BINARY_PAGE = 2048


@frozen
class Input:
    ledger: LedgerSpec
    binary: bool
    limit: int
    marker: bytes | None
    type: EntryType | None


def parse(params: JsonDict, api_version: int) -> Input:
    spec = parse_ledger_spec(params)
    binary = as_bool(params.get("binary", False))
    maximum = BINARY_PAGE if binary else JSON_PAGE
    limit = parse_limit(params.get("limit"), maximum, maximum)
    marker = parse_state_marker(params["marker"]) if "marker" in params else None
    entry_type = parse_type_filter(params["type"]) if "type" in params else None
    return Input(spec, binary, limit, marker, entry_type)


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    page = await ctx.backend.fetch_ledger_page(inp.marker, header.sequence, inp.limit + 1)
    objects = page.objects
    out: JsonDict = {
        "ledger_hash": header.hash.hex().upper(),
        "ledger_index": header.sequence,
    }
    if inp.marker is None:
        if inp.binary:
            out["ledger"] = {"closed": True, "ledger_data": header.to_bytes().hex().upper()}
        else:
            out["ledger"] = header.to_json(ctx.api_version)
    state = []
    for obj in objects[: inp.limit]:
        if inp.type is not None and blob_type_code(obj.blob) != inp.type.code:
            continue
        if inp.binary:
            state.append({"data": obj.blob.hex().upper(), "index": obj.key.hex().upper()})
        else:
            state.append(render_ledger_entry(obj.blob, obj.key))
    out["state"] = state
    if len(objects) > inp.limit:
        out["marker"] = state_marker_json(objects[inp.limit].key)
    out["validated"] = True
    return out


HANDLER = Handler(NAME, parse, process)
