"""What an NFToken id says about itself (flags, issuer, taxon, serial, transfer fee), as the API shows it."""

from __future__ import annotations

from clio_twisted.backend.nft_ids import nft_issuer, nft_sequence, nft_taxon
from clio_twisted.protocol.addresses import encode_account_id
from clio_twisted.rpc.context import JsonDict


def nft_id_fields(token_id: bytes) -> JsonDict:
    """``Flags``, ``Issuer``, ``NFTokenTaxon``, ``nft_serial`` and (when non-zero) ``TransferFee``."""
    out: JsonDict = {
        "Flags": int.from_bytes(token_id[0:2], "big"),
        "Issuer": encode_account_id(nft_issuer(token_id)),
        "NFTokenTaxon": nft_taxon(token_id),
        "nft_serial": nft_sequence(token_id),
    }
    fee = int.from_bytes(token_id[2:4], "big")
    if fee:
        out["TransferFee"] = fee
    return out
