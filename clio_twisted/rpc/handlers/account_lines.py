"""``account_lines``: an account's trust lines seen from its side, paged through its owner directory.

As rippled: every object of the directory counts toward ``limit`` (so a page
may hold fewer lines than the limit, or none, and still carry a marker); the
marker is ``"<key>,<page>"`` of the last object counted; ``peer`` keeps the
lines with one counterparty; ``ignore_default`` drops the lines whose reserve
this account does not carry (left in their default state by it). Flags
(``authorized``, ``no_ripple``, ``freeze``, ``deep_freeze`` and their peer
twins, ``peer_authorized`` and ``<name>_peer``) appear only when set.
"""

from __future__ import annotations

from attrs import frozen

from clio_twisted.protocol.addresses import encode_account_id
from clio_twisted.rpc.account_params import (
    ACCOUNT_LINES,
    account_text,
    clamp_nonzero_limit,
    ledger_fields,
    parse_account,
    read_limit,
    select_account,
)
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec
from clio_twisted.rpc.markers import as_bool
from clio_twisted.rpc.owner_dir import add_page_marker, counted_page, parse_dir_marker

NAME = "account_lines"

# (flag bit on the account's own side, on the peer's side, answer field)
LOW_RESERVE, HIGH_RESERVE = 0x00010000, 0x00020000
_FLAGS: tuple[tuple[int, int, str], ...] = (
    (0x00040000, 0x00080000, "authorized"),
    (0x00100000, 0x00200000, "no_ripple"),
    (0x00400000, 0x00800000, "freeze"),
    (0x02000000, 0x04000000, "deep_freeze"),
)


@frozen
class Input:
    account: str
    ledger: LedgerSpec
    peer: str | None
    params: JsonDict  # limit and marker: read after the account and peer, as rippled
    ignore_default: bool


def parse(params: JsonDict, api_version: int) -> Input:
    text = account_text(params)
    spec = parse_ledger_spec(params)
    peer = params.get("peer")
    return Input(
        account=text,
        ledger=spec,
        peer=peer if isinstance(peer, str) and peer else None,
        params=dict(params),
        ignore_default=as_bool(params.get("ignore_default", False)),
    )


def negate(value: str) -> str:
    """An amount's text with its sign flipped (zero stays ``"0"``)."""
    if value.startswith("-"):
        return value[1:]
    return value if value == "0" else "-" + value


def line_json(state: JsonDict, address: str) -> JsonDict:
    """One RippleState as ``account_lines`` shows it from ``address``'s side."""
    low = state["LowLimit"]["issuer"] == address
    mine, theirs = (
        (state["LowLimit"], state["HighLimit"]) if low else (state["HighLimit"], state["LowLimit"])
    )
    balance = state["Balance"]["value"]
    flags = int(state.get("Flags", 0))
    side_in, side_out = (
        ("LowQualityIn", "LowQualityOut") if low else ("HighQualityIn", "HighQualityOut")
    )
    out: JsonDict = {
        "account": theirs["issuer"],
        "balance": balance if low else negate(balance),
        "currency": state["Balance"]["currency"],
        "limit": mine["value"],
        "limit_peer": theirs["value"],
        "quality_in": int(state.get(side_in, 0)),
        "quality_out": int(state.get(side_out, 0)),
    }
    for low_bit, high_bit, name in _FLAGS:
        own, peer = (low_bit, high_bit) if low else (high_bit, low_bit)
        if flags & own:
            out[name] = True
        if flags & peer:
            out["peer_authorized" if name == "authorized" else f"{name}_peer"] = True
    return dict(sorted(out.items()))


async def process(ctx: Context, inp: Input) -> JsonDict:
    header, account = await select_account(ctx, inp.ledger, inp.account)
    fields = ledger_fields(header)
    seq = header.sequence
    peer = None
    if inp.peer is not None:
        peer = parse_account(inp.peer)
        if peer is None:
            raise RPCError(RippledError.actMalformed, extra=fields)
    limit = clamp_nonzero_limit(ctx, read_limit(inp.params), ACCOUNT_LINES)
    marker_in = parse_dir_marker(inp.params["marker"]) if "marker" in inp.params else None
    address = encode_account_id(account)
    peer_address = None if peer is None else encode_account_id(peer)

    def keep(obj: JsonDict) -> bool:
        if obj.get("LedgerEntryType") != "RippleState":
            return False
        if inp.ignore_default:
            reserve = LOW_RESERVE if obj["LowLimit"]["issuer"] == address else HIGH_RESERVE
            if not int(obj.get("Flags", 0)) & reserve:
                return False
        if peer_address is None:
            return True
        return peer_address in (obj["LowLimit"]["issuer"], obj["HighLimit"]["issuer"])

    found, marker = await counted_page(ctx, seq, account, marker_in, limit, keep)
    lines = [line_json(obj, address) for _key, obj in found]
    out: JsonDict = {"account": inp.account, **fields, "lines": lines}
    return add_page_marker(out, limit, marker)


HANDLER = Handler(NAME, parse, process)
