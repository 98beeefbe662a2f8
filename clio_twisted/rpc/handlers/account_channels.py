"""``account_channels``: payment channels an account opened (not those it receives), paged as rippled pages.

``destination_account`` keeps the channels to one destination; a malformed
one is ``actMalformed``. Each channel shows its id, amounts, destination,
public key (base58 and hex), settle delay and the optional expiration,
cancel_after, source_tag and destination_tag.
"""

from __future__ import annotations

from attrs import frozen

from clio_twisted.protocol.addresses import base58check_encode, encode_account_id
from clio_twisted.rpc.account_params import (
    ACCOUNT_CHANNELS,
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
from clio_twisted.rpc.owner_dir import add_page_marker, counted_page, parse_dir_marker

NAME = "account_channels"
ACCOUNT_PUBLIC_VERSION = 0x23
_OPTIONAL = (
    ("Expiration", "expiration"),
    ("CancelAfter", "cancel_after"),
    ("SourceTag", "source_tag"),
    ("DestinationTag", "destination_tag"),
)


@frozen
class Input:
    account: str
    ledger: LedgerSpec
    destination: str
    params: JsonDict  # limit and marker: read after the account, as rippled


def parse(params: JsonDict, api_version: int) -> Input:
    destination = params.get("destination_account", "")
    return Input(
        account=account_text(params),
        ledger=parse_ledger_spec(params),
        destination=destination if isinstance(destination, str) else str(destination),
        params=dict(params),
    )


def channel_json(key: bytes, channel: JsonDict) -> JsonDict:
    """One PayChannel as ``account_channels`` shows it."""
    public_key = bytes.fromhex(channel["PublicKey"])
    out: JsonDict = {
        "account": channel["Account"],
        "amount": channel["Amount"],
        "balance": channel["Balance"],
        "channel_id": key.hex().upper(),
        "destination_account": channel["Destination"],
        "public_key": base58check_encode(bytes([ACCOUNT_PUBLIC_VERSION]) + public_key),
        "public_key_hex": public_key.hex().upper(),
        "settle_delay": channel["SettleDelay"],
    }
    for field, name in _OPTIONAL:
        if field in channel:
            out[name] = channel[field]
    return out


async def process(ctx: Context, inp: Input) -> JsonDict:
    header, account = await select_account(ctx, inp.ledger, inp.account)
    seq = header.sequence
    destination = None
    if inp.destination:
        parsed = parse_account(inp.destination)
        if parsed is None:
            raise RPCError(RippledError.actMalformed)
        destination = encode_account_id(parsed)
    limit = clamp_nonzero_limit(ctx, read_limit(inp.params), ACCOUNT_CHANNELS)
    marker_in = parse_dir_marker(inp.params["marker"]) if "marker" in inp.params else None

    def keep(obj: JsonDict) -> bool:
        return (
            obj.get("LedgerEntryType") == "PayChannel"
            and obj["Account"] == inp.account
            and (destination is None or obj["Destination"] == destination)
        )

    found, marker = await counted_page(ctx, seq, account, marker_in, limit, keep)
    out: JsonDict = {
        "account": inp.account,
        "channels": [channel_json(key, obj) for key, obj in found],
        **ledger_fields(header),
    }
    return add_page_marker(out, limit, marker)


HANDLER = Handler(NAME, parse, process)
