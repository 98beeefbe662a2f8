"""JSON renderings for the fake rippled: the one place that turns blobs into JSON.

rippled renders its JSON answers from the binary objects it stores. Our own
fast codec is being written; until it serves here, xrpl-py's decoder does the
work, through ``decode`` alone, so switching is a one-line change. Binary
answers (what the ETL uses) never come through here.
"""

from __future__ import annotations

from typing import Any

try:  # the project's own codec renders rippled's JSON exactly; xrpl-py is the stand-in
    from clio_twisted.protocol.codec import decode as _codec_decode
except ImportError:  # pragma: no cover - only while the codec is not in the tree
    from xrpl.core.binarycodec import decode as _xrpl_decode

    def _codec_decode(blob: bytes) -> dict[str, Any]:
        result: dict[str, Any] = _xrpl_decode(blob.hex().upper())
        return result


def decode(blob: bytes) -> dict[str, Any]:
    """A serialized object (ledger entry, transaction or metadata) as JSON."""
    return _codec_decode(blob)


def transaction_json(tx_blob: bytes, api_version: int) -> dict[str, Any]:
    """A transaction as rippled shows it: Payments carry ``DeliverMax``.

    API v1 shows both ``Amount`` and ``DeliverMax``; v2 only ``DeliverMax``.
    """
    tx = decode(tx_blob)
    if tx.get("TransactionType") == "Payment" and "Amount" in tx:
        tx["DeliverMax"] = tx["Amount"]
        if api_version >= 2:
            del tx["Amount"]
    return dict(sorted(tx.items()))


def meta_json(meta_blob: bytes, tx: dict[str, Any]) -> dict[str, Any]:
    """Metadata as rippled shows it, with ``delivered_amount`` where rippled adds it.

    The other synthetic fields rippled adds (nftoken_id, offer_id,
    mpt_issuance_id) are left to the project's renderer.
    """
    meta = decode(meta_blob)
    kind = tx.get("TransactionType")
    if kind in _DELIVERING and meta.get("TransactionResult") == "tesSUCCESS":
        if "DeliveredAmount" in meta:
            meta["delivered_amount"] = meta["DeliveredAmount"]
        elif "Amount" in tx:
            meta["delivered_amount"] = tx["Amount"]
        else:
            meta["delivered_amount"] = "unavailable"
    return meta


_DELIVERING = frozenset({"Payment", "CheckCash", "AccountDelete"})
