"""``account_mptoken_issuances`` (Clio's own): the MPTokenIssuances an account created, paged.

The request, limits, marker and errors are those of ``account_mptokens``
(Clio gives both the same spec and the same owner-directory walk, reused from
there). Each issuance shows its id, issuer and sequence, the optional amounts
(base ten, as JSON numbers), scale, fee, metadata and domain when present, and
one ``true`` per set flag and per set ``MutableFlags`` bit; absent flags are
left out, never ``false``.
"""

from __future__ import annotations

from clio_twisted.rpc.context import Context, Handler, JsonDict
from clio_twisted.rpc.handlers.account_mptokens import (
    Input,
    owned_of_type,
    parse_clio_account_request,
    set_flags,
)

NAME = "account_mptoken_issuances"
FLAGS: tuple[tuple[str, int], ...] = (
    ("mpt_locked", 0x0000_0001),
    ("mpt_can_lock", 0x0000_0002),
    ("mpt_require_auth", 0x0000_0004),
    ("mpt_can_escrow", 0x0000_0008),
    ("mpt_can_trade", 0x0000_0010),
    ("mpt_can_transfer", 0x0000_0020),
    ("mpt_can_clawback", 0x0000_0040),
)
MUTABLE_FLAGS: tuple[tuple[str, int], ...] = (
    ("mpt_can_mutate_can_lock", 0x0000_0002),
    ("mpt_can_mutate_require_auth", 0x0000_0004),
    ("mpt_can_mutate_can_escrow", 0x0000_0008),
    ("mpt_can_mutate_can_trade", 0x0000_0010),
    ("mpt_can_mutate_can_transfer", 0x0000_0020),
    ("mpt_can_mutate_can_clawback", 0x0000_0040),
    ("mpt_can_mutate_metadata", 0x0001_0000),
    ("mpt_can_mutate_transfer_fee", 0x0002_0000),
)
# (ledger field, answer field, whether rippled's JSON holds it as a base-ten string)
OPTIONAL: tuple[tuple[str, str, bool], ...] = (
    ("TransferFee", "transfer_fee", False),
    ("AssetScale", "asset_scale", False),
    ("MaximumAmount", "maximum_amount", True),
    ("OutstandingAmount", "outstanding_amount", True),
    ("LockedAmount", "locked_amount", True),
    ("MPTokenMetadata", "mptoken_metadata", False),
    ("DomainID", "domain_id", False),
)


def parse(params: JsonDict, api_version: int) -> Input:
    return parse_clio_account_request(params)


def issuance_json(key: bytes, issuance: JsonDict) -> JsonDict:
    item: JsonDict = {
        "mpt_issuance_id": key.hex().upper(),
        "issuer": issuance["Issuer"],
        "sequence": int(issuance["Sequence"]),
    }
    for field, name, base_ten in OPTIONAL:
        if field in issuance:
            item[name] = int(issuance[field]) if base_ten else issuance[field]
    set_flags(item, int(issuance.get("Flags", 0)), FLAGS)
    if "MutableFlags" in issuance:
        set_flags(item, int(issuance["MutableFlags"]), MUTABLE_FLAGS)
    return item


async def process(ctx: Context, inp: Input) -> JsonDict:
    return await owned_of_type(ctx, inp, "MPTokenIssuance", "mpt_issuances", issuance_json)


HANDLER = Handler(NAME, parse, process, clio_only=True)
