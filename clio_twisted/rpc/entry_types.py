"""Ledger entry types as the API names them: canonical name, the short RPC name, and the type code.

rippled's ``type`` filters (``ledger_data``, ``account_objects``) accept either
the canonical name (case-insensitively: ``"AccountRoot"``, ``"accountroot"``) or
the RPC name exactly (``"account"``); anything else is ``invalidParams``
``Invalid field 'type'.`` and a non-string ``Invalid field 'type', not string.``
The table follows rippled 3.1.1's ledger entry list.
"""

from __future__ import annotations

from attrs import frozen

from clio_twisted.rpc.errors import RippledError, RPCError


@frozen
class EntryType:
    name: str  # canonical LedgerEntryType, as in the JSON of an object
    rpc_name: str
    code: int


ENTRY_TYPES: tuple[EntryType, ...] = (
    EntryType("NFTokenOffer", "nft_offer", 0x0037),
    EntryType("Check", "check", 0x0043),
    EntryType("DID", "did", 0x0049),
    EntryType("NegativeUNL", "nunl", 0x004E),
    EntryType("NFTokenPage", "nft_page", 0x0050),
    EntryType("SignerList", "signer_list", 0x0053),
    EntryType("Ticket", "ticket", 0x0054),
    EntryType("AccountRoot", "account", 0x0061),
    EntryType("DirectoryNode", "directory", 0x0064),
    EntryType("Amendments", "amendments", 0x0066),
    EntryType("LedgerHashes", "hashes", 0x0068),
    EntryType("Bridge", "bridge", 0x0069),
    EntryType("Offer", "offer", 0x006F),
    EntryType("DepositPreauth", "deposit_preauth", 0x0070),
    EntryType("XChainOwnedClaimID", "xchain_owned_claim_id", 0x0071),
    EntryType("RippleState", "state", 0x0072),
    EntryType("FeeSettings", "fee", 0x0073),
    EntryType("XChainOwnedCreateAccountClaimID", "xchain_owned_create_account_claim_id", 0x0074),
    EntryType("Escrow", "escrow", 0x0075),
    EntryType("PayChannel", "payment_channel", 0x0078),
    EntryType("AMM", "amm", 0x0079),
    EntryType("MPTokenIssuance", "mpt_issuance", 0x007E),
    EntryType("MPToken", "mptoken", 0x007F),
    EntryType("Oracle", "oracle", 0x0080),
    EntryType("Credential", "credential", 0x0081),
    EntryType("PermissionedDomain", "permissioned_domain", 0x0082),
    EntryType("Delegate", "delegate", 0x0083),
    EntryType("Vault", "vault", 0x0084),
    EntryType("LoanBroker", "loan_broker", 0x0088),
    EntryType("Loan", "loan", 0x0089),
)

BY_CODE = {t.code: t for t in ENTRY_TYPES}
BY_NAME = {t.name: t for t in ENTRY_TYPES}


def parse_type_filter(value: object) -> EntryType:
    """rippled's ``chooseLedgerEntryType`` for a present ``type`` field."""
    if not isinstance(value, str):
        raise RPCError(RippledError.invalidParams, "Invalid field 'type', not string.")
    lowered = value.lower()
    for entry in ENTRY_TYPES:
        if entry.name.lower() == lowered or entry.rpc_name == value:
            return entry
    raise RPCError(RippledError.invalidParams, "Invalid field 'type'.")


def blob_type_code(blob: bytes) -> int | None:
    """The LedgerEntryType code of an object blob without decoding it (always its first field)."""
    if len(blob) >= 3 and blob[0] == 0x11:
        return int.from_bytes(blob[1:3], "big")
    return None
