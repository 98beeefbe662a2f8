"""Transactions, metadata and ledger entries as rippled's API shows them.

The codec gives the JSON of what is serialized; rippled's answers add fields
that are not in the binary, and which ones depends on the API version and on
the command.  This module adds them, in one place:

- ``DeliverMax``: for a Payment, API v1 shows it beside ``Amount``; v2 shows it
  instead of ``Amount``.
- metadata ``delivered_amount``: for a successful Payment or CheckCash (and,
  outside the ``ledger`` command, AccountDelete): ``DeliveredAmount`` if the
  metadata has it, else the transaction's ``Amount``; ``"unavailable"`` for
  old mainnet ledgers that predate ``DeliveredAmount``.
- metadata ``mpt_issuance_id`` for a successful MPTokenIssuanceCreate (every
  command).
- metadata ``nftoken_id`` / ``nftoken_ids`` / ``offer_id`` for successful
  NFToken transactions (``tx``, ``account_tx``, streams; not ``ledger``):
  see :func:`nft_synthetic_fields`.
- ``hash`` (v1, inside the transaction), and with a ledger context ``ctid``,
  ``date``, ``ledger_index`` (and ``inLedger`` in v1).
- ledger entries: ``index``, and ``mpt_issuance_id`` on MPTokenIssuance.

Keys come out in insertion order; rippled prints keys sorted (serialize with
``orjson.OPT_SORT_KEYS`` for byte equality).
"""

from __future__ import annotations

import struct
from typing import Any, Literal

from clio_twisted.protocol.addresses import decode_address
from clio_twisted.protocol.codec import decode
from clio_twisted.protocol.ctid import encode_ctid
from clio_twisted.protocol.hashing import transaction_id
from clio_twisted.protocol.ledger_header import ripple_time_iso

# Before this ledger (and close time), mainnet metadata lacks DeliveredAmount and
# a partial payment's delivery cannot be known: rippled says "unavailable".
_FIRST_LEDGER_WITH_DELIVERED_AMOUNT = 4594095
_FIRST_CLOSE_TIME_WITH_DELIVERED_AMOUNT = 446000000

Form = Literal["tx", "ledger", "stream"]

_DELIVERED_TYPES_LEDGER = frozenset({"Payment", "CheckCash"})
_DELIVERED_TYPES = frozenset({"Payment", "CheckCash", "AccountDelete"})


def transaction_hash(tx_blob: bytes) -> str:
    """The transaction id, upper-case hex, as the API's ``hash``."""
    return transaction_id(tx_blob).hex().upper()


def mpt_issuance_id(sequence: int, issuer: str) -> str:
    """An MPT issuance id: the issuer's sequence (4 bytes) then its account id."""
    return (struct.pack(">I", sequence) + decode_address(issuer)).hex().upper()


def apply_deliver_max(tx_json: dict[str, Any], api_version: int) -> dict[str, Any]:
    """Payment ``Amount`` -> ``DeliverMax`` (v2), or both (v1). Mutates and returns tx_json."""
    if tx_json.get("TransactionType") == "Payment" and "Amount" in tx_json:
        if api_version > 1:
            tx_json["DeliverMax"] = tx_json.pop("Amount")
        else:
            tx_json["DeliverMax"] = tx_json["Amount"]
    return tx_json


def delivered_amount(
    tx_json: dict[str, Any],
    meta_json: dict[str, Any],
    *,
    ledger_index: int | None = None,
    close_time: int | None = None,
    for_ledger: bool = False,
) -> Any:
    """The metadata's ``delivered_amount``, or None when rippled shows none."""
    types = _DELIVERED_TYPES_LEDGER if for_ledger else _DELIVERED_TYPES
    if tx_json.get("TransactionType") not in types:
        return None
    if meta_json.get("TransactionResult") != "tesSUCCESS":
        return None
    if "DeliveredAmount" in meta_json:
        return meta_json["DeliveredAmount"]
    if (
        ledger_index is not None
        and close_time is not None
        and ledger_index < _FIRST_LEDGER_WITH_DELIVERED_AMOUNT
        and close_time < _FIRST_CLOSE_TIME_WITH_DELIVERED_AMOUNT
    ):
        return "unavailable"
    amount = tx_json.get("Amount", tx_json.get("DeliverMax"))
    return amount


def _nodes(meta_json: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for wrapper in meta_json.get("AffectedNodes", ()):
        for kind, node in wrapper.items():
            out.append((kind, node))
    return out


def _token_ids(fields: dict[str, Any] | None) -> list[str]:
    if not fields:
        return []
    return [t["NFToken"]["NFTokenID"] for t in fields.get("NFTokens", ()) if "NFToken" in t]


def nft_synthetic_fields(tx_json: dict[str, Any], meta_json: dict[str, Any]) -> dict[str, Any]:
    """``nftoken_id`` / ``nftoken_ids`` / ``offer_id`` of a successful NFToken transaction.

    - NFTokenMint: ``nftoken_id`` is the id present in the NFTokenPage nodes
      after the transaction and not before; ``offer_id`` too if it created an offer.
    - NFTokenAcceptOffer: ``nftoken_id`` of the deleted offer(s).
    - NFTokenCancelOffer: ``nftoken_ids`` of the deleted offers (first-seen order, distinct).
    - NFTokenCreateOffer: ``offer_id``, the created NFTokenOffer's index.
    """
    if meta_json.get("TransactionResult") != "tesSUCCESS":
        return {}
    tt = tx_json.get("TransactionType")
    out: dict[str, Any] = {}
    nodes = _nodes(meta_json)
    if tt == "NFTokenMint":
        before: set[str] = set()
        after: list[str] = []
        for kind, node in nodes:
            if node.get("LedgerEntryType") != "NFTokenPage":
                continue
            if kind == "CreatedNode":
                after += _token_ids(node.get("NewFields"))
            elif kind == "ModifiedNode":
                prev = node.get("PreviousFields")
                if prev and "NFTokens" in prev:
                    before.update(_token_ids(prev))
                    after += _token_ids(node.get("FinalFields"))
        new = [t for t in after if t not in before]
        if new:
            out["nftoken_id"] = new[0]
    if tt in ("NFTokenMint", "NFTokenCreateOffer"):
        for kind, node in nodes:
            if kind == "CreatedNode" and node.get("LedgerEntryType") == "NFTokenOffer":
                out["offer_id"] = node["LedgerIndex"]
                break
    elif tt == "NFTokenAcceptOffer":
        for kind, node in nodes:
            if kind == "DeletedNode" and node.get("LedgerEntryType") == "NFTokenOffer":
                out["nftoken_id"] = node["FinalFields"]["NFTokenID"]
                break
    elif tt == "NFTokenCancelOffer":
        ids: list[str] = []
        for kind, node in nodes:
            if kind == "DeletedNode" and node.get("LedgerEntryType") == "NFTokenOffer":
                token = node["FinalFields"]["NFTokenID"]
                if token not in ids:
                    ids.append(token)
        out["nftoken_ids"] = ids
    return out


def created_mpt_issuance_id(tx_json: dict[str, Any], meta_json: dict[str, Any]) -> str | None:
    """The id of the issuance a successful MPTokenIssuanceCreate made."""
    if tx_json.get("TransactionType") != "MPTokenIssuanceCreate":
        return None
    if meta_json.get("TransactionResult") != "tesSUCCESS":
        return None
    for kind, node in _nodes(meta_json):
        if kind == "CreatedNode" and node.get("LedgerEntryType") == "MPTokenIssuance":
            fields = node["NewFields"]
            return mpt_issuance_id(fields["Sequence"], fields["Issuer"])
    return None


def render_metadata(
    tx_json: dict[str, Any],
    meta_json: dict[str, Any],
    *,
    ledger_index: int | None = None,
    close_time: int | None = None,
    for_ledger: bool = False,
) -> dict[str, Any]:
    """Add the API fields to decoded metadata (mutates and returns meta_json)."""
    delivered = delivered_amount(
        tx_json, meta_json, ledger_index=ledger_index, close_time=close_time, for_ledger=for_ledger
    )
    if delivered is not None:
        meta_json["delivered_amount"] = delivered
    mpt = created_mpt_issuance_id(tx_json, meta_json)
    if mpt is not None:
        meta_json["mpt_issuance_id"] = mpt
    if not for_ledger:
        meta_json.update(nft_synthetic_fields(tx_json, meta_json))
    return meta_json


def render_transaction(
    tx_blob: bytes,
    meta_blob: bytes,
    *,
    api_version: int,
    ledger_index: int | None = None,
    close_time: int | None = None,
    network_id: int | None = None,
    form: Form = "tx",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A transaction and its metadata as rippled's API shows them.

    Args:
        tx_blob, meta_blob: the stored binary.
        api_version: 1 or 2 (decides ``DeliverMax`` and whether tx_json has ``hash``).
        ledger_index: the ledger holding it.
        close_time: that ledger's close time (seconds since 2000): ``date``, and
            the old-ledger ``delivered_amount`` rule.
        network_id: the network id for ``ctid`` (0 on mainnet and standalone);
            None leaves ``ctid`` out.
        form: which command's variant:
            ``"tx"`` (tx, account_tx): tx_json gets ``ctid``, ``date``,
            ``ledger_index`` and in v1 ``inLedger``, from the arguments given;
            ``"stream"`` (transactions/accounts streams): tx_json gets ``date``
            only (the message carries ledger_index and ctid; ``owner_funds`` of
            offers needs ledger state and is the stream builder's job);
            ``"ledger"`` (ledger with expand): nothing, no NFToken synthetic
            fields, ``delivered_amount`` for Payment and CheckCash only.

    Returns:
        ``(tx_json, meta_json)``. In v1 tx_json carries ``hash``; in v2 the caller
        puts ``hash`` (see :func:`transaction_hash`), ``ledger_index``,
        ``ledger_hash``, ``close_time_iso`` and ``validated`` beside them.
    """
    for_ledger = form == "ledger"
    tx_json = decode(tx_blob)
    meta_json = decode(meta_blob)
    render_metadata(
        tx_json, meta_json, ledger_index=ledger_index, close_time=close_time, for_ledger=for_ledger
    )
    apply_deliver_max(tx_json, api_version)
    if api_version < 2:
        tx_json["hash"] = transaction_hash(tx_blob)
    if form == "tx":
        if ledger_index is not None and network_id is not None and "TransactionIndex" in meta_json:
            c = encode_ctid(ledger_index, meta_json["TransactionIndex"], network_id)
            if c is not None:
                tx_json["ctid"] = c
        if close_time is not None:
            tx_json["date"] = close_time
        if ledger_index is not None:
            tx_json["ledger_index"] = ledger_index
            if api_version < 2:
                tx_json["inLedger"] = ledger_index
    elif form == "stream" and close_time is not None:
        tx_json["date"] = close_time
    return tx_json, meta_json


def close_time_iso(close_time: int) -> str:
    """rippled's ``close_time_iso`` of a ledger close time."""
    return ripple_time_iso(close_time)


def render_ledger_entry(blob: bytes, index: str | bytes) -> dict[str, Any]:
    """A ledger entry as ``ledger_entry``/``ledger_data``/``account_objects`` show it.

    Adds ``index`` (upper-case hex) and, for MPTokenIssuance, ``mpt_issuance_id``.
    """
    obj = decode(blob)
    obj["index"] = index.hex().upper() if isinstance(index, bytes) else index
    if obj.get("LedgerEntryType") == "MPTokenIssuance":
        obj["mpt_issuance_id"] = mpt_issuance_id(obj["Sequence"], obj["Issuer"])
    return obj
