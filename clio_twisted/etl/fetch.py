"""Fetch one validated ledger from the sources: header, transactions, and every changed object.

Nothing here writes: the result is a complete ``FetchedLedger`` or an
exception, so a source dropping mid-ledger never leaves half a ledger behind
(each request fails over to another source on its own).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar, cast

from attrs import field, frozen

from twisted.internet.defer import Deferred, DeferredSemaphore, gatherResults

from clio_twisted.backend.interface import LedgerObject
from clio_twisted.etl.extract import LedgerRows, ledger_rows, skip_list_keys, transaction_facts
from clio_twisted.etl.pool import SourcePool
from clio_twisted.etl.source import JsonDict, SourceError
from clio_twisted.protocol.ledger_header import LedgerHeader

T = TypeVar("T")

# How many ledger_entry requests one ledger keeps in flight.
OBJECT_CONCURRENCY = 64


class IncompleteLedger(SourceError):
    """A source's answers about a ledger do not add up (e.g. a touched object missing)."""


@frozen
class FetchedLedger:
    header: LedgerHeader
    header_blob: bytes
    announced_hash: bytes | None
    rows: LedgerRows
    objects: list[LedgerObject]  # new versions, deletions as b"", in key order
    # each changed key's blob before this ledger (None: absent), filled in at verification
    previous: dict[bytes, bytes | None] = field(factory=dict)


async def bounded_gather(jobs: Iterable[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    """Run coroutine factories with at most ``limit`` at once; results in order."""
    sem = DeferredSemaphore(limit)

    def run(job: Callable[[], Awaitable[T]]) -> Deferred[T]:
        async def go() -> T:
            return await job()

        return sem.run(lambda: Deferred.fromCoroutine(go()))

    results = await gatherResults([run(j) for j in jobs], consumeErrors=True).addErrback(
        _first_error
    )
    return cast(list[T], results)


def _first_error(f: object) -> object:
    from twisted.internet.defer import FirstError
    from twisted.python.failure import Failure

    if isinstance(f, Failure) and f.check(FirstError):
        return f.value.subFailure
    return f


async def fetch_header_and_transactions(
    pool: SourcePool, sequence: int
) -> tuple[LedgerHeader, bytes, bytes | None, LedgerRows]:
    """rippled's ``ledger`` (binary, expanded transactions) -> header and derived rows."""
    result = await pool.request(
        {
            "command": "ledger",
            "ledger_index": sequence,
            "binary": True,
            "transactions": True,
            "expand": True,
        },
        sequence=sequence,
    )
    ledger = result.get("ledger") or {}
    if "ledger_data" not in ledger:
        raise IncompleteLedger(f"ledger {sequence}: answer has no ledger_data")
    header_blob = bytes.fromhex(ledger["ledger_data"])
    header = LedgerHeader.from_bytes(header_blob)
    if header.sequence != sequence:
        raise IncompleteLedger(f"asked ledger {sequence}, got {header.sequence}")
    announced = result.get("ledger_hash")
    facts = [
        transaction_facts(
            bytes.fromhex(t["tx_blob"]), bytes.fromhex(t["meta"]), sequence, header.close_time
        )
        for t in ledger.get("transactions", ())
    ]
    return (
        header,
        header_blob,
        bytes.fromhex(announced) if isinstance(announced, str) else None,
        ledger_rows(facts),
    )


async def fetch_object(pool: SourcePool, key: bytes, sequence: int) -> bytes:
    result: JsonDict = await pool.request(
        {
            "command": "ledger_entry",
            "index": key.hex().upper(),
            "ledger_index": sequence,
            "binary": True,
        },
        sequence=sequence,
    )
    blob = result.get("node_binary")
    if not isinstance(blob, str):
        raise IncompleteLedger(f"ledger_entry {key.hex()} at {sequence}: no node_binary")
    return bytes.fromhex(blob)


async def fetch_ledger(
    pool: SourcePool, sequence: int, concurrency: int = OBJECT_CONCURRENCY
) -> FetchedLedger:
    """Everything ledger ``sequence`` changed, from whichever sources hold it."""
    header, header_blob, announced, rows = await fetch_header_and_transactions(pool, sequence)
    live = sorted((rows.touched - rows.deleted) | set(skip_list_keys(sequence)))

    def job(key: bytes) -> Callable[[], Awaitable[bytes]]:
        return lambda: fetch_object(pool, key, sequence)

    blobs = await bounded_gather([job(k) for k in live], concurrency)
    objects = [LedgerObject(k, b, sequence) for k, b in zip(live, blobs, strict=True)]
    objects.extend(LedgerObject(k, b"", sequence) for k in rows.deleted)
    objects.sort(key=lambda o: o.key)
    return FetchedLedger(header, header_blob, announced, rows, objects)
