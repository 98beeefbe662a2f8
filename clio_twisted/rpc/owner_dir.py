"""Walking an account's owner directory with rippled's ``"<index>,<page>"`` markers.

An owner directory is a chain of pages (``DirectoryNode``) rooted at
``keylets.owner_dir(account)``; each page lists object keys in ``Indexes`` and
names the next page in ``IndexNext`` (0 at the end). rippled pages a walk with
the key of the *last object returned* and the directory page it sits on (its
``OwnerNode``, or for a trust line the node on the account's side): the next
page starts right after that key, looked for first on that page, then from the
root. A marker whose key is never met is ``invalidParams``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import encode_account_id
from clio_twisted.protocol.codec import decode
from clio_twisted.rpc.context import Context, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError, invalid_field

_HEX = frozenset("0123456789abcdefABCDEF")
_U64_MAX = (1 << 64) - 1


def invalid_marker() -> RPCError:
    return RPCError(RippledError.invalidParams)


def parse_dir_marker(value: Any) -> tuple[bytes, int]:
    """``"<64 hex>,<page>"`` as (key, page); ``Invalid field 'marker', not string.`` or ``Invalid parameters.``"""
    if not isinstance(value, str):
        raise invalid_field("marker", "not string")
    key_text, sep, rest = value.partition(",")
    if not sep or len(key_text) != 64 or not _HEX.issuperset(key_text):
        raise invalid_marker()
    hint_text = rest.split(",", 1)[0]
    if not hint_text.isascii() or not hint_text.isdigit() or int(hint_text) > _U64_MAX:
        raise invalid_marker()
    return bytes.fromhex(key_text), int(hint_text)


def dir_marker_json(key: bytes, hint: int) -> str:
    return f"{key.hex().upper()},{hint}"


def start_hint(obj: JsonDict, account: bytes) -> int:
    """The directory page of ``obj`` in ``account``'s owner directory (rippled's ``getStartHint``)."""
    if obj.get("LedgerEntryType") == "RippleState":
        side = "LowNode" if obj["LowLimit"]["issuer"] == encode_account_id(account) else "HighNode"
        return int(obj.get(side, "0"), 16)
    return int(obj.get("OwnerNode", "0"), 16)


def is_related(obj: JsonDict, account: bytes, key: bytes) -> bool:
    """Whether a marker's object belongs to ``account``.

    rippled's ``isRelatedToAccount``, widened to the objects it forgets but
    owner directories hold (an Oracle's or a PermissionedDomain's ``Owner``,
    an MPTokenIssuance's ``Issuer``, a Credential's ``Subject``): rippled
    refuses its own marker when a page ends on one of those, we resume.
    """
    address = encode_account_id(account)
    kind = obj.get("LedgerEntryType")
    if address in (obj.get("Owner"), obj.get("Issuer"), obj.get("Subject")):
        return True
    if kind == "RippleState":
        return address in (obj["LowLimit"]["issuer"], obj["HighLimit"]["issuer"])
    if "Account" in obj:
        return obj["Account"] == address or obj.get("Destination") == address
    if kind == "SignerList":
        return key == keylets.signer_list(account)
    if kind == "NFTokenOffer":
        return bool(obj.get("Owner") == address)
    return False


async def check_marker(ctx: Context, sequence: int, account: bytes, key: bytes) -> None:
    """rippled's check that a marker names an existing object of this account."""
    blob = await ctx.backend.fetch_ledger_object(key, sequence)
    if blob is None or not is_related(decode(blob), account, key):
        raise invalid_marker()


async def dir_items(
    ctx: Context, sequence: int, root: bytes, after: bytes | None = None, hint: int = 0
) -> AsyncIterator[tuple[bytes, bytes]]:
    """(key, blob) of each object in the directory at ``root``, in directory order.

    With ``after``, starts just past that key; raises ``invalidParams`` when the
    walk ends without meeting it. The caller stops iterating when it has enough.
    """
    current = root
    if after is not None:
        hinted = keylets.page(root, hint)
        blob = await ctx.backend.fetch_ledger_object(hinted, sequence)
        if blob is not None and after.hex().upper() in decode(blob).get("Indexes", []):
            current = hinted
    found = after is None
    while True:
        blob = await ctx.backend.fetch_ledger_object(current, sequence)
        if blob is None:
            break
        page = decode(blob)
        keys = [bytes.fromhex(k) for k in page.get("Indexes", [])]
        if not found:
            if after in keys:
                keys = keys[keys.index(after) + 1 :]
                found = True
            else:
                keys = []
        if keys:
            blobs = await ctx.backend.fetch_ledger_objects(keys, sequence)
            for key, item in zip(keys, blobs, strict=True):
                if item is not None:
                    yield key, item
        following = int(page.get("IndexNext", "0"), 16)
        if following == 0:
            break
        current = keylets.page(root, following)
    if not found:
        raise invalid_marker()


async def counted_page(
    ctx: Context,
    sequence: int,
    account: bytes,
    marker: tuple[bytes, int] | None,
    limit: int,
    keep: Callable[[JsonDict], bool],
) -> tuple[list[tuple[bytes, JsonDict]], str | None]:
    """One page of an owner-directory command as rippled pages ``account_lines``/``_offers``/``_channels``.

    Every directory entry counts toward ``limit`` whether ``keep`` keeps it or
    not; the marker names the ``limit``-th entry and is given only when a
    further entry exists. A marker must name an existing object of the
    account (``invalidParams`` otherwise, or when the walk never meets it).
    """
    after, hint = marker if marker is not None else (None, 0)
    if after is not None:
        await check_marker(ctx, sequence, account, after)
    kept: list[tuple[bytes, JsonDict]] = []
    count = 0
    next_marker = None
    async for key, blob in dir_items(ctx, sequence, keylets.owner_dir(account), after, hint):
        count += 1
        if count > limit:
            return kept, next_marker
        obj = decode(blob)
        if count == limit:
            next_marker = dir_marker_json(key, start_hint(obj, account))
        if keep(obj):
            kept.append((key, obj))
    return kept, None


def add_page_marker(out: JsonDict, limit: int, marker: str | None) -> JsonDict:
    """``limit`` and ``marker`` on an answer whose page was cut (mutates and returns ``out``)."""
    if marker is not None:
        out["limit"] = limit
        out["marker"] = marker
    return out
