"""``nft_buy_offers``: the buy offers for one NFToken (see ``rpc/nft_offers.py``)."""

from clio_twisted.rpc.nft_offers import BUY as HANDLER

__all__ = ["HANDLER"]
