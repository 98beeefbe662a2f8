"""JSON renderings for the fake rippled: the one place that turns blobs into JSON.

rippled renders its JSON answers from the binary objects it stores, adding
API fields that are not in the binary (DeliverMax, delivered_amount,
nftoken_id, ...). The project's codec and renderer do exactly that, so the
fake uses them; binary answers (what the ETL uses) never come through here.
"""

from __future__ import annotations

from typing import Any

from clio_twisted.protocol import render
from clio_twisted.protocol.codec import decode as _decode


def decode(blob: bytes) -> dict[str, Any]:
    """A serialized object (ledger entry, transaction or metadata) as plain JSON."""
    return _decode(blob)


def ledger_entry_json(blob: bytes, key: bytes) -> dict[str, Any]:
    """A ledger entry as ledger_entry/ledger_data show it (with ``index``)."""
    return render.render_ledger_entry(blob, key)


def transaction_json(tx_blob: bytes, api_version: int) -> dict[str, Any]:
    """A transaction as rippled shows it: Payments carry ``DeliverMax`` (v1 beside Amount)."""
    return dict(sorted(render.apply_deliver_max(decode(tx_blob), api_version).items()))


def meta_json(
    meta_blob: bytes,
    tx_blob: bytes,
    *,
    ledger_index: int,
    close_time: int,
    for_ledger: bool = False,
) -> dict[str, Any]:
    """Metadata with the fields rippled adds (``for_ledger``: as the ``ledger`` command shows it)."""
    return render.render_metadata(
        decode(tx_blob),
        decode(meta_blob),
        ledger_index=ledger_index,
        close_time=close_time,
        for_ledger=for_ledger,
    )
