"""``nft_sell_offers``: the sell offers for one NFToken (see ``rpc/nft_offers.py``)."""

from clio_twisted.rpc.nft_offers import SELL as HANDLER

__all__ = ["HANDLER"]
