"""``server_info``: what this server holds and how it is doing, in Clio's ``info`` shape.

This module fills what needs only the store and the clock (``complete_ledgers``,
``time``, ``uptime``, versions, ``validated_ledger`` age/hash/seq and, from the
ledger's FeeSettings, ``base_fee_xrp``/``reserve_base_xrp``/``reserve_inc_xrp``
in XRP as Clio gives them). The rest is
contributed by providers in ``ctx.info_sections`` (ETL: ``etl``, rippled's
``load_factor``/``network_id``; cache: ``cache``; counters: ``counters``...),
each merged into ``info`` in order: a top-level key is replaced, except that
an object merges into an object of the same key (so the fee reader can add
``base_fee_xrp`` to ``validated_ledger``). Sections hide admin-only fields
themselves when ``ctx.is_admin`` is False.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import clio_twisted
from clio_twisted.feeds.messages import fees_from_object
from clio_twisted.protocol import keylets
from clio_twisted.protocol.codec import decode
from clio_twisted.protocol.ledger_header import RIPPLE_EPOCH_UNIX, LedgerHeader
from clio_twisted.rpc.context import Context, Handler, JsonDict, NoInput, parse_nothing

NAME = "server_info"


def format_time(unix_seconds: float) -> str:
    """rippled's ``time``: ``2026-Nov-27 02:29:39.708867 UTC`` (microseconds, floored)."""
    moment = datetime.fromtimestamp(unix_seconds, tz=UTC)
    return moment.strftime("%Y-%b-%d %H:%M:%S.%f UTC")


def merge_section(info: JsonDict, section: JsonDict) -> None:
    """Merge a provider's fields into ``info`` (objects merge one level deep)."""
    for key, value in section.items():
        current: Any = info.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            current.update(value)
        else:
            info[key] = value


DROPS_PER_XRP = 1_000_000


async def _fees_xrp(ctx: Context, sequence: int) -> JsonDict:
    """The ledger's fee and reserves in XRP (Clio's numbers), nothing if it has no FeeSettings."""
    blob = await ctx.backend.fetch_ledger_object(keylets.fees(), sequence)
    if not blob:
        return {}
    fees = fees_from_object(decode(blob))
    return {
        "base_fee_xrp": fees.base / DROPS_PER_XRP,
        "reserve_base_xrp": fees.reserve_base / DROPS_PER_XRP,
        "reserve_inc_xrp": fees.reserve_inc / DROPS_PER_XRP,
    }


async def process(ctx: Context, inp: NoInput) -> JsonDict:
    now = ctx.clock.seconds()
    stored = ctx.ledger_range
    info: JsonDict = {
        "complete_ledgers": (
            f"{stored.min_sequence}-{stored.max_sequence}" if stored is not None else "empty"
        ),
        "load_factor": 1,
        "time": format_time(now),
        "uptime": max(0, int(now - ctx.started_at)),
        "clio_version": f"clio-twisted-{clio_twisted.__version__}",
    }
    if stored is not None:
        blob = await ctx.backend.fetch_ledger_by_sequence(stored.max_sequence)
        if blob is not None:
            header = LedgerHeader.from_bytes(blob)
            info["validated_ledger"] = {
                "age": max(0, int(now - (header.close_time + RIPPLE_EPOCH_UNIX))),
                "hash": header.hash.hex().upper(),
                "seq": header.sequence,
                **await _fees_xrp(ctx, header.sequence),
            }
    for section in ctx.info_sections:
        merge_section(info, await section.server_info(ctx))
    return {"info": info, "validated": True}


HANDLER = Handler(NAME, parse_nothing, process, needs_ledger_range=False)
