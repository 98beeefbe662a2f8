"""A stored transaction as each method shows it: one place for the shapes of tx, account_tx, ledger,
transaction_entry and nft_history, per API version, JSON or binary.

The transaction and metadata JSON with rippled's API-added fields (DeliverMax,
delivered_amount, nftoken ids...) come from :mod:`clio_twisted.protocol.render`;
this module only places them, with ``hash``, ``ctid``, ``date``,
``ledger_index``, ``inLedger``, ``ledger_hash`` and ``close_time_iso`` where
rippled puts them for each method. The shapes were read off rippled 3.1.1's
recorded answers:

============  ========================================  ===========================================
method        v1                                        v2
============  ========================================  ===========================================
tx            tx fields + ctid date hash inLedger       tx_json{+ctid date ledger_index} meta hash
              ledger_index meta validated               ctid ledger_hash ledger_index
                                                        close_time_iso validated
tx binary     tx meta (hex) + the same extras           tx_blob meta_blob + the same extras
account_tx    {tx{+ctid date hash inLedger              {tx_json{+ctid date ledger_index} meta hash
              ledger_index} meta validated}             ledger_hash ledger_index close_time_iso
                                                        validated}
acct binary   {tx_blob meta ledger_index validated}     {tx_blob meta_blob ledger_index validated}
ledger        tx fields + hash metaData                 {tx_json meta hash ledger_hash ledger_index
                                                        close_time_iso validated}
led. binary   {tx_blob meta}                            {tx_blob meta_blob hash}
tx_entry      tx_json{+hash} metadata                   tx_json meta hash close_time_iso
============  ========================================  ===========================================
"""

from __future__ import annotations

from typing import Any

from clio_twisted.backend.interface import TransactionRecord
from clio_twisted.protocol.ctid import encode_ctid
from clio_twisted.protocol.ledger_header import ripple_time_iso
from clio_twisted.rpc.render_cache import (
    HISTORY_ITEMS,
    JSON_OVERHEAD,
    MAX_BLOB,
    rendered_transaction,
)

JsonDict = dict[str, Any]


def render(
    record: TransactionRecord,
    api_version: int,
    *,
    form: str = "tx",
    network_id: int | None = None,
    delivered_amount: bool = True,
) -> tuple[JsonDict, JsonDict]:
    """The transaction and metadata JSON with rippled's API fields (see protocol.render).

    Kept in :mod:`clio_twisted.rpc.render_cache` (stored transactions never
    change): the dicts are shared, so the shapes below copy before adding.
    """
    return rendered_transaction(
        record,
        api_version,
        form,  # type: ignore[arg-type]
        network_id,
        delivered_amount,
    )


def _ctid(record: TransactionRecord, network_id: int | None) -> JsonDict:
    if network_id is None:
        return {}
    ctid = encode_ctid(record.ledger_sequence, record.transaction_index, network_id)
    return {} if ctid is None else {"ctid": ctid}


def _hash(record: TransactionRecord) -> str:
    return record.hash.hex().upper()


def tx_answer(
    record: TransactionRecord,
    api_version: int,
    *,
    binary: bool,
    ledger_hash: bytes,
    network_id: int | None,
) -> JsonDict:
    """The ``tx`` method's result (without ``status``)."""
    ctid = _ctid(record, network_id)
    if api_version < 2:
        extras: JsonDict = {
            **ctid,
            "date": record.date,
            "hash": _hash(record),
            "inLedger": record.ledger_sequence,
            "ledger_index": record.ledger_sequence,
            "validated": True,
        }
        if binary:
            return {
                "tx": record.transaction.hex().upper(),
                "meta": record.metadata.hex().upper(),
                **extras,
            }
        tx, meta = render(record, api_version)
        return {**tx, **extras, "meta": meta}
    out: JsonDict = {
        **ctid,
        "hash": _hash(record),
        "ledger_hash": ledger_hash.hex().upper(),
        "ledger_index": record.ledger_sequence,
        "close_time_iso": ripple_time_iso(record.date),
        "validated": True,
    }
    if binary:
        out["tx_blob"] = record.transaction.hex().upper()
        out["meta_blob"] = record.metadata.hex().upper()
        return out
    tx, meta = render(record, api_version)
    out["tx_json"] = {**tx, **ctid, "date": record.date, "ledger_index": record.ledger_sequence}
    out["meta"] = meta
    return out


def history_item(
    record: TransactionRecord,
    api_version: int,
    *,
    binary: bool,
    ledger_hash: bytes,
    network_id: int | None,
) -> JsonDict:
    """One entry of ``account_tx``'s (and ``nft_history``'s) ``transactions`` array (kept: shared)."""
    full_key = (
        record.hash,
        record.metadata,
        record.ledger_sequence,
        api_version,
        binary,
        ledger_hash,
        network_id,
    )
    hit = HISTORY_ITEMS.get(full_key)
    if hit is not None:
        return hit
    item = _history_item(
        record, api_version, binary=binary, ledger_hash=ledger_hash, network_id=network_id
    )
    size = len(record.transaction) + len(record.metadata)
    if size <= MAX_BLOB:
        HISTORY_ITEMS.put(full_key, item, size * JSON_OVERHEAD)
    return item


def _history_item(
    record: TransactionRecord,
    api_version: int,
    *,
    binary: bool,
    ledger_hash: bytes,
    network_id: int | None,
) -> JsonDict:
    if binary:
        meta_key = "meta" if api_version < 2 else "meta_blob"
        return {
            "ledger_index": record.ledger_sequence,
            meta_key: record.metadata.hex().upper(),
            "tx_blob": record.transaction.hex().upper(),
            "validated": True,
        }
    ctid = _ctid(record, network_id)
    tx, meta = render(record, api_version)
    if api_version < 2:
        tx = {
            **tx,
            **ctid,
            "date": record.date,
            "hash": _hash(record),
            "inLedger": record.ledger_sequence,
            "ledger_index": record.ledger_sequence,
        }
        return {"meta": meta, "tx": tx, "validated": True}
    tx_json = {**tx, **ctid, "date": record.date, "ledger_index": record.ledger_sequence}
    return _v2_entry(record, ledger_hash, tx_json, meta)


def ledger_item(
    record: TransactionRecord, api_version: int, *, binary: bool, ledger_hash: bytes
) -> JsonDict:
    """One expanded transaction of the ``ledger`` method."""
    if binary:
        if api_version < 2:
            return {
                "tx_blob": record.transaction.hex().upper(),
                "meta": record.metadata.hex().upper(),
            }
        return {
            "hash": _hash(record),
            "meta_blob": record.metadata.hex().upper(),
            "tx_blob": record.transaction.hex().upper(),
        }
    tx, meta = render(record, api_version, form="ledger")
    if api_version < 2:
        return {**tx, "hash": _hash(record), "metaData": meta}
    return _v2_entry(record, ledger_hash, tx, meta)


def transaction_entry_answer(
    record: TransactionRecord, api_version: int, *, ledger_hash: bytes
) -> JsonDict:
    """``transaction_entry``'s result: rippled adds no ``delivered_amount`` here."""
    tx, meta = render(record, api_version, form="ledger", delivered_amount=False)
    if api_version < 2:
        return {
            "ledger_hash": ledger_hash.hex().upper(),
            "ledger_index": record.ledger_sequence,
            "metadata": meta,
            "tx_json": {**tx, "hash": _hash(record)},
            "validated": True,
        }
    return _v2_entry(record, ledger_hash, tx, meta)


def network_id(ctx: Any) -> int:
    """The network id for ``ctid``: the one the ETL learnt from rippled, else 0 (mainnet and standalone)."""
    value = getattr(ctx.etl, "network_id", None) if ctx.etl is not None else None
    return int(value) if isinstance(value, int) else 0


def _v2_entry(
    record: TransactionRecord, ledger_hash: bytes, tx_json: JsonDict, meta: JsonDict
) -> JsonDict:
    """API v2's wrapper around one validated transaction (account_tx, ledger, transaction_entry)."""
    return {
        "close_time_iso": ripple_time_iso(record.date),
        "hash": _hash(record),
        "ledger_hash": ledger_hash.hex().upper(),
        "ledger_index": record.ledger_sequence,
        "meta": meta,
        "tx_json": tx_json,
        "validated": True,
    }
