"""``account_flags`` of ``account_info``: the AccountRoot flag bits by name, as rippled lists them.

Some names exist only once their amendment is enabled in the ledger asked
about: the four ``disallowIncoming*`` (DisallowIncoming), ``allowTrustLineClawback``
(Clawback) and ``allowTrustLineLocking`` (TokenEscrow).
"""

from __future__ import annotations

from clio_twisted.protocol import keylets
from clio_twisted.protocol.codec import decode
from clio_twisted.rpc.amendments import amendment_id
from clio_twisted.rpc.context import Context, JsonDict

ALWAYS: tuple[tuple[str, int], ...] = (
    ("defaultRipple", 0x00800000),
    ("depositAuth", 0x01000000),
    ("disableMasterKey", 0x00100000),
    ("disallowIncomingXRP", 0x00080000),
    ("globalFreeze", 0x00400000),
    ("noFreeze", 0x00200000),
    ("passwordSpent", 0x00010000),
    ("requireAuthorization", 0x00040000),
    ("requireDestinationTag", 0x00020000),
)
BY_AMENDMENT: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = (
    (
        "DisallowIncoming",
        (
            ("disallowIncomingNFTokenOffer", 0x04000000),
            ("disallowIncomingCheck", 0x08000000),
            ("disallowIncomingPayChan", 0x10000000),
            ("disallowIncomingTrustline", 0x20000000),
        ),
    ),
    ("Clawback", (("allowTrustLineClawback", 0x80000000),)),
    ("TokenEscrow", (("allowTrustLineLocking", 0x40000000),)),
)


async def enabled_amendments(ctx: Context, sequence: int) -> frozenset[str]:
    """Upper-case hex ids of the amendments enabled in ledger ``sequence``."""
    blob = await ctx.backend.fetch_ledger_object(keylets.amendments(), sequence)
    if blob is None:
        return frozenset()
    return frozenset(decode(blob).get("Amendments", []))


def account_flags(flags: int, enabled: frozenset[str]) -> JsonDict:
    """The ``account_flags`` object for an AccountRoot's ``Flags``."""
    names = list(ALWAYS)
    for amendment, extra in BY_AMENDMENT:
        if amendment_id(amendment).hex().upper() in enabled:
            names.extend(extra)
    return {name: bool(flags & bit) for name, bit in sorted(names)}
