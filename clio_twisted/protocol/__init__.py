"""XRPL protocol knowledge: binary codec, hashes, keys, the ledger header."""
