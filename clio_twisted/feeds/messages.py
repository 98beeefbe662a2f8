"""The stream messages Clio builds itself, from stored data: ledgerClosed and transaction.

Shapes (rippled 3.1.1's recorded streams, and Clio's feeds):

- ``ledgerClosed``: ``type, ledger_index, ledger_hash, ledger_time, fee_base,
  reserve_base, reserve_inc, validated_ledgers, txn_count, network_id``; the
  ``subscribe`` answer for the ledger stream is the same without ``type`` and
  ``txn_count``.
- ``transaction``: the transaction under ``transaction`` (v1, with ``hash``
  inside) or ``tx_json`` (v2, ``hash`` beside it), always with ``date``, and
  ``owner_funds`` for an OfferCreate whose account does not issue what it
  sells; ``meta`` (with ``delivered_amount``), ``ctid``, ``type``,
  ``validated``, ``status: closed``, ``close_time_iso``, ``ledger_index``,
  ``ledger_hash``, ``engine_result_code``, ``engine_result``,
  ``engine_result_message``.

Who receives a transaction: every account rippled's ``getAffectedAccounts``
names (:func:`clio_twisted.etl.extract.affected_accounts`), and every order
book of an Offer node (its PreviousFields, NewFields or FinalFields).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from attrs import frozen

from clio_twisted.backend.interface import TransactionRecord
from clio_twisted.etl.extract import affected_accounts
from clio_twisted.feeds.ter import engine_result
from clio_twisted.protocol.addresses import decode_address
from clio_twisted.protocol.codec import decode
from clio_twisted.protocol.ctid import encode_ctid
from clio_twisted.protocol.keylets import currency_code
from clio_twisted.protocol.ledger_header import LedgerHeader, ripple_time_iso
from clio_twisted.protocol.render import render_transaction

JsonDict = dict[str, Any]
XRP_ISSUE = (bytes(20), b"")

# An issue as a book side: (20-byte currency code, 20-byte issuer; empty for XRP).
Issue = tuple[bytes, bytes]
# An order book: (taker_pays issue, taker_gets issue, permissioned domain or None), as a
# subscription names it (an offer's TakerGets is what a taker pays into the book).
Book = tuple[Issue, Issue, bytes | None]


@frozen
class Fees:
    """A ledger's fee settings in drops."""

    base: int
    reserve_base: int
    reserve_inc: int


def fees_from_object(fee_settings: JsonDict | None) -> Fees:
    """The FeeSettings object's fees, in either the old (UInt) or the XRPFees (drops) fields."""
    if not fee_settings:
        return Fees(0, 0, 0)
    if "BaseFeeDrops" in fee_settings:
        return Fees(
            int(fee_settings["BaseFeeDrops"]),
            int(fee_settings.get("ReserveBaseDrops", 0)),
            int(fee_settings.get("ReserveIncrementDrops", 0)),
        )
    base = fee_settings.get("BaseFee", 0)
    return Fees(
        int(base, 16) if isinstance(base, str) else int(base),
        int(fee_settings.get("ReserveBase", 0)),
        int(fee_settings.get("ReserveIncrement", 0)),
    )


def ledger_fields(
    header: LedgerHeader, fees: Fees, validated_ledgers: str, network_id: int
) -> JsonDict:
    """The ledger stream's answer to ``subscribe`` (no ``type``, no ``txn_count``)."""
    return {
        "ledger_index": header.sequence,
        "ledger_hash": header.hash.hex().upper(),
        "ledger_time": header.close_time,
        "fee_base": fees.base,
        "reserve_base": fees.reserve_base,
        "reserve_inc": fees.reserve_inc,
        "validated_ledgers": validated_ledgers,
        "network_id": network_id,
    }


def ledger_closed(
    header: LedgerHeader, fees: Fees, validated_ledgers: str, txn_count: int, network_id: int
) -> JsonDict:
    """The ``ledgerClosed`` message of one published ledger."""
    return {
        "type": "ledgerClosed",
        **ledger_fields(header, fees, validated_ledgers, network_id),
        "txn_count": txn_count,
    }


@frozen
class DecodedTransaction:
    """A stored transaction decoded once, with who it touches; rendered per API version later."""

    record: TransactionRecord
    ledger_hash: bytes
    accounts: frozenset[bytes]
    books: frozenset[Book]
    owner_funds: str | None

    def message(self, api_version: int, network_id: int) -> JsonDict:
        """The ``transaction`` stream message in ``api_version``'s shape."""
        record = self.record
        tx, meta = render_transaction(
            record.transaction,
            record.metadata,
            api_version=api_version,
            ledger_index=record.ledger_sequence,
            close_time=record.date,
            form="stream",
        )
        if self.owner_funds is not None:
            tx["owner_funds"] = self.owner_funds
        token = str(meta.get("TransactionResult", ""))
        code, text = engine_result(token)
        out: JsonDict = {"transaction" if api_version < 2 else "tx_json": tx, "meta": meta}
        ctid = encode_ctid(record.ledger_sequence, record.transaction_index, network_id)
        if ctid is not None:
            out["ctid"] = ctid
        out["type"] = "transaction"
        out["validated"] = True
        out["status"] = "closed"
        out["close_time_iso"] = ripple_time_iso(record.date)
        out["ledger_index"] = record.ledger_sequence
        out["ledger_hash"] = self.ledger_hash.hex().upper()
        if api_version >= 2:
            out["hash"] = record.hash.hex().upper()
        out["engine_result_code"] = code
        out["engine_result"] = token
        out["engine_result_message"] = text
        return out


def issue_of(amount: Any) -> Issue | None:
    """The issue of an amount (XRP drops string, or {currency, issuer[, value]})."""
    if isinstance(amount, str):
        return XRP_ISSUE
    if isinstance(amount, dict) and isinstance(amount.get("currency"), str):
        currency = currency_code(amount["currency"])
        if currency == XRP_ISSUE[0]:
            return XRP_ISSUE
        issuer = amount.get("issuer")
        return (currency, decode_address(issuer) if isinstance(issuer, str) else b"")
    return None


def affected_books(meta: JsonDict) -> set[Book]:
    """The books of the Offer nodes, as rippled and Clio find them (Previous/New/Final fields by node kind).

    rippled keys an offer's book by (TakerGets issue, TakerPays issue) while its
    ``subscribe`` keys a book by (taker_pays, taker_gets): so an offer reaches the
    subscribers whose ``taker_pays`` is its TakerGets. The recorded streams show it.
    """
    books: set[Book] = set()
    for wrapper in meta.get("AffectedNodes", ()):
        for kind, part in (
            ("ModifiedNode", "PreviousFields"),
            ("CreatedNode", "NewFields"),
            ("DeletedNode", "FinalFields"),
        ):
            node = wrapper.get(kind)
            if node is None or node.get("LedgerEntryType") != "Offer":
                continue
            fields = node.get(part) or {}
            pays, gets = issue_of(fields.get("TakerPays")), issue_of(fields.get("TakerGets"))
            if pays is not None and gets is not None:
                domain = fields.get("DomainID")
                books.add((gets, pays, bytes.fromhex(domain) if isinstance(domain, str) else None))
    return books


def owner_funds_wanted(tx: JsonDict) -> tuple[str, Any] | None:
    """(account, TakerGets) when an OfferCreate's stream message carries ``owner_funds``."""
    if tx.get("TransactionType") != "OfferCreate":
        return None
    gets = tx.get("TakerGets")
    if isinstance(gets, dict):
        if "issuer" not in gets or gets["issuer"] == tx.get("Account"):
            return None
    elif not isinstance(gets, str):
        return None
    return str(tx["Account"]), gets


def decode_for_streams(
    record: TransactionRecord, ledger_hash: bytes, owner_funds: str | None = None
) -> DecodedTransaction:
    """Who a transaction touches (accounts and books), decoded once for the fan-out."""
    meta = decode(record.metadata)
    return DecodedTransaction(
        record=record,
        ledger_hash=ledger_hash,
        accounts=frozenset(affected_accounts(meta)),
        books=frozenset(affected_books(meta)),
        owner_funds=owner_funds,
    )


def account_ids(addresses: Iterable[str]) -> list[bytes]:
    """Decode addresses (already checked by the subscribe parser)."""
    return [decode_address(a) for a in addresses]
