"""``feature``: the amendments this server knows and whether the ledger has them enabled.

Non-admin rippled shows each as ``{name, enabled, supported}``; ``enabled``
comes from the selected ledger's Amendments object. ``feature`` (a name or a
64-hex id) narrows the answer to one amendment, keyed by its id; an unknown
one is ``badFeature``. ``vetoed`` is the admin half of the command, which
Clio refuses (``noPermission``).
"""

from __future__ import annotations

from attrs import frozen

from clio_twisted.protocol import keylets
from clio_twisted.protocol.codec import decode
from clio_twisted.rpc.amendments import by_id, by_name
from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.errors import RippledError, RPCError
from clio_twisted.rpc.ledger_spec import LedgerSpec, parse_ledger_spec, select_ledger

NAME = "feature"
_HEX = frozenset("0123456789abcdefABCDEF")


@frozen
class Input:
    ledger: LedgerSpec
    feature: bytes | None  # one amendment id, or None for all


def parse(params: JsonDict, api_version: int) -> Input:
    if "vetoed" in params:
        raise RPCError(
            RippledError.noPermission,
            "The admin portion of feature API is not available through Clio.",
        )
    feature = None
    if "feature" in params:
        value = params["feature"]
        if not isinstance(value, str):
            raise RPCError(RippledError.invalidParams)
        if len(value) == 64 and _HEX.issuperset(value):
            feature = bytes.fromhex(value)
        else:
            feature = by_name().get(value)
        if feature is None or feature not in by_id():
            raise RPCError(RippledError.badFeature)
    return Input(parse_ledger_spec(params), feature)


async def process(ctx: Context, inp: Input) -> JsonDict:
    header = await select_ledger(ctx, inp.ledger)
    blob = await ctx.backend.fetch_ledger_object(keylets.amendments(), header.sequence)
    enabled = {bytes.fromhex(h) for h in decode(blob).get("Amendments", ())} if blob else set()
    known = by_id()
    wanted = [inp.feature] if inp.feature is not None else sorted(known)
    features = {}
    for amendment in wanted:
        name, supported = known[amendment]
        features[amendment.hex().upper()] = {
            "enabled": amendment in enabled,
            "name": name,
            "supported": supported,
        }
    ledger = {
        "ledger_hash": header.hash.hex().upper(),
        "ledger_index": header.sequence,
        "validated": True,
    }
    if inp.feature is not None:
        return {**features, **ledger}
    return {"features": features, **ledger}


HANDLER = Handler(NAME, parse, process)
