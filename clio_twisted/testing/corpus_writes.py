"""The recorded ledgers as the writes the ETL would make: one :class:`LedgerWrite` per ledger.

Handler tests (an in-memory store) and the HTTP benchmark (a SQLite store)
fill their store from the recorded corpus the same way: each ledger's changed
objects, and the rows the ETL's own extraction derives from its transactions
(account and NFT history, NFT states, MPT holders); the first ledger is a full
state, so its NFT and MPT-holder rows come from the state objects too, as in
an initial load.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from clio_twisted.backend.interface import LedgerObject, LedgerWrite
from clio_twisted.etl.extract import ledger_rows, state_rows, transaction_facts
from clio_twisted.testing.chain import ChainLedger


def corpus_writes(ledgers: Iterable[ChainLedger]) -> Iterator[LedgerWrite]:
    """The write of each ledger in order; the first one is the store's first (``is_first``)."""
    for position, ledger in enumerate(ledgers):
        first = position == 0
        header = ledger.header
        objects = [
            LedgerObject(key, blob or b"", header.sequence)
            for key, blob in sorted(ledger.changes.items())
        ]
        facts = [
            transaction_facts(tx, meta, header.sequence, header.close_time)
            for _hash, tx, meta in ledger.transactions
        ]
        rows = ledger_rows(facts)
        nfts, holders = list(rows.nfts), list(rows.mpt_holders)
        if first:
            state_nfts, state_holders = state_rows(objects, header.sequence)
            nfts, holders = state_nfts + nfts, state_holders + holders
        yield LedgerWrite(
            sequence=header.sequence,
            header=header.to_bytes(),
            ledger_hash=header.hash,
            objects=objects,
            transactions=rows.transactions,
            account_transactions=rows.account_transactions,
            nfts=nfts,
            nft_transactions=rows.nft_transactions,
            mpt_holders=holders,
            is_first=first,
        )
