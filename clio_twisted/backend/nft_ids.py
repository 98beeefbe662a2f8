"""What an NFToken id says about itself: its issuer and (unscrambled) taxon.

Layout (XLS-20): flags u16, transfer fee u16, issuer account id (20 bytes),
scrambled taxon u32, mint sequence u32. The taxon is XORed with a linear
congruential value of the sequence so that tokens of one taxon do not sit
next to each other in the owner's pages; the issuer index needs it back in
clear to order by (taxon, token id) as Clio's ``nfts_by_issuer`` does.
"""

from __future__ import annotations

import struct

NFT_ID_SIZE = 32
_TAIL = struct.Struct(">II")


def nft_issuer(token_id: bytes) -> bytes:
    """The 20-byte account id of the issuer."""
    _check(token_id)
    return token_id[4:24]


def nft_sequence(token_id: bytes) -> int:
    """The issuer's MintedNFTokens value at mint time."""
    _check(token_id)
    return _TAIL.unpack_from(token_id, 24)[1]


def nft_taxon(token_id: bytes) -> int:
    """The taxon in clear (the id stores it scrambled with the mint sequence)."""
    _check(token_id)
    scrambled, sequence = _TAIL.unpack_from(token_id, 24)
    return scrambled ^ ((384160001 * sequence + 2459) & 0xFFFFFFFF)


def _check(token_id: bytes) -> None:
    if len(token_id) != NFT_ID_SIZE:
        raise ValueError(f"an NFToken id is {NFT_ID_SIZE} bytes, not {len(token_id)}")
