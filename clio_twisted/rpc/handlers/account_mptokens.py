"""``account_mptokens`` (Clio's own): the MPTokens an account holds, paged over its owner directory.

As Clio: ``account`` is required (``Required field 'account' missing``; any
value that is not a classic address is ``actMalformed``), ``limit`` an
unsigned integer of at least 1, clamped to 10-400 for every client (default
200), ``marker`` Clio's account cursor ``"<64 hex key>,<page>"``
(``markerNotString`` / ``Malformed cursor.``). Every directory entry counts
toward ``limit`` whether it is an MPToken or not, so a page can hold fewer
tokens than ``limit``; ``limit`` is always echoed.

Clio pages owner directories its own way (``traverseOwnedNodes``), not as
rippled does (``rpc/owner_dir.py``): the marker names the *last entry read*
and the directory page the walk found it on, and it is given whenever
``limit`` entries were read, even if none follow (the next page is then
empty, without a marker). A marker whose page is absent or does not list its
key is ``Invalid marker.``. :func:`clio_owned_page` is that walk, shared by
``account_mptoken_issuances``.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.protocol.codec import decode
from clio_twisted.rpc.account_params import (
    Tuning,
    ledger_fields,
    parse_account,
    require_account_root,
)
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, WarningCode, invalid_params
from clio_twisted.rpc.ledger_spec import (
    LedgerSpec,
    parse_hash256,
    parse_ledger_spec,
    select_ledger,
)
from clio_twisted.rpc.markers import is_integral
from clio_twisted.rpc.owner_dir import dir_marker_json, parse_dir_marker

NAME = "account_mptokens"
LIMITS = Tuning(10, 200, 400)  # Clio's kLimitMin/kLimitDefault/kLimitMax for both MPT commands
LSF_MPT_LOCKED = 0x0000_0001
LSF_MPT_AUTHORIZED = 0x0000_0002
_U32_MAX = 0xFFFF_FFFF


@frozen
class Input:
    """A request both MPT account commands share (Clio gives them the same spec)."""

    account: bytes
    address: str
    ledger: LedgerSpec
    limit: int
    marker: tuple[bytes, int] | None
    deprecated: bool = False


def parse_clio_account_request(params: JsonDict, tuning: Tuning = LIMITS) -> Input:
    """Clio's spec, field by field: account, ledger_hash, limit, ledger_index, marker."""
    if "account" not in params:
        raise invalid_params("Required field 'account' missing")
    address: Any = params["account"]
    account = parse_account(address) if isinstance(address, str) else None
    if account is None:
        raise RPCError(RippledError.actMalformed)
    if "ledger_hash" in params:
        parse_hash256(params["ledger_hash"], "ledger_hash")
    limit = tuning.default
    if "limit" in params:
        raw = params["limit"]
        if not is_integral(raw) or not 1 <= raw <= _U32_MAX:
            raise RPCError(RippledError.invalidParams)
        limit = max(tuning.minimum, min(tuning.maximum, int(raw)))
    ledger = parse_ledger_spec(params, as_clio=True)
    marker = None
    if "marker" in params:
        if not isinstance(params["marker"], str):
            raise invalid_params("markerNotString")
        try:
            marker = parse_dir_marker(params["marker"])
        except RPCError:
            raise invalid_params("Malformed cursor.") from None
    return Input(account, address, ledger, limit, marker, deprecated="ledger" in params)


def parse(params: JsonDict, api_version: int) -> Input:
    return parse_clio_account_request(params)


def invalid_marker() -> RPCError:
    return invalid_params("Invalid marker.")


async def clio_owned_page(
    ctx: Context, sequence: int, account: bytes, limit: int, marker: tuple[bytes, int] | None
) -> tuple[list[tuple[bytes, bytes]], str | None]:
    """(key, blob) of up to ``limit`` owner-directory entries, and Clio's next marker (or None)."""
    root = keylets.owner_dir(account)
    after, page_number = marker if marker is not None else (bytes(32), 0)
    resuming = after != bytes(32)
    current = keylets.page(root, page_number) if resuming else root
    if resuming:
        blob = await ctx.backend.fetch_ledger_object(current, sequence)
        if blob is None or after.hex().upper() not in decode(blob).get("Indexes", []):
            raise invalid_marker()
    keys: list[bytes] = []
    found = not resuming
    next_marker = None
    while True:
        blob = await ctx.backend.fetch_ledger_object(current, sequence)
        if blob is None:
            if resuming:
                raise invalid_params("Owner directory not found.")
            break
        page = decode(blob)
        for text in page.get("Indexes", []):
            key = bytes.fromhex(text)
            if not found:
                found = key == after
                continue
            keys.append(key)
            if len(keys) == limit:
                break
        if len(keys) == limit:
            next_marker = dir_marker_json(keys[-1], page_number)
            break
        following = int(page.get("IndexNext", "0"), 16)
        if following == 0:
            break
        current, page_number = keylets.page(root, following), following
    blobs = await ctx.backend.fetch_ledger_objects(keys, sequence)
    items = [(key, blob) for key, blob in zip(keys, blobs, strict=True) if blob is not None]
    return items, next_marker


async def owned_of_type(
    ctx: Context, inp: Input, entry_type: str, field: str, render: Any
) -> JsonDict:
    """The whole answer of an MPT account command: ``render(key, object)`` for each entry of one type."""
    if inp.deprecated:
        ctx.warn(WarningCode.DEPRECATED)
    header = await select_ledger(ctx, inp.ledger)
    seq = header.sequence
    await require_account_root(ctx, inp.account, seq)
    items, next_marker = await clio_owned_page(ctx, seq, inp.account, inp.limit, inp.marker)
    rendered = []
    for key, blob in items:
        obj = decode(blob)
        if obj.get("LedgerEntryType") == entry_type:
            rendered.append(render(key, obj))
    out: JsonDict = {"account": inp.address, **ledger_fields(header), "limit": inp.limit}
    out[field] = rendered
    if next_marker is not None:
        out["marker"] = next_marker
    return out


def set_flags(item: JsonDict, flags: int, names: tuple[tuple[str, int], ...]) -> None:
    """Clio's optional booleans: a name appears, as true, only when its bit is set."""
    for name, mask in names:
        if flags & mask:
            item[name] = True


def mptoken_json(key: bytes, token: JsonDict) -> JsonDict:
    item: JsonDict = {
        "mpt_id": key.hex().upper(),
        "account": token["Account"],
        "mpt_issuance_id": token["MPTokenIssuanceID"],
        "mpt_amount": int(token.get("MPTAmount", "0")),  # base ten in rippled's JSON
    }
    if "LockedAmount" in token:
        item["locked_amount"] = int(token["LockedAmount"])
    flags = int(token.get("Flags", 0))
    set_flags(item, flags, (("mpt_locked", LSF_MPT_LOCKED), ("mpt_authorized", LSF_MPT_AUTHORIZED)))
    return item


async def process(ctx: Context, inp: Input) -> JsonDict:
    return await owned_of_type(ctx, inp, "MPToken", "mptokens", mptoken_json)


HANDLER = Handler(NAME, parse, process, clio_only=True)
