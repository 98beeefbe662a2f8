"""``ledger_data``: a ledger's state objects, one page at a time, in key order.

Paging follows rippled: ``limit`` (an integer) defaults to and is capped at 256
objects for JSON and 2048 for binary; the page holds the objects with keys
strictly after ``marker``; the ``type`` filter is applied after the limit (a
page may hold fewer objects, or none, and still carry a marker); the answer's
marker is the key just before the first object not returned. The first page
(no marker) also carries the ledger header.

Clio's ``out_of_order`` (used by Clio servers loading their cache from
another): pages carry the backend's own cursor (the last key returned); the
last page's marker is the newest stored sequence, an integer; an integer
marker ``n`` answers the objects deleted in ledger ``n`` that still exist in
the requested ledger, with marker ``n - 1`` while ``n`` is above it; answers
say ``cache_full``.
"""

from __future__ import annotations

from attrs import frozen

from clio_twisted.backend.interface import LedgerObject
from clio_twisted.protocol.ledger_header import LedgerHeader
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.entry_types import EntryType, blob_type_code, parse_type_filter
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger
from clio_twisted.rpc.markers import (
    as_bool,
    is_integral,
    parse_limit,
    parse_state_marker,
    state_marker_json,
)
from clio_twisted.rpc.render_cache import header_json, rendered_entry

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
    out_of_order: bool = False
    diff_marker: int | None = None


def parse(params: JsonDict, api_version: int) -> Input:
    spec = parse_ledger_spec(params)
    binary = as_bool(params.get("binary", False))
    maximum = BINARY_PAGE if binary else JSON_PAGE
    limit = parse_limit(params.get("limit"), maximum, maximum)
    out_of_order = params.get("out_of_order", False)
    if not isinstance(out_of_order, bool):
        raise RPCError(RippledError.invalidParams)
    marker = diff_marker = None
    if "marker" in params:
        value = params["marker"]
        if out_of_order and is_integral(value) and value >= 0:
            diff_marker = int(value)
        else:
            marker = parse_state_marker(value)
    entry_type = parse_type_filter(params["type"]) if "type" in params else None
    return Input(spec, binary, limit, marker, entry_type, out_of_order, diff_marker)


def _entry(obj: LedgerObject, binary: bool) -> JsonDict:
    if binary:
        return {"data": obj.blob.hex().upper(), "index": obj.key.hex().upper()}
    return rendered_entry(obj.blob, obj.key)


async def _out_of_order(ctx: Context, inp: Input, header: LedgerHeader) -> JsonDict:
    out: JsonDict = {"ledger_hash": header.hash.hex().upper(), "ledger_index": header.sequence}
    if inp.marker is None and inp.diff_marker is None:
        out["ledger"] = _header_json(ctx, inp, header)
    objects: list[LedgerObject] = []
    if inp.diff_marker is not None:
        deleted = [
            o.key for o in await ctx.backend.fetch_ledger_diff(inp.diff_marker) if not o.blob
        ]
        blobs = await ctx.backend.fetch_ledger_objects(deleted, header.sequence)
        objects = [
            LedgerObject(k, b, header.sequence) for k, b in zip(deleted, blobs, strict=True) if b
        ]
        if inp.diff_marker > header.sequence:
            out["marker"] = inp.diff_marker - 1
    else:
        page = await ctx.backend.fetch_ledger_page(inp.marker, header.sequence, inp.limit)
        objects = page.objects
        if page.cursor is not None:
            out["marker"] = page.cursor.hex().upper()
        else:
            out["marker"] = ctx.require_range().max_sequence
    out["state"] = [_entry(o, inp.binary) for o in objects if inp.type is None or _is(o, inp.type)]
    out["cache_full"] = (
        bool(getattr(ctx.cache, "is_full", False)) if ctx.cache is not None else False
    )
    out["validated"] = True
    return out


def _is(obj: LedgerObject, entry_type: EntryType) -> bool:
    return blob_type_code(obj.blob) == entry_type.code


def _header_json(ctx: Context, inp: Input, header: LedgerHeader) -> JsonDict:
    if inp.binary:
        return {"closed": True, "ledger_data": header.to_bytes().hex().upper()}
    return header_json(header, ctx.api_version)[1]


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    if inp.out_of_order:
        return await _out_of_order(ctx, inp, header)
    # a stored ledger (select_ledger): the API's backend (backend/immutable_reads.py) may keep the page
    page = await ctx.backend.fetch_ledger_page(inp.marker, header.sequence, inp.limit + 1)
    objects = page.objects
    out: JsonDict = {
        "ledger_hash": header.hash.hex().upper(),
        "ledger_index": header.sequence,
    }
    if inp.marker is None:
        out["ledger"] = _header_json(ctx, inp, header)
    out["state"] = [
        _entry(o, inp.binary) for o in objects[: inp.limit] if inp.type is None or _is(o, inp.type)
    ]
    if len(objects) > inp.limit:
        out["marker"] = state_marker_json(objects[inp.limit].key)
    out["validated"] = True
    return out


HANDLER = Handler(NAME, parse, process)
