"""clio-twisted: an XRP Ledger API server in Python on Twisted."""

__version__ = "0.1.0"
