"""``account_offers``: the DEX offers an account has placed, paged through its owner directory.

Paging, limits and errors as ``account_lines`` (rippled counts every
directory entry toward ``limit``). Each offer shows ``flags``, ``seq``,
``taker_gets``, ``taker_pays``, ``quality`` (its book directory's rate) and
``expiration`` when set.
"""

from __future__ import annotations

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.rpc.account_params import (
    ACCOUNT_OFFERS,
    account_text,
    clamp_nonzero_limit,
    ledger_fields,
    read_limit,
    select_account,
)
from clio_twisted.rpc.books import quality_text
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec
from clio_twisted.rpc.owner_dir import add_page_marker, counted_page, parse_dir_marker

NAME = "account_offers"


@frozen
class Input:
    account: str
    ledger: LedgerSpec
    params: JsonDict  # limit and marker: read after the account, as rippled


def parse(params: JsonDict, api_version: int) -> Input:
    return Input(
        account=account_text(params),
        ledger=parse_ledger_spec(params),
        params=dict(params),
    )


def offer_json(offer: JsonDict) -> JsonDict:
    """One Offer as ``account_offers`` shows it."""
    out: JsonDict = {
        "flags": int(offer.get("Flags", 0)),
        "quality": quality_text(keylets.key_quality(bytes.fromhex(offer["BookDirectory"]))),
        "seq": offer["Sequence"],
        "taker_gets": offer["TakerGets"],
        "taker_pays": offer["TakerPays"],
    }
    if "Expiration" in offer:
        out["expiration"] = offer["Expiration"]
    return out


async def process(ctx: Context, inp: Input) -> JsonDict:
    header, account = await select_account(ctx, inp.ledger, inp.account)
    seq = header.sequence
    limit = clamp_nonzero_limit(ctx, read_limit(inp.params), ACCOUNT_OFFERS)
    marker_in = parse_dir_marker(inp.params["marker"]) if "marker" in inp.params else None
    found, marker = await counted_page(
        ctx, seq, account, marker_in, limit, lambda obj: obj.get("LedgerEntryType") == "Offer"
    )
    out: JsonDict = {
        "account": inp.account,
        **ledger_fields(header),
        "offers": [offer_json(obj) for _key, obj in found],
    }
    return add_page_marker(out, limit, marker)


HANDLER = Handler(NAME, parse, process)
