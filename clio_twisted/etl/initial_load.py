"""Load a whole validated ledger into an empty store: state in parallel key ranges, then the ledger.

The key space is cut into ``num_markers`` equal ranges by first byte (Clio's
partitions); each range walks rippled's ``ledger_data`` (binary) pages from
its start until a page passes its end. Pages are stored as they come
(``write_state_objects``) and fed to the state cache and state map; the ledger
becomes visible only with the final ``write_ledger(is_first=True)``, after the
state hashes to the header's ``account_hash`` (when verifying).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from clio_twisted.backend.cache import StateCache
from clio_twisted.backend.interface import IBackend, LedgerObject, LedgerWrite
from clio_twisted.etl.extract import state_rows
from clio_twisted.etl.fetch import _first_error, fetch_header_and_transactions
from clio_twisted.etl.pool import SourcePool
from clio_twisted.etl.status import LoadProgress
from clio_twisted.etl.verify import (
    StateVerifier,
    VerificationError,
    check_header,
    check_transactions,
)

log = Logger()

PAGE_LIMIT = 2048
KEY_SPACE = 1 << 256


def partitions(num_markers: int) -> list[tuple[bytes | None, bytes | None]]:
    """[(start, end)) key ranges splitting the first byte evenly; None = open end."""
    n = max(1, min(256, num_markers))
    starts = [bytes([i * 256 // n]) + bytes(31) for i in range(n)]
    return [(None if i == 0 else starts[i], starts[i + 1] if i + 1 < n else None) for i in range(n)]


def key_before(key: bytes) -> bytes:
    """The key one less (rippled's ``ledger_data`` marker is exclusive)."""
    return (int.from_bytes(key, "big") - 1).to_bytes(32, "big")


async def initial_load(
    pool: SourcePool,
    backend: IBackend,
    cache: StateCache,
    verifier: StateVerifier | None,
    sequence: int,
    clock: IReactorTime,
    progress: LoadProgress,
    num_markers: int = 16,
    log_interval: float = 5.0,
) -> LedgerWrite:
    """Load ledger ``sequence`` into an empty store; return what was committed."""
    header, header_blob, announced, rows = await fetch_header_and_transactions(pool, sequence)
    check_header(header, announced, None)
    check_transactions(header, rows.transactions)
    progress.sequence = sequence
    progress.started = progress.updated = clock.seconds()
    ranges = partitions(num_markers)
    fractions = [0.0] * len(ranges)
    nfts: list[Any] = []
    holders: list[Any] = []
    last_log = [clock.seconds()]

    async def walk(i: int, start: bytes | None, end: bytes | None) -> None:
        low = int.from_bytes(start, "big") if start else 0
        high = int.from_bytes(end, "big") if end else KEY_SPACE
        marker = key_before(start) if start else None
        while True:
            cmd: dict[str, Any] = {
                "command": "ledger_data",
                "ledger_index": sequence,
                "binary": True,
                "limit": PAGE_LIMIT,
            }
            if marker is not None:
                cmd["marker"] = marker.hex().upper()
            result = await pool.request(cmd, sequence=sequence)
            objects = []
            done = False
            for item in result.get("state", ()):
                key = bytes.fromhex(item["index"])
                if end is not None and key >= end:
                    done = True
                    break
                objects.append(LedgerObject(key, bytes.fromhex(item["data"]), sequence))
            if objects:
                await backend.write_state_objects(sequence, objects)
                cache.update(objects, sequence)
                if verifier is not None:
                    verifier.load(((o.key, o.blob) for o in objects), sequence)
                n, h = state_rows(objects, sequence)
                nfts.extend(n)
                holders.extend(h)
                progress.objects += len(objects)
                fractions[i] = (int.from_bytes(objects[-1].key, "big") - low) / (high - low)
            next_marker = result.get("marker")
            if done or not isinstance(next_marker, str):
                fractions[i] = 1.0
                break
            marker = bytes.fromhex(next_marker)
            if end is not None and marker >= key_before(end):
                fractions[i] = 1.0
                break
            now = clock.seconds()
            progress.updated = now
            progress.fraction = sum(fractions) / len(fractions)
            if now - last_log[0] >= log_interval:
                last_log[0] = now
                eta = progress.eta_seconds()
                log.info(
                    "initial load of ledger {seq}: {objects} objects, {rate:.0f}/s, {pct:.1f}%, ETA {eta}",
                    seq=sequence,
                    objects=progress.objects,
                    rate=progress.rate(),
                    pct=100 * progress.fraction,
                    eta="?" if eta is None else f"{eta:.0f}s",
                )

    await gatherResults(
        [Deferred.fromCoroutine(walk(i, s, e)) for i, (s, e) in enumerate(ranges)],
        consumeErrors=True,
    ).addErrback(_first_error)
    progress.updated = clock.seconds()
    progress.fraction = 1.0
    cache.full = True
    if verifier is not None:
        root = verifier.root_hash()
        if root != header.account_hash:
            raise VerificationError(
                f"ledger {sequence}: loaded state hashes to {root.hex().upper()}, "
                f"header says {header.account_hash.hex().upper()}"
            )
        verifier.sequence = sequence
    write = LedgerWrite(
        sequence=sequence,
        header=header_blob,
        ledger_hash=header.hash,
        objects=(),
        successors=cache.full_links(),
        transactions=rows.transactions,
        account_transactions=rows.account_transactions,
        nfts=[*nfts, *(n for n in rows.nfts if n.is_burned)],
        nft_transactions=rows.nft_transactions,
        mpt_holders=holders,
        is_first=True,
    )
    await backend.write_ledger(write)
    log.info(
        "initial load of ledger {seq} committed: {objects} objects in {secs:.1f}s ({rate:.0f}/s)",
        seq=sequence,
        objects=progress.objects,
        secs=progress.updated - progress.started,
        rate=progress.rate(),
    )
    return write
