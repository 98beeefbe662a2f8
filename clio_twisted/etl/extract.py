"""From a validated ledger's transactions and metadata to the rows the store keeps.

The ETL decodes little: each transaction's metadata for the keys it touched
(and which of them it deleted), the accounts it affected (rippled's
``getAffectedAccounts``: every AccountID field of every affected node, plus
the issuers of trust-line limits and of offer amounts), the NFTs whose owner
or burn state it changed (Clio's ``getNFTDataFromTx``, done here generically:
a token that appears in an owner's page moved to that owner, a token that
vanished in an NFTokenBurn is burned), and MPToken holders created or deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from attrs import field, frozen

from clio_twisted.backend.interface import (
    NFT,
    AccountTransactionRow,
    LedgerObject,
    MPTHolderRow,
    NFTTransactionRow,
    TransactionRecord,
)
from clio_twisted.protocol import keylets
from clio_twisted.protocol.addresses import decode_address
from clio_twisted.protocol.codec import decode
from clio_twisted.protocol.definitions import default_definitions
from clio_twisted.protocol.hashing import transaction_id

JsonDict = dict[str, Any]

# The fields whose Amount issuer counts as affected (rippled's getAffectedAccounts).
_ISSUER_AMOUNT_FIELDS = frozenset({"LowLimit", "HighLimit", "TakerPays", "TakerGets"})
_NODE_KINDS = ("CreatedNode", "ModifiedNode", "DeletedNode")


# -- the codec (the project's own: rippled's definitions, rippled's JSON) ------------------------


def decode_binary(blob: bytes) -> JsonDict:
    """XRPL binary -> rippled's JSON."""
    return decode(blob)


def account_id(address: str) -> bytes:
    """A classic address -> its 20-byte account id."""
    return decode_address(address)


@cache
def _is_account_field(name: str) -> bool:
    field_def = default_definitions().fields.get(name)
    return field_def is not None and field_def.type_name == "AccountID"


# -- keys that change without metadata ---------------------------------------------------------


def skip_list_keys(sequence: int) -> list[bytes]:
    """The objects rippled changes in ledger ``sequence`` without any metadata.

    Checked against 268 consecutive real rippled 3.1.1 ledgers: the only state
    changes not named by any transaction's metadata are these LedgerHashes. The
    short list changes in every ledger; the long one when the parent's sequence
    is a multiple of 256 (rippled's ``updateSkipList``).
    """
    keys = [keylets.skip()]
    parent = sequence - 1
    if parent > 0 and parent & 0xFF == 0:
        keys.append(keylets.skip_for(parent))
    return keys


# -- one transaction ---------------------------------------------------------------------------


@frozen
class TransactionFacts:
    """What one transaction means for the store, from its blobs."""

    record: TransactionRecord
    touched: tuple[bytes, ...]  # every key in AffectedNodes, in metadata order
    deleted: frozenset[bytes]
    created: frozenset[bytes]
    accounts: frozenset[bytes]
    nfts: tuple[NFT, ...] = ()
    nft_ids: frozenset[bytes] = field(factory=frozenset)
    mpt_holders: tuple[MPTHolderRow, ...] = ()


def _nodes(meta: JsonDict) -> Iterable[tuple[str, JsonDict]]:
    for wrapper in meta.get("AffectedNodes", ()):
        for kind in _NODE_KINDS:
            node = wrapper.get(kind)
            if node is not None:
                yield kind, node


def affected_accounts(meta: JsonDict) -> set[bytes]:
    """rippled's getAffectedAccounts: AccountID fields, limit and offer-amount issuers, MPT issuers.

    An ``MPTokenIssuanceID`` (4-byte sequence, then the issuer's 20-byte
    AccountID) adds its issuer, as rippled 3.1.1 does: an MPToken holder's
    transactions show in the issuer's account_tx.
    """
    accounts: set[bytes] = set()
    for _kind, node in _nodes(meta):
        for part in ("NewFields", "FinalFields"):
            fields = node.get(part)
            if not fields:
                continue
            for name, value in fields.items():
                if isinstance(value, str) and _is_account_field(name):
                    accounts.add(account_id(value))
                elif (
                    name in _ISSUER_AMOUNT_FIELDS and isinstance(value, dict) and "issuer" in value
                ):
                    accounts.add(account_id(value["issuer"]))
                elif name == "MPTokenIssuanceID" and isinstance(value, str) and len(value) == 48:
                    issuer = bytes.fromhex(value)[4:]
                    if any(issuer):
                        accounts.add(issuer)
    return accounts


def _tokens(fields: JsonDict | None) -> dict[bytes, bytes | None] | None:
    """NFTokens of a page's fields -> {token id: uri}; None when the field is absent."""
    if fields is None or "NFTokens" not in fields:
        return None
    out: dict[bytes, bytes | None] = {}
    for item in fields["NFTokens"]:
        token = item.get("NFToken", item)
        uri = token.get("URI")
        out[bytes.fromhex(token["NFTokenID"])] = bytes.fromhex(uri) if uri else None
    return out


def nft_changes(
    tx: JsonDict, meta: JsonDict, sequence: int, tx_index: int
) -> tuple[list[NFT], set[bytes]]:
    """NFT owner/burn changes of one successful transaction, and every token it concerns."""
    before: dict[bytes, bytes] = {}  # token -> owner, from pages as they were
    after: dict[
        bytes, tuple[bytes, bytes | None]
    ] = {}  # token -> (owner, uri), pages as they are now
    concerned: set[bytes] = set()
    for kind, node in _nodes(meta):
        entry_type = node.get("LedgerEntryType")
        if entry_type == "NFTokenOffer":
            fields = node.get("NewFields") or node.get("FinalFields") or {}
            if "NFTokenID" in fields:
                concerned.add(bytes.fromhex(fields["NFTokenID"]))
            continue
        if entry_type != "NFTokenPage":
            continue
        owner = bytes.fromhex(node["LedgerIndex"])[:20]
        if kind == "CreatedNode":
            new = _tokens(node.get("NewFields")) or {}
            old: dict[bytes, bytes | None] = {}
        elif kind == "DeletedNode":
            new = {}
            old = _tokens(node.get("PreviousFields")) or _tokens(node.get("FinalFields")) or {}
        else:
            previous = _tokens(node.get("PreviousFields"))
            if previous is None:
                continue  # the page's tokens did not change
            old = previous
            new = _tokens(node.get("FinalFields")) or {}
        for token in old:
            before[token] = owner
        for token, uri in new.items():
            after[token] = (owner, uri)
    rows: list[NFT] = []
    for token, (owner, uri) in after.items():
        if before.get(token) != owner:
            rows.append(NFT(token, sequence, owner, False, uri))
            concerned.add(token)
    if tx.get("TransactionType") == "NFTokenBurn":
        burned = bytes.fromhex(tx["NFTokenID"])
        concerned.add(burned)
        if burned not in after and burned in before:
            rows.append(NFT(burned, sequence, before[burned], True, None))
    for token in before:
        if token not in after:
            concerned.add(token)
    if tx.get("TransactionType") == "NFTokenMint":
        concerned.update(after.keys() - before.keys())
    return rows, concerned


def mpt_holder_changes(meta: JsonDict, sequence: int) -> list[MPTHolderRow]:
    """MPToken objects created or deleted: holders joining or leaving an issuance."""
    rows = []
    for kind, node in _nodes(meta):
        if node.get("LedgerEntryType") != "MPToken" or kind == "ModifiedNode":
            continue
        fields = node.get("NewFields") or node.get("FinalFields") or {}
        if "MPTokenIssuanceID" in fields and "Account" in fields:
            rows.append(
                MPTHolderRow(
                    bytes.fromhex(fields["MPTokenIssuanceID"]),
                    account_id(fields["Account"]),
                    sequence,
                    bytes.fromhex(node["LedgerIndex"]),
                )
            )
    return rows


def transaction_facts(
    tx_blob: bytes, meta_blob: bytes, sequence: int, close_time: int
) -> TransactionFacts:
    """Decode one transaction's blobs into its record and the rows it implies."""
    meta = decode_binary(meta_blob)
    tx = decode_binary(tx_blob)
    tx_index = int(meta["TransactionIndex"])
    touched: list[bytes] = []
    deleted: set[bytes] = set()
    created: set[bytes] = set()
    for kind, node in _nodes(meta):
        key = bytes.fromhex(node["LedgerIndex"])
        touched.append(key)
        if kind == "DeletedNode":
            deleted.add(key)
        elif kind == "CreatedNode":
            created.add(key)
    record = TransactionRecord(
        transaction_id(tx_blob), sequence, tx_index, close_time, tx_blob, meta_blob
    )
    nfts: list[NFT] = []
    nft_ids: set[bytes] = set()
    if meta.get("TransactionResult") == "tesSUCCESS":
        nfts, nft_ids = nft_changes(tx, meta, sequence, tx_index)
    return TransactionFacts(
        record=record,
        touched=tuple(touched),
        deleted=frozenset(deleted),
        created=frozenset(created),
        accounts=frozenset(affected_accounts(meta)),
        nfts=tuple(nfts),
        nft_ids=frozenset(nft_ids),
        mpt_holders=tuple(mpt_holder_changes(meta, sequence)),
    )


@frozen
class LedgerRows:
    """The per-ledger rows derived from all its transactions."""

    transactions: list[TransactionRecord]
    account_transactions: list[AccountTransactionRow]
    nfts: list[NFT]
    nft_transactions: list[NFTTransactionRow]
    mpt_holders: list[MPTHolderRow]
    touched: set[bytes]
    deleted: set[bytes]


def ledger_rows(facts: Sequence[TransactionFacts]) -> LedgerRows:
    """Combine the transactions of one ledger; the last change of a key wins for ``deleted``.

    An object created and deleted within the ledger (an offer crossed by a
    later transaction, say) never existed before or after it: it is no change.
    """
    account_rows: list[AccountTransactionRow] = []
    nft_rows: list[NFTTransactionRow] = []
    nfts: dict[bytes, NFT] = {}
    touched: set[bytes] = set()
    deleted: set[bytes] = set()
    holders: list[MPTHolderRow] = []
    born: set[bytes] = set()  # keys whose first change in this ledger created them
    for f in sorted(facts, key=lambda f: f.record.transaction_index):
        r = f.record
        for account in sorted(f.accounts):
            account_rows.append(
                AccountTransactionRow(account, r.ledger_sequence, r.transaction_index, r.hash)
            )
        for token in sorted(f.nft_ids):
            nft_rows.append(
                NFTTransactionRow(token, r.ledger_sequence, r.transaction_index, r.hash)
            )
        for nft in f.nfts:
            nfts[nft.token_id] = nft  # one row per token and ledger: its state at the end
        for key in f.touched:
            if key not in touched and key in f.created:
                born.add(key)
            touched.add(key)
            if key in f.deleted:
                deleted.add(key)
            else:
                deleted.discard(key)
        holders.extend(f.mpt_holders)
    transient = born & deleted
    touched -= transient
    deleted -= transient
    return LedgerRows(
        transactions=[f.record for f in sorted(facts, key=lambda f: f.record.transaction_index)],
        account_transactions=account_rows,
        nfts=list(nfts.values()),
        nft_transactions=nft_rows,
        mpt_holders=holders,
        touched=touched,
        deleted=deleted,
    )


# -- initial load: what the state itself implies -----------------------------------------------

_NFTOKEN_PAGE = 0x0050
_MPTOKEN = 0x007F


def entry_type(blob: bytes) -> int | None:
    """The LedgerEntryType of an object blob without decoding it (it is always the first field)."""
    if len(blob) >= 3 and blob[0] == 0x11:
        return int.from_bytes(blob[1:3], "big")
    return None


def state_rows(
    objects: Iterable[LedgerObject], sequence: int
) -> tuple[list[NFT], list[MPTHolderRow]]:
    """NFTs held in NFTokenPages and MPToken holders of a full state (initial load)."""
    nfts: list[NFT] = []
    holders: list[MPTHolderRow] = []
    for obj in objects:
        kind = entry_type(obj.blob)
        if kind == _NFTOKEN_PAGE:
            owner = obj.key[:20]
            for token, uri in (_tokens(decode_binary(obj.blob)) or {}).items():
                nfts.append(NFT(token, sequence, owner, False, uri))
        elif kind == _MPTOKEN:
            fields = decode_binary(obj.blob)
            holders.append(
                MPTHolderRow(
                    bytes.fromhex(fields["MPTokenIssuanceID"]),
                    account_id(fields["Account"]),
                    sequence,
                    obj.key,
                )
            )
    return nfts, holders
