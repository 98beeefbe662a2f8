"""``account_objects``: every object an account owns: its NFToken pages first, then its owner directory.

Paging is rippled's own, which differs from the other account commands: the
marker is ``"<directory page key>,<first object not returned>"``, or
``"0,<NFToken page key>"`` while the NFToken pages are being listed; both
halves are hex (short forms allowed, as rippled parses them). Every object
counts toward ``limit``, filtered out or not; ``limit: 0`` from an admin means
no limit (rippled's counter wraps). ``type`` takes any account-owned type (not
``amendments``, ``directory``, ``fee``, ``hashes``, ``nunl``);
``deletion_blockers_only`` keeps the types that block AccountDelete (narrowed
further by ``type`` when both are given).
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.protocol.codec import decode
from clio_twisted.protocol.render import render_ledger_entry
from clio_twisted.rpc.account_params import (
    ACCOUNT_OBJECTS,
    clamp_limit,
    ledger_fields,
    lenient_account_text,
    read_limit,
    select_account,
)
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.entry_types import BY_NAME, blob_type_code, parse_type_filter
from clio_twisted.rpc.errors import invalid_field
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec
from clio_twisted.rpc.markers import as_bool

NAME = "account_objects"
NOT_OWNED = frozenset({"Amendments", "DirectoryNode", "FeeSettings", "LedgerHashes", "NegativeUNL"})
DELETION_BLOCKERS: tuple[tuple[str, str], ...] = (
    ("check", "Check"),
    ("escrow", "Escrow"),
    ("nft_page", "NFTokenPage"),
    ("payment_channel", "PayChannel"),
    ("state", "RippleState"),
    ("xchain_owned_claim_id", "XChainOwnedClaimID"),
    ("xchain_owned_create_account_claim_id", "XChainOwnedCreateAccountClaimID"),
    ("bridge", "Bridge"),
    ("mpt_issuance", "MPTokenIssuance"),
    ("mptoken", "MPToken"),
    ("permissioned_domain", "PermissionedDomain"),
    ("vault", "Vault"),
)
_NFT_PAGE = BY_NAME["NFTokenPage"].code
_HEX = frozenset("0123456789abcdefABCDEF")
_UNLIMITED = 1 << 32


@frozen
class Input:
    account: str
    ledger: LedgerSpec
    params: JsonDict  # type, limit and marker: read after the account, as rippled


def _hex256(text: str) -> bytes:
    if not 0 < len(text) <= 64 or not _HEX.issuperset(text):
        raise invalid_field("marker")
    return int(text, 16).to_bytes(32, "big")


def parse_objects_marker(value: Any) -> tuple[bytes, bytes]:
    """``"<dir>,<entry>"``: ``Invalid field 'marker', not string.`` / ``Invalid field 'marker'.``"""
    if not isinstance(value, str):
        raise invalid_field("marker", "not string")
    parts = value.split(",")
    if len(parts) < 2:
        raise invalid_field("marker")
    return _hex256(parts[0]), _hex256(parts[1])


def _types(params: JsonDict) -> frozenset[int] | None:
    if as_bool(params.get("deletion_blockers_only", False)):
        wanted = params.get("type")
        return frozenset(
            BY_NAME[name].code
            for rpc_name, name in DELETION_BLOCKERS
            if "type" not in params or rpc_name == wanted
        )
    if "type" not in params:
        return None
    entry = parse_type_filter(params["type"])
    if entry.name in NOT_OWNED:
        raise invalid_field("type")
    return frozenset({entry.code})


def parse(params: JsonDict, api_version: int) -> Input:
    return Input(
        account=lenient_account_text(params),
        ledger=parse_ledger_spec(params),
        params=dict(params),
    )


async def process(ctx: Context, inp: Input) -> JsonDict:
    header, account = await select_account(ctx, inp.ledger, inp.account)
    fields = ledger_fields(header)
    seq = header.sequence
    types = _types(inp.params)  # (type, limit, marker: rippled's order, after the account)
    limit = clamp_limit(ctx, read_limit(inp.params), ACCOUNT_OBJECTS)
    marker_in = parse_objects_marker(inp.params["marker"]) if "marker" in inp.params else None
    dir_index, entry = marker_in if marker_in is not None else (bytes(32), bytes(32))
    if dir_index != bytes(32):
        blob = await ctx.backend.fetch_ledger_object(dir_index, seq)
        page = decode(blob) if blob is not None else {}
        if page.get("LedgerEntryType") != "DirectoryNode" or page.get("Owner", None) not in (
            None,
            inp.account,
        ):
            raise invalid_field("marker")
    walk = _Walk(ctx, seq, account, types, limit)
    if not await walk.run(dir_index, entry):
        raise invalid_field("marker")
    out: JsonDict = {"account": inp.account, "account_objects": walk.objects, **fields}
    if walk.marker is not None:
        out["limit"] = limit
        out["marker"] = walk.marker
    return out


class _Walk:
    """One page of rippled's ``getAccountObjects``: NFToken pages, then the owner directory."""

    def __init__(
        self, ctx: Context, seq: int, account: bytes, types: frozenset[int] | None, limit: int
    ) -> None:
        self.ctx, self.seq, self.account, self.types = ctx, seq, account, types
        self.limit = limit
        self.objects: list[JsonDict] = []
        self.marker: str | None = None

    def _keep(self, blob: bytes) -> bool:
        return self.types is None or blob_type_code(blob) in self.types

    async def _nft_pages(self, entry: bytes) -> int | None:
        """List NFToken pages from ``entry``; the budget left, or None when a marker was set."""
        first = keylets.nftoken_page_min(self.account) if entry == bytes(32) else entry
        last = keylets.nftoken_page_max(self.account)
        backend = self.ctx.backend
        current = await backend.fetch_successor_key(first, self.seq)
        if current is None or current > last:
            current = last
        budget = self.limit if self.limit else _UNLIMITED
        blob = await backend.fetch_ledger_object(current, self.seq)
        while blob is not None and blob_type_code(blob) == _NFT_PAGE:
            self.objects.append(render_ledger_entry(blob, current))
            following = decode(blob).get("NextPageMin")
            nxt = bytes.fromhex(following) if following else None
            blob = None if nxt is None else await backend.fetch_ledger_object(nxt, self.seq)
            budget -= 1
            if budget == 0 and blob is not None:
                self.marker = f"0,{current.hex().upper()}"
                return None
            if nxt is None:
                break
            current = nxt
        return budget

    async def run(self, dir_index: bytes, entry: bytes) -> bool:
        """False when the marker's entry is not on its page (rippled's invalid marker)."""
        budget = self.limit if self.limit else _UNLIMITED
        nft_wanted = self.types is None or _NFT_PAGE in self.types
        if nft_wanted and dir_index == bytes(32):
            if entry == bytes(32) or entry[:20] == self.account:
                left = await self._nft_pages(entry)
                if left is None:
                    return True
                budget = left
                entry = bytes(32)
        root = keylets.owner_dir(self.account)
        found = dir_index == bytes(32)
        if found:
            dir_index = root
        backend = self.ctx.backend
        blob = await backend.fetch_ledger_object(dir_index, self.seq)
        if blob is None:
            return True
        counted = 0
        nominal = self.limit if self.limit else _UNLIMITED
        while True:
            page = decode(blob)
            keys = [bytes.fromhex(k) for k in page.get("Indexes", [])]
            start = 0
            if not found:
                if entry not in keys:
                    return False
                start = keys.index(entry)
                found = True
            if counted == budget and budget < nominal and start < len(keys):
                self._set_marker(dir_index, keys[start])
                return True
            rest = keys[start:]
            blobs = await backend.fetch_ledger_objects(rest, self.seq)
            for position, (key, item) in enumerate(zip(rest, blobs, strict=True)):
                if item is not None and self._keep(item):
                    self.objects.append(render_ledger_entry(item, key))
                counted += 1
                if counted == budget:
                    if position + 1 < len(rest):
                        self._set_marker(dir_index, rest[position + 1])
                        return True
                    break
            following = int(page.get("IndexNext", "0"), 16)
            if following == 0:
                return True
            dir_index = keylets.page(root, following)
            blob = await backend.fetch_ledger_object(dir_index, self.seq)
            if blob is None:
                return True
            if counted == budget:
                first = decode(blob).get("Indexes", [])
                if first:
                    self._set_marker(dir_index, bytes.fromhex(first[0]))
                return True

    def _set_marker(self, dir_index: bytes, entry: bytes) -> None:
        self.marker = f"{dir_index.hex().upper()},{entry.hex().upper()}"


HANDLER = Handler(NAME, parse, process)
