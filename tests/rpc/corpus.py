"""The recorded rippled 3.1.1 corpus (ledgers 3-270) loaded into an InMemoryBackend.

Handler tests answer from the very ledgers rippled answered from, so their
output can be compared with rippled's recorded answers field for field. The
rows derived from transactions (account and NFT history, NFT states, MPT
holders) come from the ETL's own extraction, as in production. Loading decodes
every transaction once, so the filled store is built once per test process and
shared (tests only read it).
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred

from clio_twisted.backend.interface import LedgerObject, LedgerWrite
from clio_twisted.etl.extract import ledger_rows, state_rows, transaction_facts
from clio_twisted.testing.replay import load_ledgers
from tests.fakes.backend import InMemoryBackend, MemoryStore

DATA = Path(__file__).parent / "data"
FIRST, LAST = 3, 270


@cache
def _store() -> MemoryStore:
    backend = InMemoryBackend()
    d: Deferred[None] = ensureDeferred(_fill(backend))
    failures: list[Any] = []
    d.addErrback(failures.append)
    if failures:
        failures[0].raiseException()
    return backend.store


async def _fill(backend: InMemoryBackend) -> None:
    for position, ledger in enumerate(load_ledgers()):
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
            nfts = state_nfts + nfts
            holders = state_holders + holders
        await backend.write_ledger(
            LedgerWrite(
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
        )


def corpus_backend() -> InMemoryBackend:
    """A read-only backend over the whole corpus (ledgers 3-270)."""
    return InMemoryBackend(store=_store(), read_only=True)


def recorded(method: str) -> list[dict[str, Any]]:
    """The recorded exchanges for ``method`` kept in tests/rpc/data (rippled's and Clio's answers)."""
    with gzip.open(DATA / f"{method}.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f if line.strip()]
